"""Write ``<lang>.json`` here: the names of the languages of Wikimedia's language editions
(``de`` of de.wikipedia.org), as the CLDR gives them in ``<lang>``.

programs-bot names a wiki such as de.wikipedia.org "German Wikipedia" (in German
"deutschsprachige Wikipedia") from these files, offline. Run with Pywikibot (for the
language codes of its Wikimedia families) and Babel (for the CLDR) importable:

    pip install babel
    python i18n/languages/generate.py en de

Codes the CLDR has no name for in a language are left out; the bot then names such a
wiki by its host.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from bot.core.wikinames import PROJECTS  # the projects the bot names by language

HERE = Path(__file__).resolve().parent


#: Subdomains that are not the CLDR code of their language.
CLDR_CODES = {
    "als": "gsw",
    "bat-smg": "sgs",
    "fiu-vro": "vro",
    "nds-nl": "nds_NL",
    "roa-rup": "rup",
    "zh-classical": "lzh",
    "zh-min-nan": "nan",
    "zh-yue": "yue",
}

#: Where the CLDR's name is not the one the wiki's readers use, or does not make a compound
#: ("Ägyptisches Arabisch" would make no German "...sprachige Wikipedia"; a qualifier in
#: parentheses cannot stand before "Wikipedia").
OVERRIDES = {
    "en": {"als": "Alemannic", "zh-classical": "Classical Chinese", "zh-yue": "Cantonese"},
    "de": {
        "als": "Alemannisch",
        "ary": "Marokkanisch-Arabisch",
        "arz": "Ägyptisch-Arabisch",
        "gd": "Schottisch-Gälisch",
        "la": "Lateinisch",
        "lrc": "Nordluri",
        "lzh": "Klassisch-Chinesisch",
        "nn": "Nynorsk",
        "pcm": "Nigerianisch-Pidgin",
        "szl": "Schlesisch",
        "zh-classical": "Klassisch-Chinesisch",
    },
}

#: Subdomains that are no language (bot.core.wikinames knows their names).
NOT_LANGUAGES = {"simple", "test", "test2", "beta", "www", "-"}


def wikimedia_codes() -> list[str]:
    """The subdomains of Pywikibot's Wikimedia language-edition families."""
    os.environ.setdefault("PYWIKIBOT_DIR", tempfile.mkdtemp())
    config = Path(os.environ["PYWIKIBOT_DIR"]) / "user-config.py"
    if not config.exists():
        config.write_text("family = 'wikipedia'\nmylang = 'en'\n", encoding="utf-8")
    from pywikibot.family import Family

    codes: set[str] = set()
    for project in PROJECTS:
        codes |= {code for code, host in Family.load(project).langs.items() if host}
    return sorted(codes - NOT_LANGUAGES)


def names(lang: str, codes: list[str]) -> dict[str, str]:
    """The CLDR names in ``lang``, one word or joined by hyphens, keyed by subdomain."""
    from babel import Locale

    cldr = Locale.parse(lang).languages
    found: dict[str, str] = {}
    for code in codes:
        name = OVERRIDES.get(lang, {}).get(code) or cldr.get(CLDR_CODES.get(code, code))
        if not name or "(" in name:
            continue
        found[code] = name if lang == "en" else name.replace(" ", "-")
    return found


def main(langs: list[str]) -> None:
    import babel

    codes = wikimedia_codes()
    for lang in langs:
        data = {
            "@metadata": {
                "source": f"CLDR via Babel {babel.__version__}; i18n/languages/generate.py",
                "language": lang,
            },
            **names(lang, codes),
        }
        path = HERE / f"{lang}.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent="\t") + "\n", "utf-8")
        print(f"{path}: {len(data) - 1} names of {len(codes)} codes")


if __name__ == "__main__":
    main(sys.argv[1:] or ["en", "de"])
