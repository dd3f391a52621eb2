"""The stage step on its own: files in, typed tables and the problems of reading out, and
the checker no longer reaching into the readers."""

from __future__ import annotations

import ast
from pathlib import Path

from toolkit.checks.limits import ProblemBudget
from toolkit.model.model import load_model
from toolkit.parsers.base import Limits
from toolkit.stage import Staged, stage

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def _stage(data: Path) -> Staged:
    limits = Limits()
    budget = ProblemBudget(limits.max_problems_per_file)
    return stage(load_model(), [str(data)], limits, budget)


def test_valid_data_stages_into_tables_that_point_back_to_their_documents() -> None:
    staged = _stage(FIXTURES / "valid" / "minimal" / "data")
    assert staged.problems == []
    assert staged.files and all(isinstance(f, str) for f in staged.files)
    sources = staged.tables["sources"]
    assert sources.height >= 1
    assert {"_doc", "_ptr"} <= set(sources.columns)
    assert int(sources["_doc"].max()) < len(staged.documents)  # type: ignore[arg-type]
    assert staged.frames().tables is staged.tables
    assert staged.rejected.is_empty() and staged.stand_ins.is_empty()


def test_problems_of_reading_come_out_of_the_stage() -> None:
    staged = _stage(FIXTURES / "invalid" / "old-format" / "data")
    assert [p.code for p in staged.problems] == ["S109"]
    assert staged.problems[0].file.endswith("sources/src-a.yaml")
    assert staged.problems[0].file in staged.files


def test_the_checker_imports_nothing_of_the_readers_but_their_limits() -> None:
    tree = ast.parse((ROOT / "toolkit" / "checker.py").read_text(encoding="utf-8"))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    readers = {pair for pair in imported if pair[0].startswith("toolkit.parsers")}
    assert readers <= {("toolkit.parsers.base", "Limits")}
    flattening = ("toolkit.frames.builder", "toolkit.frames.documents", "toolkit.stage.")
    assert not [module for module, _ in imported if module.startswith(flattening)]
