"""``programs-bot doctor``: what an administrator would otherwise find out by trial, wiki by
wiki. Each finding says what is fine, or what to do, in the administrator's words; nothing
is changed anywhere.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pywikibot
import requests
from pywikibot.exceptions import Error as PywikibotError
from pywikibot.site import APISite

from bot.core.errors import ConfigError, ProgramsBotError, StopPageError
from bot.core.settings import BotConfig
from bot.core.special_pages import no_such_special_page
from bot.jobs.deploy import gadget_plan, planned_pages, wiki_language
from bot.store import Store
from bot.wiki.edit import check_stop_page, default_stop_page
from bot.wiki.sites import host_of, site_for_host

log = logging.getLogger(__name__)

#: Extensions the templates and the gadget cannot work without.
NEEDED_EXTENSIONS = {
    "ParserFunctions": "the templates use {{#if:}} and {{#time:}}",
    "Gadgets": "the Join button is a gadget",
}
#: The API configuration (as for the Join API) that tells which OAuth consumers to check.
API_CONFIG_ENV = "PROGRAMS_API_CONFIG"


@dataclass(frozen=True)
class Finding:
    """One check: where, whether it is fine, and what was found or what to do."""

    where: str
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'OK ' if self.ok else 'FIX'}  {self.where}: {self.message}"


def diagnose(
    home: APISite,
    config: BotConfig,
    *,
    store_url: str,
    stop_page: str | None = None,
    api_config: Path | None = None,
) -> list[Finding]:
    """Every finding, for the store, the home wiki and every wiki of the bot's settings,
    and the OAuth consumers of the Join API's configuration when one is given."""
    findings = list(_store(store_url))
    hosts = [host_of(home), *(h for h in config.wikis if h != host_of(home))]
    for host in hosts:
        findings += _wiki(host, home if host == host_of(home) else None, config, stop_page)
    if api_config is not None:
        findings += _oauth(api_config)
    return findings


def api_config_path() -> Path | None:
    """The Join API's configuration file, if ``PROGRAMS_API_CONFIG`` names one."""
    named = os.environ.get(API_CONFIG_ENV)
    return Path(named) if named else None


# -- the store ----------------------------------------------------------------------------


def _store(url: str) -> Iterator[Finding]:
    where = "store"
    try:
        store = Store(url, migrate=False)
        pending = store.pending_migrations()
    except ProgramsBotError as error:
        yield Finding(where, False, f"cannot be opened ({error}); check --db or PROGRAMS_BOT_DB")
        return
    if pending:
        yield Finding(
            where,
            False,
            f"its schema lacks {len(pending)} migration(s) ({', '.join(pending)}): "
            "run programs-bot migrate",
        )
    else:
        shown = store.engine.url.render_as_string()  # the password hidden
        yield Finding(where, True, f"{shown} is reachable and up to date")


# -- one wiki -----------------------------------------------------------------------------


def _wiki(
    host: str, site: APISite | None, config: BotConfig, stop_page: str | None
) -> Iterator[Finding]:
    try:
        site = site or site_for_host(host, login=False)
        generator = str(site.siteinfo["generator"])
    except (ProgramsBotError, PywikibotError, OSError) as error:
        yield Finding(
            host,
            False,
            f"does not answer ({error}): check its family file in user-config.py and that "
            "its api.php can be reached from here",
        )
        return
    yield Finding(host, True, f"{generator} answers")
    login = _login(site)
    yield login
    if not login.ok:
        return
    yield from _account(site)
    yield from _extensions(site)
    settings = config.wiki(host)
    try:
        plan = gadget_plan(site, settings.api_url)
    except ConfigError as error:
        yield Finding(host, False, f"{error}: correct api_url in programs-bot.toml")
    else:
        yield Finding(host, plan.install, plan.note)
        language = wiki_language(site, settings.language)
        yield _pages(site, planned_pages(language, plan.api_url, gadget=plan.install))
    yield _stop_page(site, stop_page)


def _login(site: APISite) -> Finding:
    host = host_of(site)
    try:
        site.login()
    except PywikibotError as error:
        return Finding(host, False, f"the bot cannot log in ({error}): check user-password.py")
    if not site.logged_in():
        return Finding(
            host,
            False,
            "the bot is not logged in: user-config.py needs usernames[...] for this wiki and "
            "user-password.py its BotPassword",
        )
    return Finding(host, True, f"the bot logs in as {site.username()}")


def _account(site: APISite) -> Iterator[Finding]:
    host, name = host_of(site), site.username()
    if site.has_group("bot"):
        yield Finding(host, True, f"{name} has the bot flag: its edits are marked as bot edits")
    else:
        yield Finding(
            host,
            False,
            f"{name} is not in the bot group: a bureaucrat adds it on Special:UserRights/{name}",
        )
    if site.has_right("apihighlimits"):
        yield Finding(host, True, "high-volume access: 500 names and 5,000 rows per request")
    else:
        yield Finding(
            host,
            False,
            "no high-volume access: give the BotPassword the grant 'High-volume (bot) access' "
            "on Special:BotPasswords (the bot then asks 10 times fewer requests)",
        )
    missing = [right for right in ("edit", "createpage") if not site.has_right(right)]
    if missing:
        yield Finding(
            host,
            False,
            f"the bot may not {' and '.join(missing)}: give the BotPassword the grants 'Edit "
            "existing pages' and 'Create, edit, and move pages'",
        )


def _extensions(site: APISite) -> Iterator[Finding]:
    host = host_of(site)
    installed = {str(extension.get("name", "")) for extension in site.siteinfo["extensions"]}
    for name, why in NEEDED_EXTENSIONS.items():
        if name in installed:
            yield Finding(host, True, f"Extension:{name} is installed")
        else:
            yield Finding(
                host,
                False,
                f"Extension:{name} is missing ({why}): it comes with MediaWiki; add "
                f"wfLoadExtension( '{name}' ); to LocalSettings.php",
            )


def _pages(site: APISite, planned: dict[str, Callable[[str], str]]) -> Finding:
    """Whether every page deploy writes is on the wiki as deploy would write it."""
    host = host_of(site)
    # By the wiki's own form of each title (its language's namespace names).
    wanted = {pywikibot.Page(site, title).title(): make for title, make in planned.items()}
    seen: set[str] = set()
    outdated = []
    for page in site.preloadpages([pywikibot.Page(site, title) for title in wanted]):
        if page.exists():
            seen.add(page.title())
            # MediaWiki strips trailing whitespace on save; deploy compares the same way.
            if wanted[page.title()](page.text).rstrip() != page.text.rstrip():
                outdated.append(page.title())
    missing = [title for title in wanted if title not in seen]
    if not missing and not outdated:
        return Finding(host, True, f"the {len(wanted)} pages deploy writes are current")
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if outdated:
        problems.append(f"{len(outdated)} changed on the wiki or outdated (e.g. {outdated[0]})")
    return Finding(
        host, False, f"templates and gadget: {', '.join(problems)}: run programs-bot deploy"
    )


def _stop_page(site: APISite, title: str | None) -> Finding:
    host, page = host_of(site), title or default_stop_page(site)
    try:
        check_stop_page(site, page)
    except StopPageError:
        return Finding(
            host, False, f"the emergency stop page {page} stops the bot: empty it to let it edit"
        )
    except ProgramsBotError as error:
        return Finding(host, False, f"the stop page {page} cannot be read: {error}")
    return Finding(host, True, f"the emergency stop page {page} lets the bot edit")


# -- the Join API's OAuth consumers ---------------------------------------------------------


def _oauth(path: Path) -> list[Finding]:
    try:
        wikis: Sequence[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8")).get(
            "wikis", []
        )
    except (OSError, tomllib.TOMLDecodeError) as error:
        return [Finding(str(path), False, f"the Join API's configuration cannot be read: {error}")]
    return [_consumer(wiki) for wiki in wikis if isinstance(wiki, dict)]


def _consumer(wiki: dict[str, Any]) -> Finding:
    host, index = str(wiki.get("host", "?")), str(wiki.get("oauth_url", ""))
    where = f"{host} (Join API)"
    try:
        # Unsigned: enough to tell whether the wiki has the special page at all.
        answer = requests.post(index, params={"title": "Special:OAuth/initiate"}, timeout=15)
    except requests.RequestException as error:
        return Finding(where, False, f"{index} cannot be reached: {error}")
    if no_such_special_page(answer.headers.get("Content-Type", ""), answer.text):
        return Finding(
            where,
            False,
            "the wiki has no Special:OAuth: install Extension:OAuth (not bundled with "
            "MediaWiki), or use the Join button without the Join API",
        )
    try:
        import mwoauth  # the api extra
    except ImportError:
        return Finding(where, True, "Special:OAuth exists (install the api extra to check the key)")
    consumer = mwoauth.ConsumerToken(
        str(wiki.get("consumer_key", "")), str(wiki.get("consumer_secret", ""))
    )
    try:
        mwoauth.initiate(index, consumer, callback="oob")
    except Exception as error:  # mwoauth raises OAuthException, requests' and others
        return Finding(
            where,
            False,
            f"Special:OAuth refuses the consumer ({error}): check consumer_key and "
            "consumer_secret, and that an OAuth administrator approved the consumer",
        )
    return Finding(where, True, "Special:OAuth accepts the consumer's key and secret")
