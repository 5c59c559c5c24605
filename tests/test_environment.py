"""What every command runs with: the garbage collector's pace, paused inside a refresh."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.jobs.environment import GC_THRESHOLDS, collector_paused

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, bot.cli
before = gc.get_threshold()
bot.cli.main("-help")
print(json.dumps([before, gc.get_threshold()]))
"""


def test_every_command_collects_garbage_at_the_bot_s_pace(tmp_path: Path) -> None:
    # A fresh interpreter: the test process's own pace says nothing.
    env = {**os.environ, "PYWIKIBOT_NO_USER_CONFIG": "1", "PYWIKIBOT_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    before, after = json.loads(result.stdout.splitlines()[-1])
    assert tuple(before) == (700, 10, 10)  # Python's own
    assert tuple(after) == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > before[0]


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: still off, and off again after
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a refresh that fails")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # as it was
    finally:
        gc.enable()
