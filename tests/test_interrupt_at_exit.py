"""A Ctrl-C at the very end of a run (while Python joins threads and closes files on the
way out) ends it quietly: no traceback, the run's own exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_LATE = """
import atexit, os, signal, time
import toolkit.cli.main as cli
cli.main = lambda argv=None: 0  # the run itself is over and went well
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(0.5)))
cli.entry()
"""

_DURING = """
import toolkit.cli.main as cli
def interrupted(argv=None):
    raise KeyboardInterrupt
cli.main = interrupted
cli.entry()
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_ctrl_c_after_the_run_prints_no_traceback() -> None:
    done = _run(_LATE)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr


def test_a_ctrl_c_that_escapes_main_ends_quietly_with_130() -> None:
    done = _run(_DURING)
    assert done.returncode == 130
    assert "Traceback" not in done.stderr
