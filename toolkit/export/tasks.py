"""The partitioned layout's tables written by an engine's workers (Spark's executors), so
that the largest tables never pass through the driver.

The driver decides what the export holds, as for every export (`assemble.plan`), and
writes the small tables itself. For each fact and part table it then leaves in the run's
folder (which driver and workers see at the same path) the places release kept, each with
the year of its document's source and its evidence offsets, and the clusters; and it cuts
the table into tasks of whole years, about `ROWS_PER_TASK` rows each. A task's query is
the one the driver would run (`assemble.rows` over the run's parts, only the documents of
its years read), pickled; the worker types and sorts those rows and writes them with the
driver's own functions (`partitioned.write_parquet`, `partitioned.csv_parts`) into the
export's staging folder. So the files are byte for byte those the driver writes: every
file holds one year, and a year is never split between tasks. Back come the file names
and the rows (the columns the foreign-key check reads are left in the run's folder: at
10M facts they exceed what Spark lets tasks return, 1 GB); the driver counts the rows
against the plan and lists the files in year order, as it would have written them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl

from toolkit.engines.base import Workers
from toolkit.errors import ExportError
from toolkit.export import assemble, atomic, csv_writer, partitioned
from toolkit.frames.base import DOC
from toolkit.stage.parts import PartTables

ROWS_PER_TASK = 1 << 20  # rows a task types and writes, about (a larger year is one task)
YEAR = "_year"


@dataclass(frozen=True, slots=True)
class Task:
    """Some years of one table: what a worker needs to write their files."""

    table: str
    years: tuple[int, ...]
    query: pl.LazyFrame  # the years' released rows, untyped; reads files only
    sources: str  # Parquet of every source's id and year (`YEAR`)
    staging: str
    meta: dict[str, str]
    formats: tuple[str, ...]
    formula_safe: bool
    keys: tuple[str, ...]  # the columns the foreign-key check reads
    keys_file: str  # where the task leaves them (Parquet, in the run's folder)


@dataclass(slots=True)
class Done:
    """What a task wrote: files relative to the staging folder, in year order."""

    table: str
    years: tuple[int, ...]
    rows: int
    parquet: list[str]
    csv: list[str]
    keys: str  # Parquet of the columns the foreign-key check reads (`Task.keys_file`)


def _groups(keyed: pl.DataFrame, limit: int) -> list[tuple[int, ...]]:
    """Consecutive years in groups of about `limit` rows; a year is never split."""
    counts = keyed.group_by(YEAR).len().sort(YEAR)
    groups: list[list[int]] = []
    size = limit
    for year, rows in counts.iter_rows():
        if size + rows > limit and size:
            groups.append([])
            size = 0
        groups[-1].append(year)
        size += rows
    return [tuple(group) for group in groups]


class Handover:
    """The fact and part tables of a partitioned export, handed to the engine's workers
    once the driver has written the sources."""

    def __init__(
        self,
        plan: assemble.Plan,
        tables: PartTables,
        staging: atomic.Staging,
        common: dict[str, str],
        workers: Workers,
        *,
        formats: tuple[str, ...],
        formula_safe: bool,
    ) -> None:
        self.plan, self.tables, self.staging, self.common = plan, tables, staging, common
        self.workers, self.formats, self.formula_safe = workers, formats, formula_safe
        # each document's `_doc` and source `id` (one source per bundle), read before the
        # driver's export takes the sources out of `tables`
        self.documents = tables.read_columns({"sources": {"id"}})["sources"].select(DOC, "id")

    def names(self) -> list[str]:
        """The tables handed over: the partitioned ones with rows that the workers can read
        as the driver would, from their parts (one replaced in memory stays on the driver)."""
        split = partitioned.partitioned_tables(self.plan.model)
        return [
            name
            for name in self.plan.model.tables
            if name in split and self.tables.from_parts(name) and self.plan.kept[name].height
        ]

    def run(self, of_source: Mapping[str, int]) -> dict[str, list[Done]]:
        """Write the tables on the workers (`of_source`: source id → year, from the sources
        the driver wrote); each table's tasks' results in year order, their rows counted
        against the plan. The tables are taken out of `tables`."""
        names = self.names()
        by_table: dict[str, list[Done]] = {name: [] for name in names}
        for done in self.workers(write, self.tasks(names, of_source)):
            by_table[done.table].append(done)
        for name, found in by_table.items():
            found.sort(key=lambda done: done.years)
            rows, decided = sum(done.rows for done in found), self.plan.kept[name].height
            if rows != decided:
                raise ExportError(f"{name}: {rows} rows written, {decided} decided")
            del self.tables[name]
        return by_table

    def tasks(self, names: Sequence[str], of_source: Mapping[str, int]) -> list[Task]:
        """The tasks that write tables `names`. Leaves what they read in the run's folder."""
        plan, tables = self.plan, self.tables
        folder = tables.folder
        sources = pl.DataFrame(
            {"id": list(of_source), YEAR: list(of_source.values())},
            schema={"id": pl.String(), YEAR: pl.Int32()},
        )
        sources_file = folder.file("export-sources")
        sources.write_parquet(sources_file)
        doc_year = self.documents.join(sources, on="id", how="left").select(DOC, YEAR)
        cluster: pl.LazyFrame | None = None
        if plan.cluster is not None:
            clusters_file = folder.file("export-clusters")
            plan.cluster.write_parquet(clusters_file)
            cluster = pl.scan_parquet(clusters_file)
        tables.paths()  # parts held in memory go to their files: a task reads files only
        key_columns = assemble.key_columns(plan.model)
        out: list[Task] = []
        for name in names:
            table = plan.model.tables[name]
            keys = plan.kept[name].lazy()
            if tables.finish is not None:  # evidence offsets, as the driver's read adds them
                keys = tables.finish(name, keys)
            keyed = keys.join(doc_year.lazy(), on=DOC, how="left").collect()
            if keyed[YEAR].null_count():
                raise ExportError(f"{name}: rows whose document has no source year (a bug)")
            keys_file = folder.file(f"export-{name}")
            keyed.write_parquet(keys_file)
            meta = partitioned.metadata(self.common, name, keyed.height, table.primary_key)
            for years in _groups(keyed, ROWS_PER_TASK):
                chosen = pl.col(YEAR).is_in(pl.Series(years, dtype=pl.Int32).implode())
                docs = keyed.filter(chosen)[DOC].unique().sort()
                places = pl.scan_parquet(keys_file).filter(chosen).drop(YEAR)
                raw = tables.of_documents(name, docs.to_list())
                out.append(
                    Task(
                        table=name,
                        years=years,
                        query=assemble.rows(table, raw, places, cluster),
                        sources=str(sources_file),
                        staging=str(self.staging.path),
                        meta=meta,
                        formats=self.formats,
                        formula_safe=self.formula_safe,
                        keys=tuple(key_columns[name]),
                        keys_file=str(folder.file(f"export-keys-{name}")),
                    )
                )
        return out


def write(task: Task) -> Done:
    """Run on a worker: type, sort and write one task's years of its table."""
    from toolkit.export import typed
    from toolkit.model.model import load_model

    model = load_model()
    table = model.tables[task.table]
    try:
        rows = task.query.collect(engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise ExportError(f"{task.table}: cannot read its rows: {exc}") from exc
    frame = typed.typed_frame(table, rows, model, sort=True)
    del rows
    typed.check_table(table, frame, model)
    sources = pl.read_parquet(task.sources).filter(
        pl.col(YEAR).is_in(pl.Series(task.years, dtype=pl.Int32).implode())
    )
    try:
        years = partitioned.year_column(frame, dict(sources.iter_rows()))
    except pl.exceptions.PolarsError as exc:  # a row whose source is of another year
        raise ExportError(f"{task.table}: a row outside years {task.years} (a bug)") from exc
    staging = atomic.Staging(Path(task.staging))
    parquet: list[str] = []
    if "parquet" in task.formats:
        parquet = partitioned.write_parquet(staging, task.table, frame, years, task.meta)
    csv: list[str] = []
    if "csv" in task.formats:
        for path, part in partitioned.csv_parts(task.table, frame, years):
            staging.write(path, partial(csv_writer.write, part, formula_safe=task.formula_safe))
            csv.append(path)
    frame.select(task.keys).write_parquet(task.keys_file)  # too large to send back
    return Done(task.table, task.years, frame.height, parquet, csv, task.keys_file)
