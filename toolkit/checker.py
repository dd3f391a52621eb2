"""One validation run: stage (files → tables) → engine → check families → a Report.

`toolkit.stage` reads and flattens; this module only starts the engine, runs the
registered checks over the staged tables and renders their failure cases as problems.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING

import polars as pl

from toolkit.checks import registry
from toolkit.checks.base import CheckContext, ordered
from toolkit.checks.limits import LIMITS, ProblemBudget
from toolkit.checks.rejected import without_follow_ons
from toolkit.engines import Engine, open_engine
from toolkit.frames.base import DOC, PTR, Frames, read_columns
from toolkit.grounding import evidence_offsets, grounded_columns
from toolkit.model.model import Model, load_model
from toolkit.parsers.base import Limits
from toolkit.progress import NULL, Progress
from toolkit.result import Report
from toolkit.stage import PartTables, SourceTexts, Staged, load_documents

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
    # the source texts staged (None: not staged), and sha256 digests of the data files
    # the run read, by resolved path (strings: a Path per file costs seconds at 100,000)
    texts: SourceTexts | None = None
    file_digests: dict[str, str] = field(default_factory=dict)
    # wall time of each stage in seconds (load, then each check), for profiles and benchmarks
    timings: dict[str, float] = field(default_factory=dict)
    # the process's peak memory (max RSS, MB) when each stage ended: where it rose is the
    # stage that needed it (the fast lane's worker process is not counted)
    peaks: dict[str, float] = field(default_factory=dict)

    def profile(self) -> list[dict[str, float | str]]:
        """Each stage in run order: its wall time, the peak memory when it ended, and how
        much it raised the peak (`factkit validate --profile`; the benchmarks' "why")."""
        out: list[dict[str, float | str]] = []
        before = 0.0
        for name, seconds in self.timings.items():
            peak = self.peaks.get(name, before)
            out.append(
                {
                    "stage": name,
                    "seconds": round(seconds, 3),
                    "peak_mb": round(peak, 1),
                    "raised_mb": round(max(peak - before, 0.0), 1),
                }
            )
            before = max(before, peak)
        return out

    @property
    def text_files(self) -> dict[str, str] | None:
        """Resolved path of each text copy read → its path relative to its data folder
        (None: not known); read from the staged texts, so before the run is closed."""
        return None if self.texts is None else self.texts.files()

    @property
    def digests(self) -> dict[str, str]:
        """sha256 of every file whose bytes the run read, data files and text copies, by
        resolved path: the export's input hash reuses them instead of reading the files
        again. Read from the staged texts, so before the run is closed."""
        texts = {} if self.texts is None else self.texts.digests()
        return {**self.file_digests, **texts}

    def close(self) -> None:
        """Remove the run's staged parts (tables read from them before stay usable); done
        at the latest when the run is garbage-collected."""
        tables = self.frames.tables
        if isinstance(tables, PartTables):
            tables.folder.close()

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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


def with_offsets(name: str, frame: pl.LazyFrame, offsets: pl.DataFrame | None) -> pl.LazyFrame:
    """A fact table with the evidence offsets grounding found for it (null where none)."""
    found = None if offsets is None else offsets.filter(pl.col("table") == name)
    if found is None or found.is_empty():
        return frame.with_columns(
            pl.lit(None, pl.Int64).alias("evidence_start"),
            pl.lit(None, pl.Int64).alias("evidence_end"),
        )
    spans = found.drop("table").lazy()
    return frame.join(spans, on=[DOC, PTR], how="left", maintain_order="left")


class _Offsets:
    """Evidence offsets for the fact tables of a run, found when the first fact table is
    read whole (by an export): `validate` needs none, so it reads no fact table for them.
    Only the evidence columns are read from the parts."""

    def __init__(self, model: Model, texts: SourceTexts, searched: pl.DataFrame | None):
        self.model, self.texts, self.searched = model, texts, searched
        self.found: pl.DataFrame | None = None
        self.done = False

    def __call__(self, tables: PartTables, name: str, frame: pl.LazyFrame) -> pl.LazyFrame:
        if name not in {t.name for t in self.model.fact_tables}:
            return frame
        if not self.done:
            wanted: dict[str, set[str]] = {}
            for table, column, _, _ in grounded_columns(self.model):
                wanted.setdefault(table, set()).add(column)
            spans = read_columns(tables, wanted)
            self.found = evidence_offsets(self.model, spans, self.texts, self.searched)
            self.done = True
        return with_offsets(name, frame, self.found)


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
    peaks: dict[str, float] = {}
    clock = time.perf_counter()
    with _engine(opts.engine) as engine:  # first: an engine may read the files itself
        timings["engine_start"] = time.perf_counter() - clock
        peaks["engine_start"] = max_rss_mb()
        clock = time.perf_counter()
        model = load_model()
        budget = ProblemBudget(limits.max_problems_per_file)
        loaded = engine.stage(
            model, paths, limits, budget, cache=opts.cache, progress=opts.progress
        )
        try:
            timings["load"] = time.perf_counter() - clock
            peaks["load"] = max_rss_mb()
            return _checked(model, loaded, budget, limits, opts, engine, timings, peaks)
        except BaseException:
            loaded.close()
            raise


def _checked(
    model: Model,
    loaded: Staged,
    budget: ProblemBudget,
    limits: Limits,
    opts: Options,
    engine: Engine,
    timings: dict[str, float],
    peaks: dict[str, float],
) -> Run:
    problems, checked = loaded.problems, loaded.files
    frames = loaded.frames()
    opts.progress.begin("cross-checking")
    texts = loaded.texts
    assert texts is not None  # staging always reads the texts
    clock = time.perf_counter()
    loaded.load(engine)
    timings["engine_load"] = time.perf_counter() - clock
    peaks["engine_load"] = max_rss_mb()
    ctx = CheckContext(model, frames, engine=engine, texts=texts)
    ctx.cache[LIMITS] = limits
    for check in registry.checks():
        clock = time.perf_counter()
        for fails in check(ctx):
            fails = without_follow_ons(ordered(fails), loaded.rejected, loaded.stand_ins)
            problems += budget.render(fails, ctx)
        name = registry.name_of(check)
        timings[name] = time.perf_counter() - clock
        peaks[name] = max_rss_mb()
    offsets = _Offsets(model, texts, ctx.evidence)  # attached when a fact table is read
    loaded.tables.when_read(lambda name, frame: offsets(loaded.tables, name, frame))
    counted = [*(t.name for t in model.fact_tables), "sources", "actors"]
    records = sum(loaded.tables.height(name) for name in counted)
    report = Report(problems=problems, files=len(checked), records=records, checked_files=checked)
    return Run(report, model, frames, texts, loaded.digests, timings, peaks)


def max_rss_mb() -> float:
    """The process's peak resident memory so far, in MB (0 where the platform cannot say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20 if sys.platform == "darwin" else 1 << 10)  # bytes there, KB here


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
    with run(paths, limits=limits, cache=cache, progress=progress, engine=engine) as done:
        return done.report
