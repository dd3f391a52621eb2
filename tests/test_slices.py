"""Staging a slice of the files at a time (what Spark's executors do) gives what staging
them all at once gives: the same rows under the same `_doc` and `_row`, the same problems
in the same order, the same documents, texts, rejected values and budget."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import polars as pl
import pytest

from toolkit.checks.limits import ProblemBudget
from toolkit.model.model import load_model
from toolkit.parsers.base import Limits
from toolkit.stage import Staged, stage
from toolkit.stage.slices import in_process, plan, stage_slice, stage_sliced
from toolkit.stage.texts import TEXTS_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CASES = sorted(
    [ROOT / "data"]
    + [case / "data" for kind in ("valid", "invalid") for case in (FIXTURES / kind).iterdir()]
    + [case for case in (FIXTURES / "hostile").iterdir() if case.is_dir()],
    key=str,
)


def _both(data: Path, limits: Limits) -> tuple[Staged, ProblemBudget, Staged, ProblemBudget]:
    model = load_model()
    whole_budget = ProblemBudget(limits.max_problems_per_file)
    whole = stage(model, [str(data)], limits, whole_budget)
    sliced_budget = ProblemBudget(limits.max_problems_per_file)
    # a target of one byte: every file is a slice, so every slice but the first moves
    sliced = stage_sliced(model, [str(data)], limits, sliced_budget, in_process, target=1)
    return whole, whole_budget, sliced, sliced_budget


def _same(whole: Staged, sliced: Staged) -> None:
    assert sliced.problems == whole.problems
    assert sliced.files == whole.files
    assert sliced.digests == whole.digests
    assert len(sliced.documents) == len(whole.documents)
    assert [(d.file, d.line) for d in sliced.documents] == [
        (d.file, d.line) for d in whole.documents
    ]
    assert sliced.documents.files().equals(whole.documents.files())
    assert set(sliced.tables.parts.parts) == set(whole.tables.parts.parts)
    for name in whole.tables.parts.parts:
        # as the engines scan them: `_row` and `_doc` included
        assert sliced.tables.scan(name).collect().equals(whole.tables.scan(name).collect()), name
        assert sliced.tables.height(name) == whole.tables.height(name)
    assert sliced.rejected.equals(whole.rejected)
    assert sliced.stand_ins.equals(whole.stand_ins)
    assert sliced.texts is not None and whole.texts is not None
    assert sliced.texts.scan().collect().equals(whole.texts.scan().collect())
    assert sliced.texts.problems.equals(whole.texts.problems)
    docs = [d for _, last in whole.texts.ranges() for d in (last,)]
    if docs:  # a document's text read by its `_doc` range, as grounding does
        wanted = pl.Series(docs)
        assert sliced.texts.read(wanted).equals(whole.texts.read(wanted))


@pytest.mark.parametrize("data", CASES, ids=lambda p: str(p.relative_to(ROOT)))
def test_slices_stage_what_the_whole_run_stages(data: Path) -> None:
    whole, whole_budget, sliced, sliced_budget = _both(data, Limits())
    with whole, sliced:
        _same(whole, sliced)
        assert sliced_budget.counts() == whole_budget.counts()


def test_a_file_over_its_problem_budget_is_cut_alike(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "valid" / "minimal" / "data", data)
    (data / "sources" / "broken.jsonl").write_text("{}\n" * 6, encoding="utf-8")
    (data / "sources" / "zz-broken.jsonl").write_text("{}\n" * 2, encoding="utf-8")
    whole, whole_budget, sliced, sliced_budget = _both(data, Limits(max_problems_per_file=3))
    with whole, sliced:
        assert "L007" in [p.code for p in whole.problems]
        _same(whole, sliced)
        assert sliced_budget.counts() == whole_budget.counts()


def test_a_slice_crosses_to_a_worker_and_back_as_plain_data(tmp_path: Path) -> None:
    """What goes to a worker and what comes back survives pickling (Spark sends both)."""
    from toolkit.parsers import discover

    entries, _ = discover([str(ROOT / "data")])
    pieces = plan(entries, tmp_path, Limits(), target=1)
    assert len(pieces) == len(entries) > 1
    assert all(e.path.is_absolute() and e.root.is_absolute() for p in pieces for e in p.entries)
    result = stage_slice(pickle.loads(pickle.dumps(pieces[1])))
    back = pickle.loads(pickle.dumps(result))
    assert len(back.documents) == len(result.documents) > 0
    assert [d.file for d in back.documents] == [d.file for d in result.documents]
    assert back.parts.keys() == result.parts.keys()
    assert all(Path(path).parent == Path(pieces[1].folder) for path, *_ in back.texts)
    assert set(TEXTS_SCHEMA) >= {"_row", "_doc"}


def test_slices_of_about_the_target_size_keep_files_in_order(tmp_path: Path) -> None:
    from toolkit.parsers import discover

    entries, _ = discover([str(ROOT / "data")])
    one = plan(entries, tmp_path, Limits())
    assert len(one) == 1 and [e.file for e in one[0].entries] == [e.file for e in entries]
    sizes = [e.path.stat().st_size for e in entries]
    target = max(sizes) + 1
    pieces = plan(entries, tmp_path, Limits(), target=target)
    assert [e.file for p in pieces for e in p.entries] == [e.file for e in entries]
    assert 1 < len(pieces) < len(entries)
    assert len({p.folder for p in pieces}) == len(pieces)
