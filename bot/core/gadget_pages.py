"""The gadget's pages (the Join button) as ``programs-bot deploy`` puts them on a wiki.

Pure functions, no Pywikibot: the deploy command saves what they return, and the tests
check it without a wiki.

- ``gadget_pages(api_url, lang)``: title -> text of ``MediaWiki:Gadget-programs-bot.js`` (the
  script with its configuration filled in), ``.css``, the description message
  ``MediaWiki:Gadget-programs-bot`` and the section heading message
  ``MediaWiki:Gadget-section-programs-bot``. With the Join API's URL the gadget works
  through that API (the ``join-api`` mode); without one (``None``) it edits the program
  page as the signed-in user through the wiki's own API (the ``wiki-edit`` mode).
- ``merge_definition(existing)``: ``MediaWiki:Gadgets-definition`` with the gadget's line
  added or replaced, every other line kept byte for byte.

The configuration contract with ``wikitemplates/gadget/programs-bot.js``: the script holds
the placeholder ``/*CONFIG*/{}/*END*/`` exactly once; it is replaced by
``/*CONFIG*/<json>/*END*/`` with the object described in the script's header (mode, lang,
messages, formats, knownParams; apiUrl, apiOrigin and pollSeconds in the join-api mode).
The JSON is written so that no string in it can end the script (``<``, ``>``, ``&``, ``/``
escaped; so the object also ends at the first ``/*END*/``) or be rewritten by MediaWiki's
pre-save transform, which also runs on JavaScript pages (``~~~~`` signatures,
``{{subst:}}``, the ``[[a|]]`` pipe trick: ``~ [ ] { } |`` are escaped inside strings).
Texts are returned as MediaWiki stores them (no trailing whitespace), so a deploy can
compare them with the wiki's copy as is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from urllib.parse import urlsplit

from bot.core import resources
from bot.core.errors import ConfigError
from bot.core.pageformat import DETAILS_PARAMS, ROW_PARAMS, PageFormat, available_formats

GADGET_NAME = "programs-bot"
#: The Gadgets-definition section (``== programs-bot ==``) the line goes under when new.
SECTION = "programs-bot"
GADGET_DIR = resources.wikitemplates("gadget")
MESSAGES_DIR = resources.i18n("gadget")
MESSAGE_PREFIX = "programs-bot-gadget-"
PLACEHOLDER = "/*CONFIG*/{}/*END*/"
SCRIPT_PAGE = f"MediaWiki:Gadget-{GADGET_NAME}.js"
STYLE_PAGE = f"MediaWiki:Gadget-{GADGET_NAME}.css"
DESCRIPTION_PAGE = f"MediaWiki:Gadget-{GADGET_NAME}"
SECTION_PAGE = f"MediaWiki:Gadget-section-{SECTION}"
DEFINITION_PAGE = "MediaWiki:Gadgets-definition"
#: ResourceLoader modules the script uses (all shipped with MediaWiki 1.39 and 1.43). The
#: buttons' styles are loaded by the script itself: Codex (``codex-styles``) where the wiki
#: has it, else ``mediawiki.ui.button`` (1.39), which 1.43 reports as deprecated. A module
#: named here that a wiki lacks would stop the gadget from loading there.
DEPENDENCIES = (
    "mediawiki.api",
    "mediawiki.jqueryMsg",
    "mediawiki.util",
    "mediawiki.language",
)
#: The two ways the Join button works (the configuration's ``mode``).
JOIN_API_MODE = "join-api"
WIKI_EDIT_MODE = "wiki-edit"
#: The templates the wiki-edit mode reads and writes, by canonical name, and the
#: parameters whose names it needs.
_FORMAT_TEMPLATES = (
    PageFormat.details,
    PageFormat.table_start,
    PageFormat.row,
    PageFormat.table_end,
)
#: Seconds between the gadget's checks whether the bot has written a join.
POLL_SECONDS = 3
#: Messages used by the wiki (preferences, Special:Gadgets), not by the script.
WIKI_MESSAGES = (MESSAGE_PREFIX + "description", MESSAGE_PREFIX + "section")

_LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")
#: Escaped inside JSON strings: script and HTML enders (and "/", so that neither "*/" nor
#: the END marker can appear inside the object), and what the pre-save transform would
#: rewrite. ensure_ascii already escapes U+2028 and U+2029.
_STRING_ESCAPES = {"/": "\\/", **{c: f"\\u{ord(c):04x}" for c in "<>&~[]{}|"}}
_HEADING_RE = re.compile(r"^==+ *([^*:\s|]+)\s*(?<!=)==+\s*$")
_OWN_LINE_RE = re.compile(r"^\*+ *" + re.escape(GADGET_NAME) + r"\s*[\[|]")
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
#: A line with its ending, as MediaWiki splits the definition (\r\n, \r or \n only).
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


# -- messages --------------------------------------------------------------------------------


def message_languages() -> list[str]:
    """The languages the gadget's messages exist in (``qqq``, the documentation, excluded)."""
    return [lang for lang in resources.stems(MESSAGES_DIR, ".json") if lang != "qqq"]


def own_messages(lang: str) -> dict[str, str]:
    """The messages translated into ``lang`` (none for a language without a file)."""
    return dict(resources.banana_messages(MESSAGES_DIR / f"{_check_lang(lang)}.json"))


def messages(lang: str) -> dict[str, str]:
    """Every message in ``lang``, falling back to English key by key."""
    english = own_messages("en")
    if not english:
        raise ConfigError(f"the gadget's English messages are missing: {MESSAGES_DIR / 'en.json'}")
    translated = own_messages(lang)
    return {key: translated.get(key, text) for key, text in english.items()}


def _check_lang(lang: str) -> str:
    if not _LANG_RE.match(lang):
        raise ConfigError(f"not a language code: {lang!r}")
    return lang


# -- the configuration -----------------------------------------------------------------------


def api_origin(api_url: str) -> str:
    """``scheme://host[:port]`` of the API's base URL, as browsers write an origin."""
    parts = urlsplit(api_url)
    default = {"http": 80, "https": 443}[parts.scheme]
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = parts.port
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def check_api_url(api_url: str) -> str:
    url = api_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as error:
        raise ConfigError(f"the Join API's URL {api_url!r} is not a URL: {error}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the Join API's URL must be http(s)://host[/path], not {api_url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"the Join API's URL must have no query, fragment or credentials: {api_url!r}"
        )
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise ConfigError(f"the Join API's URL contains spaces or controls: {api_url!r}")
    return url


def page_formats() -> list[dict[str, object]]:
    """The template and parameter names of every language (English first), for the
    wiki-edit mode: it reads a page in whichever language it is written in (as
    ``bot.core.program_page.detect_format`` tells it) and writes a row in that language."""
    return [
        {
            "lang": fmt.lang,
            "namespace": fmt.template_namespace,
            "names": {key: fmt.name(key) for key in _FORMAT_TEMPLATES},
            "params": {key: dict(fmt.local_params.get(key, {})) for key in (fmt.details, fmt.row)},
            "values": dict(fmt.local_values),
        }
        for fmt in available_formats()
    ]


def gadget_config(
    api_url: str | None, lang: str, *, languages: Collection[str] | None = None
) -> dict[str, object]:
    """The object the script's CONFIG placeholder is replaced with.

    With ``api_url`` the join-api mode (the API's URL and origin, the poll interval);
    without, the wiki-edit mode. Both carry ``formats`` (see page_formats) and the
    English names of the parameters the page format knows (``knownParams``).

    ``messages[lang]`` is complete (English fallback key by key); the other languages of
    ``languages`` (default: every translation) carry only their own messages, so that a
    reader with another interface language (``uselang``, preferences) gets their language
    where it is translated: the script falls back along MediaWiki's language chain, then to
    ``lang``.
    """
    url = check_api_url(api_url) if api_url is not None else None
    _check_lang(lang)
    wanted = message_languages() if languages is None else sorted(set(languages))

    def for_script(texts: dict[str, str]) -> dict[str, str]:
        return {key: text for key, text in texts.items() if key not in WIKI_MESSAGES}

    all_messages: dict[str, dict[str, str]] = {lang: for_script(messages(lang))}
    for other in wanted:
        if other != lang:
            own = for_script(own_messages(other))
            if own:
                all_messages[other] = own
    config: dict[str, object] = {"mode": WIKI_EDIT_MODE if url is None else JOIN_API_MODE}
    if url is not None:
        config.update(apiUrl=url, apiOrigin=api_origin(url), pollSeconds=POLL_SECONDS)
    config.update(
        lang=lang,
        messages=all_messages,
        formats=page_formats(),
        knownParams={
            PageFormat.details: sorted(DETAILS_PARAMS),
            PageFormat.row: sorted(ROW_PARAMS),
        },
    )
    return config


def script_json(value: object) -> str:
    """JSON for the script page: cannot end a script, nor be changed by the pre-save transform.

    Dictionaries, lists, strings, numbers, booleans and None; escapes are only ever made
    inside strings, where ``\\uXXXX`` means the same character.
    """
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=True)
        return "".join(_STRING_ESCAPES.get(c, c) for c in text)
    if isinstance(value, Mapping):
        items = (f"{script_json(str(k))}:{script_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(script_json(v) for v in value) + "]"
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value, allow_nan=False)
    raise TypeError(f"cannot write {type(value).__name__} into the gadget's configuration")


def _source(name: str) -> str:
    text = (GADGET_DIR / name).read_text(encoding="utf-8")
    return text.replace("\r\n", "\n")


def render_script(config: Mapping[str, object]) -> str:
    """The gadget's script with ``config`` in place of its placeholder."""
    source = _source(f"{GADGET_NAME}.js")
    count = source.count(PLACEHOLDER)
    if count != 1:
        raise ConfigError(
            f"{GADGET_DIR / (GADGET_NAME + '.js')} must contain {PLACEHOLDER} exactly once, "
            f"not {count} times"
        )
    filled = "/*CONFIG*/" + script_json(config) + "/*END*/"
    return source.replace(PLACEHOLDER, filled).rstrip()


def gadget_pages(
    api_url: str | None, lang: str, *, languages: Collection[str] | None = None
) -> dict[str, str]:
    """Title -> text of every page the gadget needs on a wiki whose language is ``lang``;
    ``api_url`` None for the wiki-edit mode.

    ``MediaWiki:Gadgets-definition`` is not among them: merge_definition() edits it.
    """
    config = gadget_config(api_url, lang, languages=languages)
    texts = messages(lang)
    return {
        SCRIPT_PAGE: render_script(config),
        STYLE_PAGE: _source(f"{GADGET_NAME}.css").rstrip(),
        DESCRIPTION_PAGE: texts[MESSAGE_PREFIX + "description"].rstrip(),
        SECTION_PAGE: texts[MESSAGE_PREFIX + "section"].rstrip(),
    }


# -- MediaWiki:Gadgets-definition ------------------------------------------------------------


def definition_line(*, default: bool = True) -> str:
    """The gadget's line in MediaWiki:Gadgets-definition (MediaWiki 1.39 syntax, which
    1.43's Gadgets reads the same way; 1.43 no longer has ``targets`` and ignores it).

    ``default``: on for everyone, logged-out readers included (users may switch it off in
    their preferences); without it, users switch it on in Special:Preferences. Loaded only
    when pages are viewed (``actions=view``), on desktop and mobile; the script itself stops
    at once on pages without a program.
    """
    options = ["ResourceLoader"]
    if default:
        options.append("default")
    options += [
        "dependencies=" + ",".join(DEPENDENCIES),
        "actions=view",
        "targets=desktop,mobile",
        "supportsUrlLoad",
    ]
    return (
        f"* {GADGET_NAME}[{'|'.join(options)}]"
        f"|{SCRIPT_PAGE.removeprefix('MediaWiki:Gadget-')}"
        f"|{STYLE_PAGE.removeprefix('MediaWiki:Gadget-')}"
    )


def _commented_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _COMMENT_RE.finditer(text)]


def _commented_out(text: str) -> bool:
    """Whether an HTML comment holds a line of the gadget (``<!-- * programs-bot|... -->``)."""
    for match in _COMMENT_RE.finditer(text):
        body = match.group(0).removeprefix("<!--").removesuffix("-->")
        if any(_OWN_LINE_RE.match(part.strip()) for part in re.split(r"\r\n|\r|\n", body)):
            return True
    return False


def _is_default(line: str) -> bool:
    match = re.match(r"^\*+ *[^\[|]*\[([^\]]*)\]", line)
    if not match:
        return False
    return any(option.strip() == "default" for option in match.group(1).split("|"))


def merge_definition(existing_text: str, *, default: bool | None = None) -> str:
    """``existing_text`` with the gadget's line added, or put in place of the existing one.

    Every other line stays byte for byte. A definition already there is replaced in place
    (a second one, which MediaWiki would let win, is removed); without one the line goes
    under the ``== programs-bot ==`` heading, which is added at the end when missing.
    ``default=None`` keeps the community's choice of the ``default`` option when the line
    exists (on by default when adding it). A line inside an HTML comment does not count, but
    while the gadget's only line is commented out nothing is changed: that is how a wiki
    switches the gadget off.
    """
    lines = _LINE_RE.findall(existing_text)
    comments = _commented_spans(existing_text)
    offsets, position = [], 0
    for line in lines:
        offsets.append(position)
        position += len(line)

    def commented(index: int) -> bool:
        start = offsets[index]
        return any(a <= start < b for a, b in comments)

    own = [i for i, line in enumerate(lines) if _OWN_LINE_RE.match(line) and not commented(i)]
    if not own and _commented_out(existing_text):
        return existing_text  # switched off by commenting the line out
    if own:
        keep_default = _is_default(lines[own[0]]) if default is None else default
        first = lines[own[0]]
        ending = first[len(first.rstrip("\r\n")) :]
        lines[own[0]] = definition_line(default=keep_default) + ending
        for index in reversed(own[1:]):
            del lines[index]
        return "".join(lines)

    new_line = definition_line(default=True if default is None else default)
    for index, line in enumerate(lines):
        heading = _HEADING_RE.match(line.rstrip("\r\n"))
        if heading and heading.group(1) == SECTION and not commented(index):
            if not line.endswith(("\n", "\r")):
                lines[index] = line + "\n"
            lines.insert(index + 1, new_line + ("\n" if index + 1 < len(lines) else ""))
            return "".join(lines)

    section = f"== {SECTION} ==\n{new_line}"
    if not existing_text.strip():
        return section
    if existing_text.endswith("\n\n"):
        return existing_text + section
    if existing_text.endswith("\n"):
        return existing_text + "\n" + section
    return existing_text + "\n\n" + section


__all__ = [
    "DEFINITION_PAGE",
    "DEPENDENCIES",
    "DESCRIPTION_PAGE",
    "GADGET_NAME",
    "JOIN_API_MODE",
    "PLACEHOLDER",
    "SCRIPT_PAGE",
    "SECTION",
    "SECTION_PAGE",
    "STYLE_PAGE",
    "WIKI_EDIT_MODE",
    "api_origin",
    "definition_line",
    "gadget_config",
    "gadget_pages",
    "merge_definition",
    "message_languages",
    "messages",
    "own_messages",
    "page_formats",
    "render_script",
    "script_json",
]
