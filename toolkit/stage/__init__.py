"""Stage: data files in, the run's typed tables out (`stage`), with every problem found on
the way. The contract between reading and checking.

`stage` finds the files, reads them a batch at a time (the parse cache for YAML, the fast
lane for large JSONL), checks each record against its schema within the problem budget and
flattens the valid ones into one table per record type (a cached YAML file's rows are
taken as a previous run flattened them, when the cache kept them: `cache_frames`), written
a part at a time as Parquet into the run's folder (`stage.parts`), so memory holds one
part, not the tables; then it reads each source's text copy once into the `texts` table
(`stage.texts`), written in parts too, so that grounding is a join and no check reads a
file. What comes out,
`Staged`, is all the checks and the report need: the readers' batches, lanes and caches
stay here. It owns the run's folder: `close()` (or its `with` block) removes it.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import polars as pl

from toolkit.checks.limits import ProblemBudget
from toolkit.checks.rejected import VALUE, rejected_frame
from toolkit.checks.schema import SchemaChecker
from toolkit.engines.base import Engine
from toolkit.frames.base import Frames, read_columns, table_schema
from toolkit.frames.builder import FrameBuilder
from toolkit.frames.documents import Documents
from toolkit.model.model import Model
from toolkit.parsers import FileEntry, discover, parse_file
from toolkit.parsers.base import Document, Limits
from toolkit.parsers.fast_lane import count_facts
from toolkit.problems import Problem
from toolkit.progress import NULL, Progress
from toolkit.stage.parts import Parts, PartTables, RunFolder, mark_parts
from toolkit.stage.read import (
    CachedBatch,
    Placed,
    batches,
    file_size,
    keep_rows,
    open_lane,
    prefetch_rows,
    set_aside_old_format,
)
from toolkit.stage.texts import TEXTS, TEXTS_SCHEMA, SourceTexts, stage_texts

if TYPE_CHECKING:
    from toolkit.cache import ParseCache

__all__ = ["PartTables", "SourceTexts", "Staged", "load_documents", "stage", "stage_entries"]


@dataclass(slots=True)
class Staged:
    """What staging hands the checks: the tables and where each row came from.

    `documents[i]` is the document of every row whose `_doc` is i (its file, and the
    positions of its values, read again on demand). `files`: every file found, in
    order; `digests`: sha256 of each file read to its end, by resolved path (the
    export's input hash reuses them). `rejected`: (_doc, pointer) of every value the
    schema refused, and `stand_ins` those given a stand-in (see `checks.rejected`).
    `tables`: the record tables as Parquet parts in the run's folder, each read whole
    only when a consumer asks for it (`PartTables`).
    """

    documents: Documents
    tables: PartTables
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    rejected: pl.DataFrame = field(default_factory=lambda: rejected_frame([]))
    stand_ins: pl.DataFrame = field(default_factory=lambda: rejected_frame([]))
    # the text copy of every source (a table, with the problems of reading them)
    texts: SourceTexts | None = None

    def frames(self) -> Frames:
        """The tables with their documents, as the checks receive them."""
        return Frames(tables=self.tables, documents=self.documents)

    def load(self, engine: Engine) -> None:
        """Hand the engine the record tables (their parts, or the frames of a run held in
        memory when the engine takes them) and the source texts (`TEXTS`, their parts)."""
        tables = self.tables
        held = tables.parts.held() if engine.takes_frames else None
        if held is not None:  # a run in one part, held in memory: no file written or read
            paths: dict[str, list[Path]] = {name: [] for name in tables.parts.parts}
        else:
            paths = tables.paths()
        schemas = tables.schemas()
        if self.texts is not None:
            paths[TEXTS], schemas[TEXTS] = self.texts.paths(), dict(TEXTS_SCHEMA)
        engine.load_parts(paths, schemas, tables.folder.path, held=held)

    def close(self) -> None:
        """Remove the run's folder (the parts): the tables read before stay usable."""
        self.tables.folder.close()

    def __enter__(self) -> Staged:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def stage(
    model: Model,
    paths: Sequence[str],
    limits: Limits,
    budget: ProblemBudget,
    *,
    cache: ParseCache | None = None,
    progress: Progress = NULL,
) -> Staged:
    """Parse, check against the schema and flatten every file, a batch at a time.

    A batch's values are dropped once its rows are in the tables, and the tables are
    written as parts every `PART_ROWS` rows, so memory holds one part, not the input nor
    the tables. The cycle collector stays off meanwhile: parsing allocates millions of
    acyclic containers that it would scan again and again for nothing. The run's folder
    is removed if staging fails; else the caller closes it (`Staged.close`).
    `budget` admits each file's problems (and stops reading a file whose share is full);
    the checks later render theirs through the same budget.
    """
    folder = RunFolder()
    try:
        entries, problems = discover(paths)
        return stage_entries(model, entries, problems, limits, budget, folder, cache, progress)
    except BaseException:
        folder.close()
        raise


def stage_entries(
    model: Model,
    entries: Sequence[FileEntry],
    problems: list[Problem],
    limits: Limits,
    budget: ProblemBudget,
    folder: RunFolder,
    cache: ParseCache | None = None,
    progress: Progress = NULL,
) -> Staged:
    """`stage` for files already found (`problems`: what finding them gave), into
    `folder`: also a slice of a run's files, staged on a worker (`stage.slices`)."""
    problems = list(problems)
    documents = Documents()
    builder = FrameBuilder(model, parts=Parts.of(folder, model))
    schema = SchemaChecker(model)
    digests: dict[str, str] = {}
    rejected: list[tuple[int, str]] = []
    placed: list[Placed] = []  # cached files, whose flattened rows are kept
    if cache is not None:
        cache.keep_rows({t.name: table_schema(t) for t in builder.tables})
        prefetch_rows(cache, entries)
    sizes = [file_size(e) for e in entries]
    progress.begin("checking", sum(sizes))
    done = read = facts = 0
    lane = open_lane(model, entries, sizes, limits)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for entry, size in zip(entries, sizes, strict=True):
            streamed = entry.path.suffix.lower() == ".jsonl"  # only a stream can fail late
            start, mark = len(documents), builder.mark() if streamed else -1
            rejected_at = len(rejected)
            found: list[Problem] = []
            old_format = False
            for batch in batches(entry, limits, schema, cache, lane):
                if batch.fatal:  # the file failed as a whole: forget what it gave
                    documents.truncate(start)
                    del rejected[rejected_at:]
                    builder.truncate(mark)
                    budget.forget(entry.file)
                    found = budget.admit(batch.problems)
                    continue
                found += budget.admit(batch.problems)
                room = max(1, budget.left(entry.file))  # an invalid record has a problem
                plain = batch.plain or [False] * len(batch.documents)
                checked = batch.schema or [
                    [] if known else schema.check(doc, limit=room)
                    for doc, known in zip(batch.documents, plain, strict=True)
                ]
                valid = [not errors for errors in checked]
                old_format = set_aside_old_format(batch.documents, checked, old_format)
                for i, errors in enumerate(checked):
                    found += budget.admit(errors)
                    rejected += [(len(documents) + i, p.pointer) for p in errors if p.code in VALUE]
                lines = batch.lines if batch.offsets else None
                if isinstance(batch, CachedBatch) and (at := batch.placed(len(documents))):
                    placed.append(at)  # a cached file: its rows are kept for the next run
                if isinstance(batch, CachedBatch) and batch.rows is not None:
                    builder.add_frames(batch.rows, len(documents))  # ... or were: taken
                else:
                    builder.add(batch.documents, len(documents), valid, lines, plain)
                if batch.offsets:
                    documents.add_lines(batch.documents, batch.offsets, batch.sizes)
                    done = read + batch.offsets[-1] + batch.sizes[-1]
                else:
                    documents.add(batch.documents)
                facts += sum(count_facts(d.value) for d in batch.documents) + batch.facts
                progress.advance(done, facts)
                if batch.digest is not None:
                    digests[str(entry.path.resolve())] = batch.digest
                if budget.full(entry.file):
                    break  # nothing more of this file would be reported: stop reading it
            problems += found
            read += size
            done = read
            progress.advance(done, facts)
    finally:
        if lane is not None:
            lane.close()
        if enabled:
            gc.enable()
    files = [entry.file for entry in entries]
    tables = PartTables(builder.write_parts())
    keep_rows(tables, placed)
    marks = rejected_frame(rejected)
    stand_ins = mark_parts(model, tables.parts, marks)
    sources = read_columns(tables, {"sources": ("id", "text")})["sources"]
    texts = stage_texts(sources, documents, folder)
    return Staged(documents, tables, problems, files, digests, marks, stand_ins, texts)


def load_documents(
    paths: Sequence[str], limits: Limits
) -> tuple[list[Document], list[Problem], int]:
    """Every document with its values, unflattened (for callers that want them; `stage`
    streams)."""
    entries, problems = discover(paths)
    documents: list[Document] = []
    for entry in entries:
        result = parse_file(entry.path, entry.file, entry.role, limits, entry.root)
        problems += result.problems
        documents += result.documents
    return documents, problems, len(entries)
