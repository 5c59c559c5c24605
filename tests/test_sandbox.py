"""The README's main command, as written: ``bash .ci/sandbox``, then ``bash .ci/sandbox --stop``.

The sandbox starts its own two wikis (free ports, its own Pywikibot directory in
``.sandbox/``), runs the bot on a demo program and compares every figure with its own
count from the wikis' tables; here the test reads that comparison and then checks, from
outside, that the page really holds the bot's block and that ``--stop`` stops the wikis.
"""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from harness import PROJECT_ROOT

pytestmark = pytest.mark.wiki


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", ".ci/sandbox", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_sandbox_runs_the_bot_and_its_figures_match_the_databases() -> None:
    run = sandbox()
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    # Every figure row of the comparison, and none differs.
    rows = re.findall(r"^(\S+)\s+(\w+)\s+(\S+)\s+(\d+)(  <-- differs)?$", out, re.M)
    assert len(rows) == 12, out
    assert all(bot == db for _, _, bot, db, _ in rows), out
    assert "All figures match." in out
    assert "+{{Program outcomes|" in out and "+{{End of program outcomes}}" in out
    url = re.search(r"^The program page: (\S+)$", out, re.M)
    assert url is not None, out
    page = requests.get(url[1], params={"action": "raw"}, timeout=30)
    assert page.status_code == 200
    assert "{{End of program outcomes}}" in page.text

    stopped = sandbox("--stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped" in stopped.stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(url[1], timeout=10)
