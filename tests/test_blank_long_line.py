"""A JSONL line over the line limit is an error even when it is all blanks: 200 MB of
spaces is no blank line to warn about (L005, not P020)."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.checker import run
from toolkit.parsers.base import Limits


@pytest.mark.parametrize("blank", [" ", "\t"])
def test_a_blank_line_over_the_limit_is_an_error_not_a_warning(tmp_path: Path, blank: str) -> None:
    data = tmp_path / "data"
    (data / "sources").mkdir(parents=True)
    (data / "sources" / "b.jsonl").write_text(blank * 5000 + "\n", encoding="utf-8")
    problems = run([str(data)], limits=Limits(max_line_bytes=1000)).report.problems
    assert [(p.code, p.severity, p.line) for p in problems] == [("L005", "error", 1)]
