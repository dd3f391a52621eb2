"""One validation run: files → documents → tables → check families → a Report."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import polars as pl

from toolkit.checks import registry
from toolkit.checks.base import CheckContext, ordered
from toolkit.checks.limits import LIMITS, ProblemBudget
from toolkit.checks.rejected import VALUE, rejected_frame, without_follow_ons
from toolkit.checks.rejected import mark as mark_rejected
from toolkit.checks.schema import SchemaChecker
from toolkit.engines import Engine, open_engine
from toolkit.frames.base import DOC, PTR, Frames
from toolkit.frames.builder import FrameBuilder
from toolkit.frames.documents import Documents
from toolkit.frames.from_json import integer_paths
from toolkit.grounding import evidence_offsets
from toolkit.model.model import Model, load_model
from toolkit.parsers import Batch, FileEntry, discover, parse_bytes, parse_file, stream_file
from toolkit.parsers.base import Document, Limits
from toolkit.parsers.decode import read_bytes
from toolkit.parsers.fast_lane import FastLane, count_facts
from toolkit.problems import Problem
from toolkit.progress import NULL, Progress
from toolkit.result import Report
from toolkit.stage_texts import TEXTS, stage_texts

if TYPE_CHECKING:
    from toolkit.cache import ParseCache

# The cross-record families, in report order (registered in toolkit.checks.registry).
FAMILIES = registry.FAMILIES


@dataclass(slots=True)
class Run:
    """A validation run with what an export needs besides the report."""

    report: Report
    model: Model
    frames: Frames
    # resolved path of each text copy read → its path relative to its data folder (None:
    # not known), and sha256 digests of files whose bytes the run read: the export's
    # input hash reuses them instead of reading the files again. Keys are resolved
    # absolute paths as strings (a Path per text copy costs seconds at 100,000 texts).
    text_files: dict[str, str] | None = None
    digests: dict[str, str] = field(default_factory=dict)
    # wall time of each stage in seconds (load, then each check), for profiles and benchmarks
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Options:
    """How a run reads, besides what it reads: a parse cache, a progress receiver."""

    cache: ParseCache | None = None
    progress: Progress = NULL
    # where the cross-record checks run: an engine's name, or an engine already started
    engine: str | Engine = "polars"


_OPTIONS: ContextVar[Options] = ContextVar(
    "factkit_run_options",
    default=Options(),  # noqa: B039 - frozen, never mutated
)


@contextmanager
def options(
    *,
    cache: ParseCache | None = None,
    progress: Progress | None = None,
    engine: str | Engine | None = None,
) -> Iterator[Options]:
    """Run options for every `run`/`validate` inside the block (the command line sets them
    this way, so its calls stay `validate(paths)`)."""
    current = _OPTIONS.get()
    chosen = replace(
        current,
        cache=cache if cache is not None else current.cache,
        progress=progress if progress is not None else current.progress,
        engine=engine if engine is not None else current.engine,
    )
    token = _OPTIONS.set(chosen)
    try:
        yield chosen
    finally:
        _OPTIONS.reset(token)


def current_options() -> Options:
    """The options `options(...)` set for this context (none by default)."""
    return _OPTIONS.get()


def load_documents(
    paths: Sequence[str], limits: Limits
) -> tuple[list[Document], list[Problem], int]:
    """Every document with its values (for callers that want them; `run` streams)."""
    entries, problems = discover(paths)
    documents: list[Document] = []
    for entry in entries:
        result = parse_file(entry.path, entry.file, entry.role, limits, entry.root)
        problems += result.problems
        documents += result.documents
    return documents, problems, len(entries)


@dataclass(slots=True)
class _Loaded:
    documents: Documents
    problems: list[Problem]
    tables: dict[str, pl.DataFrame]
    files: list[str]
    digests: dict[str, str]
    rejected: pl.DataFrame  # (_doc, pointer) of every schema error: see checks.rejected
    stand_ins: pl.DataFrame  # (_doc, pointer) of the rejected values given a stand-in


def _file_size(entry: FileEntry) -> int:
    try:
        return os.stat(entry.path).st_size
    except (OSError, ValueError):
        return 0


def _load(
    model: Model, paths: Sequence[str], limits: Limits, opts: Options, budget: ProblemBudget
) -> _Loaded:
    """Parse, check against the schema and flatten every file, a batch at a time.

    A batch's values are dropped once its rows are in the tables, so memory holds the
    tables, not the input. The cycle collector stays off meanwhile: parsing allocates
    millions of acyclic containers that it would scan again and again for nothing.
    """
    entries, problems = discover(paths)
    progress = opts.progress
    documents = Documents()
    builder = FrameBuilder(model)
    schema = SchemaChecker(model)
    digests: dict[str, str] = {}
    rejected: list[tuple[int, str]] = []
    sizes = [_file_size(e) for e in entries]
    progress.begin("checking", sum(sizes))
    done = read = facts = 0
    streams = [s for e, s in zip(entries, sizes, strict=True) if _lane_may_read(e)]
    lane = (
        FastLane(model.bundle_schema, integer_paths(model), limits)
        if FastLane.wanted(streams)
        else None
    )
    enabled = gc.isenabled()
    gc.disable()
    try:
        for entry, size in zip(entries, sizes, strict=True):
            streamed = entry.path.suffix.lower() == ".jsonl"  # only a stream can fail late
            start, mark = len(documents), builder.mark() if streamed else -1
            rejected_at = len(rejected)
            found: list[Problem] = []
            old_format = False
            for batch in _batches(entry, limits, schema, opts.cache, lane):
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
                old_format = _set_aside_old_format(batch.documents, checked, old_format)
                for i, errors in enumerate(checked):
                    found += budget.admit(errors)
                    rejected += [(len(documents) + i, p.pointer) for p in errors if p.code in VALUE]
                lines = batch.lines if batch.offsets else None
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
    tables = builder.frames()
    marks = rejected_frame(rejected)
    stand_ins = mark_rejected(model, tables, marks)
    return _Loaded(documents, problems, tables, files, digests, marks, stand_ins)


def _set_aside_old_format(
    documents: Sequence[Document], checked: list[list[Problem]], reported: bool
) -> bool:
    """A format-1 bundle (S109) gives no rows, so nothing else in it is checked; a file
    reports S109 once (a JSONL file of old bundles is one fix, not one per line)."""
    for i, errors in enumerate(checked):
        if errors and errors[0].code == "S109":
            documents[i].value = {}  # no rows (None would be decoded again from its line)
            if reported:
                checked[i] = []
            reported = True
    return reported


def _lane_may_read(entry: FileEntry) -> bool:
    return entry.role == "bundle" and entry.path.suffix.lower() == ".jsonl"


_CACHED = (".yaml", ".yml")  # hand-written files: slow to parse, rarely changed


def _batches(
    entry: FileEntry,
    limits: Limits,
    schema: SchemaChecker,
    cache: ParseCache | None,
    lane: FastLane | None = None,
) -> Iterator[Batch]:
    """One file's batches; YAML through the parse cache when there is one."""
    if cache is None or entry.path.suffix.lower() not in _CACHED:
        yield from stream_file(entry.path, entry.file, entry.role, limits, entry.root, lane)
        return
    data, problems = read_bytes(entry.path, entry.file, limits)
    if data is None:
        yield Batch(problems=problems)
        return
    key = cache.key(data, entry.path.suffix, entry.role, limits)
    found = cache.load(
        key, entry.root, entry.file, entry.path, entry.role, data=data, limits=limits
    )
    if found is not None:
        documents, problems, checked = found
        yield Batch(documents=documents, problems=problems, schema=checked)
        return
    result = parse_bytes(data, entry.path, entry.file, entry.role, limits, entry.root)
    checked = [schema.check(doc) for doc in result.documents]
    cache.store(key, entry.root, result.documents, result.problems, checked, path=entry.path)
    yield Batch(documents=result.documents, problems=result.problems, schema=checked)


def attach_offsets(model: Model, frames: Frames, offsets: pl.DataFrame | None) -> None:
    """Give each fact table the evidence offsets grounding found (null where none)."""
    for table in model.fact_tables:
        frame = frames.tables[table.name]
        found = None if offsets is None else offsets.filter(pl.col("table") == table.name)
        if found is None or found.is_empty():
            frames.tables[table.name] = frame.with_columns(
                pl.lit(None, pl.Int64).alias("evidence_start"),
                pl.lit(None, pl.Int64).alias("evidence_end"),
            )
        else:
            frames.tables[table.name] = frame.join(
                found.drop("table"), on=[DOC, PTR], how="left", maintain_order="left"
            )


def run(
    paths: Sequence[str] = ("data",),
    *,
    limits: Limits | None = None,
    cache: ParseCache | None = None,
    progress: Progress | None = None,
    engine: str | Engine | None = None,
) -> Run:
    """Validate everything under `paths`; raises only on usage or internal errors.

    `cache`, `progress` and `engine` default to those set with `options(...)` (none, and
    polars, by default).
    """
    with options(cache=cache, progress=progress, engine=engine) as opts:
        try:
            return _run(paths, limits or Limits(), opts)
        finally:
            opts.progress.end()


def _run(paths: Sequence[str], limits: Limits, opts: Options) -> Run:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    model = load_model()
    budget = ProblemBudget(limits.max_problems_per_file)
    loaded = _load(model, paths, limits, opts, budget)
    documents, problems, checked = loaded.documents, loaded.problems, loaded.files
    frames = Frames(tables=loaded.tables, documents=documents)
    timings["load"] = time.perf_counter() - clock
    opts.progress.begin("cross-checking")
    # issue #13: the source texts are staged here, as a table, not read by a check
    clock = time.perf_counter()
    texts = stage_texts(frames.tables["sources"], documents)
    timings["stage_texts"] = time.perf_counter() - clock
    with _engine(opts.engine) as engine:
        clock = time.perf_counter()
        engine.load({**frames.tables, TEXTS: texts.table})
        timings["engine_load"] = time.perf_counter() - clock
        ctx = CheckContext(model, frames, engine=engine, texts=texts)
        ctx.cache[LIMITS] = limits
        for check in registry.checks():
            clock = time.perf_counter()
            for fails in check(ctx):
                fails = without_follow_ons(ordered(fails), loaded.rejected, loaded.stand_ins)
                problems += budget.render(fails, ctx)
            timings[check.__name__] = time.perf_counter() - clock
    clock = time.perf_counter()
    attach_offsets(model, frames, evidence_offsets(model, frames.tables, texts.table, ctx.evidence))
    timings["attach_offsets"] = time.perf_counter() - clock
    records = sum(frames.tables[t.name].height for t in model.fact_tables)
    records += frames.tables["sources"].height + frames.tables["actors"].height
    report = Report(problems=problems, files=len(checked), records=records, checked_files=checked)
    digests = {**loaded.digests, **texts.digests}
    return Run(report, model, frames, texts.files, digests, timings)


@contextmanager
def _engine(engine: str | Engine) -> Iterator[Engine]:
    """The named engine for this run (closed after it), or the one given (left open)."""
    if isinstance(engine, Engine):
        yield engine
        return
    with open_engine(engine) as started:
        yield started


def validate(
    paths: Sequence[str] = ("data",),
    *,
    limits: Limits | None = None,
    cache: ParseCache | None = None,
    progress: Progress | None = None,
    engine: str | Engine | None = None,
) -> Report:
    return run(paths, limits=limits, cache=cache, progress=progress, engine=engine).report
