"""Every fixture case, parametrised from the directory listing.

`fixtures/valid/<case>/` must validate without errors; `fixtures/invalid/<case>/`
states in `expected.yaml` each problem it must produce (code, file, line, and optionally
`hint_contains`: words its hint must hold); with `only: true` the run may produce no
other problem (one mistake, one report). Each case is validated once per test run
(conftest's `polars_report`; test_engines compares the other engines with the same report).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from toolkit.result import Report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / kind).iterdir() if p.is_dir())


@pytest.mark.parametrize("case", _cases("valid"), ids=lambda p: p.name)
def test_valid_case(case: Path, polars_report: Callable[[Path], Report]) -> None:
    report = polars_report(case / "data")
    assert report.errors == 0, [p.to_dict() for p in report.problems]
    assert report.records > 0


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: p.name)
def test_invalid_case(case: Path, polars_report: Callable[[Path], Report]) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    report = polars_report(case / "data")
    hints: dict[tuple[str, str, int | None], list[str]] = {}
    for p in report.problems:
        key = (p.code, os.path.relpath(p.file, case / "data"), p.line)
        hints.setdefault(key, []).append(p.hint or "")
    found = set(hints)
    for want in expected["problems"]:
        key = (want["code"], want["file"], want["line"])
        assert key in found, f"{case.name}: missing {key}; found {sorted(found)}"
        if "hint_contains" in want:
            assert any(want["hint_contains"] in h for h in hints[key]), (
                f"{case.name}: no hint of {key} contains {want['hint_contains']!r}: {hints[key]}"
            )
    if expected.get("only"):
        wanted = {(w["code"], w["file"], w["line"]) for w in expected["problems"]}
        assert found == wanted, f"{case.name}: more problems than expected: {sorted(found)}"
    severities = {
        p.severity for p in report.problems if p.code in {w["code"] for w in expected["problems"]}
    }
    assert "error" in severities or report.warnings > 0
    for problem in report.problems:
        assert problem.line is None or problem.line >= 1
        assert problem.column is None or problem.column >= 1
        assert problem.message
