"""One validation run: stage (files → tables) → engine → check families → a Report.

`toolkit.stage` reads and flattens; this module only starts the engine, runs the
registered checks over the staged tables and renders their failure cases as problems.
"""

from __future__ import annotations

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
from toolkit.checks.rejected import without_follow_ons
from toolkit.engines import Engine, open_engine
from toolkit.frames.base import DOC, PTR, Frames
from toolkit.grounding import evidence_offsets
from toolkit.model.model import Model, load_model
from toolkit.parsers.base import Limits
from toolkit.progress import NULL, Progress
from toolkit.result import Report
from toolkit.stage import load_documents, stage

if TYPE_CHECKING:
    from toolkit.cache import ParseCache

# The cross-record families, in report order (registered in toolkit.checks.registry).
FAMILIES = registry.FAMILIES
__all__ = ["FAMILIES", "Options", "Run", "load_documents", "options", "run", "validate"]


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
    offsets: bool = True,
) -> Run:
    """Validate everything under `paths`; raises only on usage or internal errors.

    `cache`, `progress` and `engine` default to those set with `options(...)` (none, and
    polars, by default). `offsets`: give the fact tables the evidence offsets grounding
    found (what an export needs; a report does not).
    """
    with options(cache=cache, progress=progress, engine=engine) as opts:
        try:
            return _run(paths, limits or Limits(), opts, offsets)
        finally:
            opts.progress.end()


def _run(paths: Sequence[str], limits: Limits, opts: Options, offsets: bool = True) -> Run:
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    model = load_model()
    budget = ProblemBudget(limits.max_problems_per_file)
    loaded = stage(model, paths, limits, budget, cache=opts.cache, progress=opts.progress)
    problems, checked = loaded.problems, loaded.files
    frames = loaded.frames()
    timings["load"] = time.perf_counter() - clock
    opts.progress.begin("cross-checking")
    texts = loaded.texts
    assert texts is not None  # stage() always reads the texts
    with _engine(opts.engine) as engine:
        clock = time.perf_counter()
        engine.load(loaded.engine_tables())
        timings["engine_load"] = time.perf_counter() - clock
        ctx = CheckContext(model, frames, engine=engine, texts=texts)
        ctx.cache[LIMITS] = limits
        for check in registry.checks():
            clock = time.perf_counter()
            for fails in check(ctx):
                fails = without_follow_ons(ordered(fails), loaded.rejected, loaded.stand_ins)
                problems += budget.render(fails, ctx)
            timings[check.__name__] = time.perf_counter() - clock
    if offsets:
        clock = time.perf_counter()
        found = evidence_offsets(model, frames.tables, texts.table, ctx.evidence)
        attach_offsets(model, frames, found)
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
    found = run(paths, limits=limits, cache=cache, progress=progress, engine=engine, offsets=False)
    return found.report  # without the evidence offsets, which only an export needs
