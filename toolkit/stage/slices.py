"""Staging on many workers: the run's files cut into slices, each slice staged where it is
sent (a Spark executor: `engines.spark_engine`), the slices then joined into one `Staged`.

A slice is a run of consecutive files, in the order `discover` found them, staged by
factkit's own reader (`stage_entries`) into a folder of its own inside the run's folder,
its documents and each table's rows numbered from 0. Once every slice is staged, the
driver knows how many documents and rows each holds; the parts of each slice but the
first are written again with `_doc` and `_row` moved on by the slices before it
(`shift_slice`, on the workers too), and `merge` joins the slices' documents, problems,
rejected values and parts in file order. The result is what `stage` gives for the same
files: the same rows with the same `_doc` and `_row`, the same problems in the same order.

What crosses between driver and worker is small: a slice's file entries going out; its
documents (a JSONL line is three numbers), problems, problem counts and the names of its
parts coming back. The tables stay in the parts, in a folder both sides see at the same
path (this machine's, for a local session; `FACTKIT_WORK_DIR` on shared storage on a
cluster). The parse cache is not used: it serves runs of hand-written files on one machine.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import polars as pl

from toolkit.checks.limits import ProblemBudget
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC
from toolkit.frames.documents import Documents
from toolkit.model.model import Model, load_model
from toolkit.parsers import FileEntry, discover
from toolkit.parsers.base import Limits
from toolkit.problems import Problem
from toolkit.progress import NULL, Progress
from toolkit.stage import Staged, stage_entries
from toolkit.stage.parts import Part, Parts, PartTables, RunFolder
from toolkit.stage.read import file_size
from toolkit.stage.texts import TEXTS, SourceTexts, TextPart

In = TypeVar("In")
Out = TypeVar("Out")
SLICE_BYTES = 64 << 20  # input bytes a slice holds, about (a larger file is a slice alone)


@dataclass(frozen=True, slots=True)
class Slice:
    """What a worker needs to stage some files: their entries (absolute paths, the same on
    every machine that shares them), the folder to write into, the run's limits."""

    index: int
    entries: tuple[FileEntry, ...]
    folder: str
    limits: Limits


@dataclass(slots=True)
class SliceResult:
    """What a staged slice sends back: everything but the tables, which stay in its parts
    (`parts`: table → (file, rows) in order; `texts`: (file, rows, first, last _doc))."""

    index: int
    documents: Documents
    problems: list[Problem]
    counts: dict[str, int]
    digests: dict[str, str]
    rejected: pl.DataFrame
    stand_ins: pl.DataFrame
    parts: dict[str, list[tuple[str, int]]]
    texts: list[tuple[str, int, int, int]]
    text_problems: pl.DataFrame

    def rows(self, name: str) -> int:
        if name == TEXTS:
            return sum(rows for _, rows, _, _ in self.texts)
        return sum(rows for _, rows in self.parts.get(name, []))


def plan(
    entries: Sequence[FileEntry],
    folder: Path,
    limits: Limits,
    target: int = SLICE_BYTES,
    *,
    sizes: Sequence[int] | None = None,
) -> list[Slice]:
    """Consecutive files grouped into slices of about `target` input bytes (`sizes`: the
    files' sizes, when the caller has them)."""
    if sizes is None:
        sizes = [file_size(entry) for entry in entries]
    groups: list[list[FileEntry]] = []
    size = target
    for entry, bytes_ in zip(entries, sizes, strict=True):
        if size >= target:
            groups.append([])
            size = 0
        groups[-1].append(_absolute(entry))
        size += bytes_
    return [
        Slice(i, tuple(group), str(folder / f"slice-{i:05d}"), limits)
        for i, group in enumerate(groups)
    ]


def _absolute(entry: FileEntry) -> FileEntry:
    """An entry whose paths do not depend on the working directory of the worker."""
    return dataclasses.replace(
        entry, path=Path(os.path.abspath(entry.path)), root=Path(os.path.abspath(entry.root))
    )


def stage_slice(piece: Slice, model: Model | None = None) -> SliceResult:
    """Stage one slice into its folder (on a worker: no model is sent, it is built there)."""
    model = model or load_model()
    budget = ProblemBudget(piece.limits.max_problems_per_file)
    folder = RunFolder(Path(piece.folder))
    staged = stage_entries(model, piece.entries, [], piece.limits, budget, folder)
    paths = staged.tables.paths()  # a part held in memory is written now
    parts = staged.tables.parts.parts
    texts = staged.texts
    assert texts is not None  # stage_entries always reads the texts
    return SliceResult(
        index=piece.index,
        documents=staged.documents,
        problems=staged.problems,
        counts=budget.counts(),
        digests=staged.digests,
        rejected=staged.rejected,
        stand_ins=staged.stand_ins,
        parts={
            name: [(str(path), part.rows) for path, part in zip(paths[name], found, strict=True)]
            for name, found in parts.items()
        },
        texts=[(str(p.path), p.rows, p.first, p.last) for p in texts.parts],
        text_problems=texts.problems,
    )


@dataclass(frozen=True, slots=True)
class Shift:
    """How far a slice's `_doc` and each table's `_row` move, and the files to rewrite."""

    docs: int
    rows: dict[str, int]
    files: dict[str, list[str]]


def shifts(results: Sequence[SliceResult]) -> list[Shift]:
    """For each slice, the documents and rows of the slices before it."""
    out: list[Shift] = []
    docs = 0
    rows: dict[str, int] = {}
    for result in results:
        files = {name: [path for path, _ in found] for name, found in result.parts.items()}
        files[TEXTS] = [path for path, _, _, _ in result.texts]
        out.append(Shift(docs, dict(rows), files))
        docs += len(result.documents)
        for name in files:
            rows[name] = rows.get(name, 0) + result.rows(name)
    return out


def shift_slice(shift: Shift) -> int:
    """Write a slice's parts again with `_doc` and `_row` moved on (in place, each file
    replaced whole); returns the files written."""
    written = 0
    for name, files in shift.files.items():
        rows = shift.rows.get(name, 0)
        if not (rows or shift.docs):
            continue
        for path in files:
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.col(ROW) + rows, pl.col(DOC) + shift.docs)
            temporary = f"{path}.shifted"
            frame.write_parquet(temporary, compression="lz4")
            os.replace(temporary, path)
            written += 1
    return written


def _moved(frame: pl.DataFrame, docs: int) -> pl.DataFrame:
    return frame.with_columns((pl.col(DOC) + docs).cast(frame.schema[DOC]))


def merge(
    model: Model,
    entries: Sequence[FileEntry],
    found: list[Problem],
    results: Sequence[SliceResult],
    moves: Sequence[Shift],
    budget: ProblemBudget,
    folder: RunFolder,
) -> Staged:
    """The slices, staged and shifted, as one run's `Staged` in `folder` (the run's)."""
    documents = Documents()
    parts = Parts.of(folder, model)
    problems = list(found)
    digests: dict[str, str] = {}
    text_parts: list[TextPart] = []
    rejected, stand_ins, text_problems = [], [], []
    for result, move in zip(results, moves, strict=True):
        documents.extend(result.documents)
        problems += result.problems
        budget.absorb(result.counts)
        digests.update(result.digests)
        for name, files in result.parts.items():
            parts.parts[name] += [Part(Path(path), rows, 0) for path, rows in files]
        text_parts += [
            TextPart(Path(path), rows, first + move.docs, last + move.docs)
            for path, rows, first, last in result.texts
        ]
        rejected.append(_moved(result.rejected, move.docs))
        stand_ins.append(_moved(result.stand_ins, move.docs))
        text_problems.append(_moved(result.text_problems, move.docs))
    texts = SourceTexts(tuple(text_parts), pl.concat(text_problems), folder)
    return Staged(
        documents,
        PartTables(parts),
        problems,
        [entry.file for entry in entries],
        digests,
        pl.concat(rejected),
        pl.concat(stand_ins),
        texts,
    )


class Mapper(Protocol):
    """Runs `fn` over each item where the caller decides (Spark's executors; this process
    in `in_process`), the results in the order of the items."""

    def __call__(self, fn: Callable[[In], Out], items: Sequence[In]) -> list[Out]: ...


def in_process(fn: Callable[[In], Out], items: Sequence[In]) -> list[Out]:
    return [fn(item) for item in items]


def stage_sliced(
    model: Model,
    paths: Sequence[str],
    limits: Limits,
    budget: ProblemBudget,
    run: Mapper,
    *,
    target: int = SLICE_BYTES,
    progress: Progress = NULL,
) -> Staged:
    """`stage`, with the files staged a slice at a time by `run` (see the module docstring)."""
    folder = RunFolder()
    try:
        entries, found = discover(paths)
        sizes = [file_size(entry) for entry in entries]
        pieces = plan(entries, folder.path, limits, target, sizes=sizes)
        if not pieces:
            return stage_entries(model, entries, found, limits, budget, folder)
        total = sum(sizes)
        progress.begin("checking", total)
        results = run(stage_slice, pieces)
        moves = shifts(results)
        run(shift_slice, moves[1:])  # the first slice stays where it is
        progress.advance(total, 0)
        return merge(model, entries, found, results, moves, budget, folder)
    except BaseException:
        folder.close()
        raise
