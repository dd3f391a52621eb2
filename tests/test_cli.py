"""The CLI in-process: exit codes, where output goes, and errors as one line, never a traceback."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

import toolkit
from toolkit.cli import FileLines, emit, use_color, version
from toolkit.cli.main import main
from toolkit.errors import UsageError
from toolkit.problems import Problem
from toolkit.result import Report

Validate = Callable[[list[str]], Report]


@pytest.fixture
def patch_validate(monkeypatch: pytest.MonkeyPatch) -> Callable[[Validate], list[list[str]]]:
    """Replace toolkit.checker.validate; returns the list of `paths` it was called with.

    Works before toolkit/checker.py exists (a stand-in module) and after (the real one).
    """
    try:
        from toolkit import checker
    except ImportError:
        checker = types.ModuleType("toolkit.checker")
        monkeypatch.setitem(sys.modules, "toolkit.checker", checker)
        monkeypatch.setattr(toolkit, "checker", checker, raising=False)

    def install(fake: Validate) -> list[list[str]]:
        calls: list[list[str]] = []

        def validate(paths: list[str]) -> Report:
            calls.append(paths)
            return fake(paths)

        monkeypatch.setattr(checker, "validate", validate, raising=False)
        return calls

    return install


@pytest.fixture(autouse=True)
def _plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACTKIT_DEBUG", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


CLEAN = Report(files=2, records=7)
WARNING_ONLY = Report([Problem.of("P020", "data/a.jsonl", line=3)], files=1, records=2)
ERRORS = Report(
    [
        Problem.of("S101", "data/a.yaml", line=2, column=3, field="mode"),
        Problem.of("P020", "data/a.jsonl", line=3),
    ],
    files=2,
    records=4,
)


def returning(report: Report) -> Validate:
    return lambda paths: report


def test_clean_data_exits_0_and_says_ok(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    calls = patch_validate(returning(CLEAN))
    assert main(["validate"]) == 0
    assert calls == [["data"]]  # the default path
    out, err = capsys.readouterr()
    assert out == "ok: 7 records in 2 files: no problems\n"
    assert err == ""


def test_warnings_pass_unless_strict(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    patch_validate(returning(WARNING_ONLY))
    assert main(["validate", "x.jsonl"]) == 0
    assert "0 errors, 1 warning in 1 file (2 records)" in capsys.readouterr().out
    assert main(["validate", "x.jsonl", "--strict"]) == 1


def test_errors_exit_1_and_are_reported(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    calls = patch_validate(returning(ERRORS))
    assert main(["validate", "one", "two"]) == 1
    assert calls == [["one", "two"]]
    out, err = capsys.readouterr()
    assert "data/a.yaml:2:3: error[S101 missing-field] required field 'mode' is missing\n" in out
    assert out.endswith("1 error, 1 warning in 2 files (4 records)\n")
    assert err == ""


def test_validation_pauses_the_cycle_collector_and_restores_it(
    patch_validate: Callable[[Validate], list[list[str]]],
) -> None:
    seen: list[bool] = []

    def looking(paths: list[str]) -> Report:
        seen.append(gc.isenabled())
        return ERRORS

    patch_validate(looking)
    assert gc.isenabled()
    assert main(["validate", "x"]) == 1
    assert seen == [False] and gc.isenabled()


def test_json_format_on_stdout(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    patch_validate(returning(ERRORS))
    assert main(["validate", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"files": 2, "records": 4, "errors": 1, "warnings": 1}
    assert [p["code"] for p in data["problems"]] == ["P020", "S101"]


def test_github_format_on_stdout(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    patch_validate(returning(ERRORS))
    assert main(["validate", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (
        "::error file=data/a.yaml,line=2,col=3,title=S101 missing-field::"
        "required field 'mode' is missing"
    )


def test_text_report_quotes_the_source_line(
    patch_validate: Callable[[Validate], list[list[str]]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("b.yaml").write_bytes(b"id: f1\r\nkind: quote\r\n")
    problem = Problem.of("S101", "b.yaml", line=2, column=7, field="mode")
    patch_validate(returning(Report([problem], files=1, records=1)))
    assert main(["validate", "b.yaml"]) == 1
    assert "  2 | kind: quote\n    |       ^\n" in capsys.readouterr().out


def test_quiet_prints_nothing_on_success_only(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    patch_validate(returning(WARNING_ONLY))
    assert main(["validate", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["validate", "--quiet", "--strict"]) == 1
    assert "warning[P020 blank-line]" in capsys.readouterr().out


def test_output_file_is_written_instead_of_stdout(
    patch_validate: Callable[[Validate], list[list[str]]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    patch_validate(returning(ERRORS))
    target = tmp_path / "report.json"
    target.write_text("old")
    assert main(["validate", "--format", "json", "--output", str(target)]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text("utf-8"))["summary"]["errors"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left


def test_unwritable_output_is_a_one_line_error(
    patch_validate: Callable[[Validate], list[list[str]]],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    patch_validate(returning(CLEAN))
    target = tmp_path / "missing" / "report.txt"
    assert main(["validate", "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"factkit: error: cannot write {target}: ")
    assert err.count("\n") == 1


def test_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "xml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("factkit: error: argument --format: invalid choice: 'xml'")
    assert err.count("\n") == 1 and "usage:" not in err


def test_missing_command_and_unknown_option_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("factkit: error: the following arguments")
    assert main(["validate", "--frobnicate"]) == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_help_and_version_return_0_without_raising(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "validate" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"factkit {version()}\n"


def test_factkit_error_is_one_line(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(paths: list[str]) -> Report:
        raise UsageError("path 'nowhere' does not exist")

    patch_validate(fail)
    assert main(["validate", "nowhere"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "factkit: error: path 'nowhere' does not exist\n")


def test_internal_error_is_short_and_has_no_traceback(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    def crash(paths: list[str]) -> Report:
        raise RuntimeError("boom\nsecond line")

    patch_validate(crash)
    assert main(["validate"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "factkit: internal error: RuntimeError: boom second line (please report this)\n"
    assert "Traceback" not in err


def test_internal_error_is_raised_with_factkit_debug(
    patch_validate: Callable[[Validate], list[list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(paths: list[str]) -> Report:
        raise RuntimeError("boom")

    patch_validate(crash)
    monkeypatch.setenv("FACTKIT_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["validate"])


def test_keyboard_interrupt_exits_130_quietly(
    patch_validate: Callable[[Validate], list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(paths: list[str]) -> Report:
        raise KeyboardInterrupt

    patch_validate(interrupt)
    assert main(["validate"]) == 130
    assert capsys.readouterr() == ("", "")


class ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_broken_pipe_keeps_the_verdict_and_stays_quiet(
    patch_validate: Callable[[Validate], list[list[str]]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patch_validate(returning(ERRORS))
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["validate"]) == 1
    assert capsys.readouterr().err == ""
    assert emit("x", ClosedPipe()) is False


def test_emit_escapes_what_the_stream_cannot_encode() -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert emit("données\n", stream) is True
    stream.seek(0)
    assert stream.read() == "donn\\xe9es\n"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_needs_a_terminal_and_no_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    assert use_color(FakeTty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(FakeTty()) is False


def test_file_lines_split_like_the_parser_and_read_lazily(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\rthree\nbad \xff byte\x0bsame line")
    lines = FileLines()
    assert lines(str(path), 1) == "one"
    assert lines(str(path), 2) == "two"
    assert lines(str(path), 3) == "three"
    assert lines(str(path), 4) == "bad \ufffd byte\x0bsame line"
    assert lines(str(path), 5) is None
    assert lines(str(path), 0) is None
    path.write_bytes(b"changed")
    assert lines(str(path), 1) == "one"  # cached: each file is read once
    assert lines(str(tmp_path / "missing.yaml"), 1) is None
    assert lines(str(tmp_path), 1) is None  # a folder is not read


def test_file_lines_are_the_editors_in_yaml_too(tmp_path: Path) -> None:
    """NEL, LS and PS break no line in an editor, so the excerpt shown for a reported
    line (an editor's line, also in YAML) is the whole line."""
    text = "one\u2028two\x85three\nfour".encode()
    (tmp_path / "a.yml").write_bytes(text)
    (tmp_path / "a.json").write_bytes(text)
    lines = FileLines()
    for name in ("a.yml", "a.json"):
        assert lines(str(tmp_path / name), 1) == "one\u2028two\x85three"
        assert lines(str(tmp_path / name), 2) == "four"


def test_file_lines_drop_the_line_cut_by_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"12345\n67890\n")
    lines = FileLines(limit=8)
    assert lines(str(path), 1) == "12345"
    assert lines(str(path), 2) is None


def test_python_m_toolkit_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout == f"factkit {version()}\n"
    assert done.stderr == ""


def test_profile_writes_each_stage_s_time_and_memory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--profile FILE`: the report as without it, and every stage of the run (staging,
    the engine, each registered check once, in run order) with its seconds and the peak
    memory when it ended; the stages' rises add up to the peak."""
    from toolkit.checks import registry

    data = str(Path(__file__).resolve().parents[1] / "data")
    assert main(["validate", data, "--format", "json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    target = tmp_path / "profile.json"
    assert main(["validate", data, "--format", "json", "--profile", str(target)]) == 0
    assert json.loads(capsys.readouterr().out) == plain
    profile = json.loads(target.read_text("utf-8"))
    names = [stage["stage"] for stage in profile["stages"]]
    checks = [registry.name_of(c) for c in registry.checks()]
    assert names == ["engine_start", "load", "engine_load", *checks]
    peaks = [stage["peak_mb"] for stage in profile["stages"]]
    assert peaks == sorted(peaks) and profile["peak_mb"] == peaks[-1] > 0
    rises = sum(stage["raised_mb"] for stage in profile["stages"])
    assert rises == pytest.approx(profile["peak_mb"], abs=0.1 * len(names))
    assert all(stage["seconds"] >= 0 for stage in profile["stages"])
