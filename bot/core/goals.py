"""Goals organizers set for a program (``goals=`` in {{Program details}}), and how far the
figures have come towards each."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.core.pageformat import CONTENT_FIELDS, OUTCOME_FIELDS

#: The figures a goal can be set for: the program's total figures, the participants, and
#: the program-level figures.
GOAL_FIGURES = (
    "participants",
    *(figure for figure in OUTCOME_FIELDS if figure != "deleted"),
    *CONTENT_FIELDS,
    "new_editors",
    "file_usage",
    "pageviews",
)
#: Shorter names organizers may write.
_ALIASES = {"references": "references_added"}
_GOAL = re.compile(r"\s*([A-Za-z][A-Za-z _]*?)\s*[:=]\s*([0-9][0-9,.\s]*)\s*")


def parse_goals(raw: str) -> tuple[tuple[tuple[str, int], ...], tuple[str, ...]]:
    """``goals=articles created: 20, participants: 15`` as (figure, target) pairs, and the
    parts that are no goal (an unknown figure, a target that is no whole number above 0).
    Figures are written with spaces or underscores, in any case; thousands may be grouped
    (``bytes added: 10,000`` is ten thousand). A figure given twice: the last counts."""
    goals: dict[str, int] = {}
    bad: list[str] = []
    for part in re.split(r";|,(?![0-9]{3}\b)", raw):
        if not part.strip():
            continue
        found = _GOAL.fullmatch(part)
        figure = found[1].strip().lower().replace(" ", "_") if found else ""
        figure = _ALIASES.get(figure, figure)
        digits = re.sub(r"[,.\s]", "", found[2]) if found else ""
        if figure in GOAL_FIGURES and digits.isdigit() and len(digits) <= 12 and int(digits):
            goals.pop(figure, None)
            goals[figure] = int(digits)
        else:
            bad.append(part.strip())
    return tuple(goals.items()), tuple(bad)


def progress(
    goals: tuple[tuple[str, int], ...], reached: Mapping[str, int | None]
) -> list[tuple[str, int, int | None]]:
    """Each goal with what the figures reached (None: not known yet, such as pageviews
    where no pageview service exists)."""
    return [(figure, target, reached.get(figure)) for figure, target in goals]
