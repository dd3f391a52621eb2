"""Every fixture case, parametrised from the directory listing.

`fixtures/valid/<case>/` must validate without errors; `fixtures/invalid/<case>/`
states in `expected.yaml` each problem it must produce (code, file, line).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from toolkit.checker import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _cases(kind: str) -> list[Path]:
    return sorted(p for p in (FIXTURES / kind).iterdir() if p.is_dir())


@pytest.mark.parametrize("case", _cases("valid"), ids=lambda p: p.name)
def test_valid_case(case: Path) -> None:
    report = validate([str(case / "data")])
    assert report.errors == 0, [p.to_dict() for p in report.problems]
    assert report.records > 0


@pytest.mark.parametrize("case", _cases("invalid"), ids=lambda p: p.name)
def test_invalid_case(case: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    report = validate([str(case / "data")])
    found = {(p.code, os.path.relpath(p.file, case / "data"), p.line) for p in report.problems}
    for want in expected["problems"]:
        key = (want["code"], want["file"], want["line"])
        assert key in found, f"{case.name}: missing {key}; found {sorted(found)}"
    severities = {
        p.severity for p in report.problems if p.code in {w["code"] for w in expected["problems"]}
    }
    assert "error" in severities or report.warnings > 0
    for problem in report.problems:
        assert problem.line is None or problem.line >= 1
        assert problem.column is None or problem.column >= 1
        assert problem.message
