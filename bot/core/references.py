"""References added: how many references a revision's text holds, and what a revision
added over its parent (metrics.md, "References added")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Comments and nowiki/pre sections hold no references; <ref> inside them is text.
_INERT = re.compile(r"<!--.*?(?:-->|\Z)|<(nowiki|pre)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I)
_REF = re.compile(r"<ref\b([^>]*?)(/\s*>|>(.*?)</ref\s*>)", re.S | re.I)
_NAME = re.compile(r"""\bname\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'/>]+))""", re.I)
_SPACE = re.compile(r"\s+")


def reference_keys(text: str) -> frozenset[str]:
    """The distinct references of a wikitext: a named one by its name (its re-uses
    ``<ref name="x" />`` are the same reference), an unnamed one by its content."""
    keys: set[str] = set()
    for found in _REF.finditer(_INERT.sub(" ", text)):
        attributes, body = found.group(1), found.group(3)
        named = _NAME.search(attributes)
        name = next((g for g in named.groups() if g is not None), "") if named else ""
        if name.strip():
            keys.add("name:" + _SPACE.sub(" ", name.strip()))
        elif body is not None and body.strip():
            keys.add("text:" + _SPACE.sub(" ", body.strip()))
    return frozenset(keys)


def count_references(text: str) -> int:
    return len(reference_keys(text))


@dataclass(frozen=True, slots=True)
class RevisionReferences:
    """What the store keeps of one revision's text: its parent and its references
    (None: the text could not be read, deleted or hidden)."""

    parentid: int
    references: int | None


def added_by(revid: int, known: Mapping[int, RevisionReferences]) -> int:
    """The references a revision added: how many more its text holds than its parent's
    (never below zero; 0 when either text is unknown). A page's first revision adds all
    it holds."""
    this = known.get(revid)
    if this is None or this.references is None:
        return 0
    if this.parentid == 0:
        return this.references
    parent = known.get(this.parentid)
    if parent is None or parent.references is None:
        return 0
    added = this.references - parent.references
    return added if added > 0 else 0  # not max(): called for every counted article edit
