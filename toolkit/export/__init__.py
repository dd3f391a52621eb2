"""Export a valid dataset as typed tables: Parquet, CSV and a Frictionless datapackage.json,
and on request a SQLite database with Datasette metadata (`toolkit.export.sqlite`).

`export()` validates first and writes nothing unless the data is valid; the
caller decides what to print and which exit code follows. Writing goes through
`atomic.replace_folder`, so the output folder holds either the previous export
or the complete new one. Output depends only on the input bytes, the model and
the library versions: identical input gives byte-identical files.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import polars as pl

from toolkit.checker import Run
from toolkit.engines.base import Workers
from toolkit.errors import UsageError
from toolkit.export import (
    assemble,
    atomic,
    csv_writer,
    datapackage,
    parquet,
    partitioned,
    sqlite,
    tasks,
    typed,
)
from toolkit.frames.base import DOC
from toolkit.model.model import Model
from toolkit.parsers import FileEntry
from toolkit.result import Report
from toolkit.stage.parts import PartTables, RunFolder

FORMATS = ("parquet", "csv", "sqlite")
DEFAULT_FORMATS = ("parquet", "csv")
LAYOUTS = partitioned.LAYOUTS


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export did: the validation report, and the tables written (if any)."""

    report: Report
    out: Path
    written: bool
    formats: tuple[str, ...] = ()
    tables: dict[str, int] = field(default_factory=dict)  # table → rows, in model order
    files: tuple[str, ...] = ()  # file names inside `out`, in writing order
    input_sha256: str | None = None
    layout: str = "files"
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)  # table → reason → rows

    @property
    def ok(self) -> bool:
        return self.written


def _formats(formats: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UsageError(
            f"unknown export format {', '.join(map(repr, unknown)) or '(none)'}; "
            f"choose from: {', '.join(FORMATS)}"
        )
    return tuple(f for f in FORMATS if f in chosen)


def _layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise UsageError(f"unknown export layout {layout!r}; choose from: {', '.join(LAYOUTS)}")
    return layout


def _one_file(name: str, frame: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    return [(f"{name}.csv", frame)]


def _discover(paths: Sequence[str], target: Path) -> list[FileEntry]:
    """The files the run will read; refuses an output folder inside a data folder, where
    the next run would read datapackage.json back as a bundle."""
    from toolkit.parsers import discover

    entries, _ = discover(paths)
    out = target.resolve()
    roots = {entry.root.resolve() for entry in entries}
    roots |= {Path(p).resolve() for p in paths if Path(p).is_dir()}
    for root in sorted(roots):
        if out == root or root in out.parents:
            raise UsageError(
                f"{os.fspath(target)}: is inside the data folder {root}; "
                "write the export to a folder outside it"
            )
    return entries


def _inputs(entries: list[FileEntry], run: Run) -> list[parquet.InputFile]:
    """Every file the run read: the discovered bundles and actors, and the text copies
    their sources name, each relative to its data folder."""
    from toolkit.stage.texts import resolve_text

    files = {
        str(entry.path.resolve()): os.path.relpath(entry.path, entry.root) for entry in entries
    }
    text_files = run.text_files
    if text_files is not None:  # what the run's text check resolved
        for path, relative in text_files.items():
            files.setdefault(path, relative)
    else:
        sources = run.frames.tables["sources"].filter(pl.col("text").is_not_null())
        for index, text in sources.select(DOC, "text").iter_rows():
            doc = run.frames.documents[index]
            found, _, _ = resolve_text(doc.path, doc.root, text)
            if found is not None:
                base = (doc.root or doc.path.parent).resolve()
                files.setdefault(str(found), os.path.relpath(found, base))
    digests = run.digests
    return [
        parquet.InputFile(relative, path, digests.get(path)) for path, relative in files.items()
    ]


def _toolkit_version() -> str:
    import toolkit

    return str(getattr(toolkit, "__version__", "0+unknown"))


class _Written:
    """What writing the tables has made so far: the files in order (Parquet, CSV, then the
    descriptor and the SQLite files), the Data Package's CSV resources, each table's rows,
    the key columns the foreign-key check reads (in the run's `folder` when there is one:
    at 10M facts they are 1.5 GB), and (for SQLite, which is written from every table at
    once) the tables themselves."""

    def __init__(
        self, model: Model, chosen: tuple[str, ...], folder: RunFolder | None = None
    ) -> None:
        self.parquet: list[str] = []
        self.csv: list[str] = []
        self.last: list[str] = []  # written after every table: descriptor, SQLite
        self.resources: list[datapackage.CsvFile] = []
        self.rows: dict[str, int] = {}
        self.keys: dict[str, pl.DataFrame | pl.LazyFrame] = {}
        self.kept: dict[str, pl.DataFrame] = {}
        self._key_columns = assemble.key_columns(model)
        self._sqlite = "sqlite" in chosen
        self._folder = folder

    def add(self, name: str, frame: pl.DataFrame) -> None:
        self.rows[name] = frame.height
        keys = frame.select(self._key_columns[name])
        if self._folder is not None and keys.width:
            path = self._folder.file(f"export-keys-{name}")
            keys.write_parquet(path, compression="lz4")
            self.keys[name] = pl.scan_parquet(path)
        else:
            self.keys[name] = keys
        if self._sqlite:
            self.kept[name] = frame

    def adopt(self, staging: atomic.Staging, name: str, done: list[tasks.Done]) -> None:
        """A table the engine's workers wrote (`toolkit.export.tasks`), listed as if this
        process had written it: Parquet files by year, then the CSV parts by year."""
        self.rows[name] = sum(d.rows for d in done)
        self.keys[name] = pl.scan_parquet([d.keys for d in done])
        files = [f for d in done for f in d.parquet]
        staging.adopt(files)
        self.parquet += files
        parts = [f for d in done for f in d.csv]
        if not parts:
            return
        staging.adopt(parts)
        self.csv += parts
        # read back: the digest of the whole cannot be made of the parts' digests
        digest = csv_writer.digest_parts(csv_writer.file_blocks(staging.path / p) for p in parts)
        self.resources.append(datapackage.CsvFile(name, parts, digest.size, digest.hexdigest()))


def _write_table(
    staging: atomic.Staging,
    model: Model,
    name: str,
    frame: pl.DataFrame,
    chosen: tuple[str, ...],
    common: dict[str, str],
    written: _Written,
    csv: ThreadPoolExecutor,
    *,
    formula_safe: bool,
    years: pl.Series | None,
) -> None:
    """One table's Parquet file (or, with `years`, its partitioned dataset) and CSV
    file(s): the CSV is written by a worker thread while this one writes the Parquet
    (polars works outside the interpreter lock, so the two overlap), a slice of rows at a
    time, its digest taken as it goes: the table's text is never held whole."""

    def write_csv() -> tuple[list[str], csv_writer.Digest]:
        parts = (
            _one_file(name, frame) if years is None else partitioned.csv_parts(name, frame, years)
        )
        digest = csv_writer.Digest()
        for i, (path, rows) in enumerate(parts):
            staging.write(
                path,
                partial(
                    csv_writer.write,
                    rows,
                    formula_safe=formula_safe,
                    digest=digest,
                    skip_header=i > 0,
                ),
            )
        return [path for path, _ in parts], digest

    writing = csv.submit(write_csv) if "csv" in chosen else None
    try:
        if "parquet" in chosen and years is not None:
            key = model.tables[name].primary_key
            meta = partitioned.metadata(common, name, frame.height, key)
            written.parquet += partitioned.write_parquet(staging, name, frame, years, meta)
        elif "parquet" in chosen:
            staging.write(f"{name}.parquet", partial(parquet.write_table, frame, name, common))
            written.parquet.append(f"{name}.parquet")
    finally:
        paths, digest = writing.result() if writing is not None else ([], None)
    if digest is None:
        return
    written.csv += paths
    path: str | list[str] = paths if years is not None else paths[0]
    written.resources.append(datapackage.CsvFile(name, path, digest.size, digest.hexdigest()))


def _write_tables(
    staging: atomic.Staging,
    decided: assemble.Plan,
    tables: MutableMapping[str, pl.DataFrame],
    chosen: tuple[str, ...],
    common: dict[str, str],
    input_hash: str,
    *,
    formula_safe: bool,
    layout: str,
    workers: Workers | None = None,
) -> _Written:
    """Each table in model order, typed, written and let go (its key columns kept); then the
    foreign-key check over all of them; then the Data Package descriptor; then the SQLite
    database and its Datasette metadata. With `workers` (partitioned layout, staged parts),
    the fact and part tables are written by the engine's workers once the sources are."""
    model = decided.model
    written = _Written(model, chosen, tables.folder if isinstance(tables, PartTables) else None)
    of_source: dict[str, int] = {}
    split = partitioned.partitioned_tables(model) if layout == "partitioned" else set()
    elsewhere: dict[str, list[tasks.Done]] = {}
    handover = None
    if workers is not None and split and isinstance(tables, PartTables):
        handover = tasks.Handover(
            decided,
            tables,
            staging,
            common,
            workers,
            formats=chosen,
            formula_safe=formula_safe,
        )
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="factkit-csv") as csv:
        for table in model.tables.values():
            name = table.name
            if name in elsewhere:
                written.adopt(staging, name, elsewhere.pop(name))
                continue
            frame = assemble.exported_table(table, decided, tables)
            if name == "sources" and split:
                of_source = partitioned.source_years(frame)
            years = partitioned.year_column(frame, of_source) if name in split else None
            _write_table(
                staging,
                model,
                name,
                frame,
                chosen,
                common,
                written,
                csv,
                formula_safe=formula_safe,
                years=years,
            )
            written.add(name, frame)
            del frame, years  # before the next table is read
            if name == "sources" and handover is not None:
                elsewhere = handover.run(of_source)
    typed.check_foreign_keys(model, written.keys)
    written.keys.clear()
    if "csv" in chosen:
        package = datapackage.descriptor(
            model,
            written.resources,
            formula_safe=formula_safe,
            toolkit_version=_toolkit_version(),
            input_sha256=input_hash,
        )
        staging.write_bytes(datapackage.FILE_NAME, datapackage.to_bytes(package))
        written.last.append(datapackage.FILE_NAME)
    if "sqlite" in chosen:
        staging.write_bytes(sqlite.DATABASE, sqlite.database(model, written.kept))
        meta = sqlite.metadata(model, written.kept, toolkit_version=_toolkit_version())
        staging.write_bytes(sqlite.METADATA, sqlite.metadata_bytes(meta))
        written.last += [sqlite.DATABASE, sqlite.METADATA]
    return written


def _workers(chosen: tuple[str, ...], layout: str) -> Workers | None:
    """Where the partitioned layout's large tables are written: by the engine's workers
    when it has workers of its own (`Engine.workers`: Spark's executors), except for
    SQLite, which is made from every table at once in this process."""
    from toolkit import checker

    engine = checker.current_options().engine
    if layout != "partitioned" or "sqlite" in chosen or isinstance(engine, str):
        return None
    return engine.workers()


def export(
    paths: Sequence[str | os.PathLike[str]] = ("data",),
    out: str | os.PathLike[str] = "dist",
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    formula_safe: bool = False,
    include_unreviewed: bool = False,
    layout: str = "files",
) -> ExportResult:
    """Validate `paths`; if the data has no errors, write every table to folder `out`.

    Returns the result either way (`written` False when the data is invalid).
    Raises UsageError for a bad request (unknown format, an `out` that is not an
    export folder or lies inside a data folder) and ExportError when writing
    fails; `out` is then unchanged. Rejected facts are never exported; unreviewed
    machine extractions only with `include_unreviewed` (see `toolkit.export.release`).
    `layout` "partitioned" writes each fact table and its part tables as a dataset
    partitioned by publication year (see `toolkit.export.partitioned`).
    """
    from toolkit import checker  # looked up at call time, so tests can replace checker.run

    chosen = _formats(formats)
    layout = _layout(layout)
    str_paths = [os.fspath(p) for p in paths]
    target = Path(out)
    entries = _discover(str_paths, target)
    run = checker.run(str_paths)
    if not run.report.ok:
        return ExportResult(report=run.report, out=target, written=False)
    model = run.model
    progress = checker.current_options().progress
    progress.begin("exporting")
    try:
        decided = assemble.plan(model, run.frames.tables, include_unreviewed=include_unreviewed)
        input_hash = parquet.input_sha256(_inputs(entries, run))
        common = parquet.common_metadata(model, _toolkit_version(), input_hash)
        common[f"{parquet.PREFIX}release"] = decided.policy
        with atomic.replace_folder(target) as staging:
            written = _write_tables(
                staging,
                decided,
                run.frames.tables,
                chosen,
                common,
                input_hash,
                formula_safe=formula_safe,
                layout=layout,
                workers=_workers(chosen, layout),
            )
    finally:
        run.close()  # the run's parts: each table was read from them once
    progress.end()
    return ExportResult(
        report=run.report,
        out=target,
        written=True,
        formats=chosen,
        tables=written.rows,
        files=(*written.parquet, *written.csv, *written.last),
        input_sha256=input_hash,
        left_out=decided.left_out,
        layout=layout,
    )


__all__ = ["DEFAULT_FORMATS", "FORMATS", "LAYOUTS", "ExportResult", "export"]
