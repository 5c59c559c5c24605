"""``programs-bot doctor`` on the real local wikis: each finding matches what the wiki's own
tables say, and what it asks for is what makes the finding go away."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import Farm
from harness.pywikibot_config import PASSWORD_FILE, USER_CONFIG, user_config_text

pytestmark = pytest.mark.wiki
pywikibot = pytest.importorskip("pywikibot")

from bot.core.settings import BotConfig, WikiSettings  # noqa: E402
from bot.jobs.deploy import deploy  # noqa: E402
from bot.jobs.doctor import Finding, diagnose  # noqa: E402
from bot.store import Store  # noqa: E402


def lines(findings: list[Finding]) -> str:
    return "\n".join(finding.line() for finding in findings)


def test_a_fresh_wiki_and_store_get_told_what_to_do_and_then_pass(
    wikis: Farm, tmp_path: Path
) -> None:
    site = pywikibot.Site(wikis.content.name, wikis.content.name)
    url = f"sqlite:///{tmp_path / 'doctor.sqlite'}"
    config = BotConfig({"unknown.example.org": WikiSettings()})
    first = diagnose(site, config, store_url=url)
    report = lines(first)
    host = wikis.content.host
    # What the wiki's own tables say of the bot account.
    groups = {
        row[0].decode() if isinstance(row[0], bytes) else row[0]
        for row in wikis.content.sql(
            "SELECT ug_group FROM user_groups JOIN user ON user_id = ug_user WHERE user_name = ?",
            (wikis.content.bot_username,),
        )
    }
    assert "bot" in groups
    assert f"OK   {host}: the bot logs in as {wikis.content.bot_username}" in report
    assert f"OK   {host}: {wikis.content.bot_username} has the bot flag" in report
    assert f"OK   {host}: high-volume access" in report
    assert re.search(rf"OK   {re.escape(host)}: MediaWiki 1\.\d+\.\d+ answers", report)
    assert f"OK   {host}: Extension:ParserFunctions is installed" in report
    missing = (
        rf"FIX  {re.escape(host)}: templates and gadget: \d+ missing .*run programs-bot deploy"
    )
    assert re.search(missing, report)
    versions = Path(__file__).parent.parent / "bot/store/migrations/versions"
    every = len(list(versions.glob("0*.py")))  # a fresh store lacks every one
    assert every >= 11
    assert f"FIX  store: its schema lacks {every} migration(s)" in report
    assert "FIX  unknown.example.org: does not answer" in report
    assert f"OK   {host}: the emergency stop page User:{wikis.content.bot_username}/Stop" in report

    deploy(site)
    Store(url).migrate()
    wikis.content.admin_client().edit(f"User:{wikis.content.bot_username}/Stop", "stop")
    second = lines(diagnose(site, BotConfig(), store_url=url))
    assert re.search(rf"OK   {re.escape(host)}: the \d+ pages deploy writes are current", second)
    assert f"OK   {host}: the Join gadget in the wiki-edit mode" in second
    assert "OK   store: " in second and "FIX  store" not in second
    assert f"FIX  {host}: the emergency stop page" in second
    assert "unknown.example.org" not in second

    wikis.content.admin_client().edit("Template:Program notice", "changed by hand")
    third = lines(diagnose(site, BotConfig(), store_url=url))
    assert "1 changed on the wiki or outdated (e.g. Template:Program notice)" in third

    # The docs' placeholder left as the Join API's URL: named, and the other checks go on.
    placeholder = BotConfig({host: WikiSettings(api_url="<Join API URL>")})
    fourth = lines(diagnose(site, placeholder, store_url=url))
    assert re.search(
        rf"FIX  {re.escape(host)}: the Join API's URL .*'<Join API URL>'.*: correct api_url "
        r"in programs-bot\.toml",
        fourth,
    ), fourth
    assert f"FIX  {host}: the emergency stop page" in fourth


def test_an_account_without_the_bot_flag_or_grants_is_told_what_it_lacks(
    wikis: Farm, tmp_path: Path
) -> None:
    """As written in the docs, with an account made as an administrator might: no bot
    group, a BotPassword with only the basic and edit grants."""
    wiki = wikis.content
    wiki.create_user("Limited bot")
    output = wiki.maintenance(
        "createBotPassword.php", "--grants=basic,editpage", "--appid=doctor", "Limited bot"
    )
    password = re.search(r"password:'([0-9a-z]{32,})'", output)
    assert password is not None, output
    directory = tmp_path / "pywikibot"
    directory.mkdir()
    families = {wiki.name: wiki.api_url}
    (directory / USER_CONFIG).write_text(
        user_config_text(families, wiki.name, usernames={wiki.name: "Limited bot"}),
        encoding="utf-8",
    )
    (directory / PASSWORD_FILE).write_text(
        f"({wiki.name!r}, {wiki.name!r}, 'Limited bot', BotPassword('doctor', {password[1]!r}))\n",
        encoding="utf-8",
    )
    os.chmod(directory / PASSWORD_FILE, 0o600)
    env = {**os.environ, "PYWIKIBOT_DIR": str(directory)}
    env.pop("PROGRAMS_BOT_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", "--db", f"sqlite:///{tmp_path / 'd.sqlite'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "FIX  " in output and "Limited bot is not in the bot group" in output
    assert "no high-volume access" in output
    assert "may not createpage" in output
    assert "the bot logs in as Limited bot" in output


def test_help_of_one_command_is_that_commands_help() -> None:
    """``programs-bot deploy --help`` prints deploy's usage and description, not all."""
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "deploy", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0
    shown = run.stdout + run.stderr
    assert "programs-bot [global options] deploy [--lang LANG]" in shown
    assert "deploy    puts the project's templates" in shown
    assert "refresh PAGE" not in shown and "worker" not in shown
    everything = subprocess.run(
        [sys.executable, "-m", "bot.cli", "-help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "refresh PAGE" in everything.stdout + everything.stderr


def test_the_join_apis_consumers_are_checked_against_special_oauth(
    wikis: Farm, tmp_path: Path
) -> None:
    """With PROGRAMS_API_CONFIG: a wiki without Special:OAuth is told to install the
    extension; a consumer the provider knows passes, a wrong secret does not."""
    from bot.jobs.doctor import _oauth
    from harness.oauth_provider import Consumer, OAuthProvider

    consumer = Consumer.generate("https://api.example.org/oauth/callback")
    config = tmp_path / "api.toml"

    def entry(host: str, index: str, key: str, secret: str) -> str:
        return (
            f'[[wikis]]\nhost = "{host}"\noauth_url = "{index}"\n'
            f'consumer_key = "{key}"\nconsumer_secret = "{secret}"\n'
        )

    with OAuthProvider(wikis.content, [consumer]) as provider:
        config.write_text(
            entry("plain.example.org", wikis.content.index_url, "k" * 32, "s" * 32)
            + entry("good.example.org", provider.index_url, consumer.key, consumer.secret)
            + entry("bad.example.org", provider.index_url, consumer.key, "0" * 32),
            encoding="utf-8",
        )
        found = {finding.where.split()[0]: finding for finding in _oauth(config)}
    assert not found["plain.example.org"].ok
    assert "install Extension:OAuth" in found["plain.example.org"].message
    assert found["good.example.org"].ok, found["good.example.org"].message
    assert not found["bad.example.org"].ok
    assert "refuses the consumer" in found["bad.example.org"].message
