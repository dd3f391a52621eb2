"""Progress: the library reports through callbacks; the command line draws a bar only on a
terminal and never with --quiet."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest

from toolkit.checker import run
from toolkit.cli.main import main
from toolkit.progress import NULL, Bar, Progress, for_terminal
from toolkit.synth import synthesize


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Recorder(Progress):
    def __init__(self) -> None:
        self.events: list[tuple[str, object, object]] = []

    def begin(self, stage: str, total: int | None = None) -> None:
        self.events.append(("begin", stage, total))

    def advance(self, done: int, facts: int) -> None:
        self.events.append(("advance", done, facts))

    def end(self) -> None:
        self.events.append(("end", None, None))


def test_the_library_reports_stages_bytes_and_facts(tmp_path: Path) -> None:
    out = tmp_path / "b.jsonl"
    synthesize(out, 300, seed=1)
    recorder = _Recorder()
    run([str(tmp_path)], progress=recorder)
    kinds = [e[0] for e in recorder.events]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    first = recorder.events[0]
    assert first[1] == "checking" and isinstance(first[2], int) and first[2] > out.stat().st_size
    facts = [e[2] for e in recorder.events if e[0] == "advance"]
    assert facts == sorted(facts) and facts[-1] == 300  # type: ignore[type-var]


def test_a_bar_shows_facts_per_second_and_clears_its_line() -> None:
    ticks = itertools.count()
    screen = _Terminal()
    bar = Bar(screen, clock=lambda: float(next(ticks)), interval=0.0)
    bar.begin("checking", 100)
    bar.advance(50, 1000)
    text = screen.getvalue()
    assert "50%" in text and "1,000 facts" in text and "facts/s" in text
    bar.end()
    assert screen.getvalue().endswith("\r\x1b[K")


def test_no_bar_without_a_terminal_or_with_quiet() -> None:
    assert for_terminal(io.StringIO()) is NULL
    assert for_terminal(_Terminal(), quiet=True) is NULL
    assert isinstance(for_terminal(_Terminal()), Bar)
    NULL.begin("x", 1)
    NULL.advance(1, 1)
    NULL.end()


def test_command_line_stays_quiet_when_not_interactive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    synthesize(tmp_path / "b.jsonl", 200, seed=2)
    assert main(["validate", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""
    screen = _Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    assert main(["validate", str(tmp_path), "--quiet"]) == 0
    assert screen.getvalue() == ""
    assert main(["validate", str(tmp_path)]) == 0
    drawn = screen.getvalue()
    assert "facts" in drawn and drawn.endswith("\r\x1b[K")
