"""Export a valid dataset as typed tables: Parquet, CSV and a Frictionless datapackage.json,
and on request a SQLite database with Datasette metadata (`toolkit.export.sqlite`).

`export()` validates first and writes nothing unless the data is valid; the
caller decides what to print and which exit code follows. Writing goes through
`atomic.replace_folder`, so the output folder holds either the previous export
or the complete new one. Output depends only on the input bytes, the model and
the library versions: identical input gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import polars as pl

from toolkit.checker import Run
from toolkit.errors import UsageError
from toolkit.export import (
    atomic,
    csv_writer,
    datapackage,
    parquet,
    partitioned,
    release,
    sqlite,
    typed,
)
from toolkit.frames.base import DOC
from toolkit.model.model import Model
from toolkit.parsers import FileEntry
from toolkit.resolve.export import annotate
from toolkit.result import Report

FORMATS = ("parquet", "csv", "sqlite")
DEFAULT_FORMATS = ("parquet", "csv")
LAYOUTS = partitioned.LAYOUTS
# How a table's CSV is cut into files: table name, rows → (file name, rows) per file.
Split = Callable[[str, pl.DataFrame], list[tuple[str, pl.DataFrame]]]


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


Encoded = tuple[str, list[tuple[str, bytes]]]  # table, its CSV files (name, bytes)


class _Encoded:
    """CSV files encoded one after the other in a worker thread while the calling thread
    makes the Parquet bytes of the same table (polars works outside the interpreter lock,
    so the two overlap). The worker stays at most AHEAD tables ahead, so memory holds one
    or two tables' CSV bytes, not all of them, and stops at the first failure, so a failed
    export encodes no more than the sequential one did."""

    AHEAD = 1

    def __init__(
        self,
        tables: dict[str, pl.DataFrame],
        formats: tuple[str, ...],
        formula_safe: bool,
        split: Split = _one_file,
    ) -> None:
        self.tables = tables
        self.split = split
        self._queue: queue.Queue[Encoded | BaseException] = queue.Queue(self.AHEAD)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if "csv" in formats:
            self._thread = threading.Thread(
                target=self._encode_csv, args=(formula_safe,), name="factkit-csv", daemon=True
            )
            self._thread.start()

    def _put(self, item: Encoded | BaseException) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _encode_csv(self, formula_safe: bool) -> None:
        for name, frame in self.tables.items():
            if self._stop.is_set():
                return
            try:
                parts = [
                    (path, csv_writer.to_bytes(rows, formula_safe=formula_safe))
                    for path, rows in self.split(name, frame)
                ]
            except BaseException as exc:  # handed to the caller, which raises it
                self._put(exc)
                return
            if not self._put((name, parts)):
                return

    def next_csv(self, name: str) -> list[tuple[str, bytes]]:
        """The CSV files of table `name` (name, bytes), the next in table order."""
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        got, parts = item
        if got != name:
            raise RuntimeError(f"CSV of {got} arrived for {name}")  # a bug, not bad data
        return parts

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _write_tables(
    staging: atomic.Staging,
    model: Model,
    tables: dict[str, pl.DataFrame],
    encoded: _Encoded,
    chosen: tuple[str, ...],
    common: dict[str, str],
    input_hash: str,
    *,
    formula_safe: bool,
    years: dict[str, pl.Series],
) -> tuple[str, ...]:
    """Each table's Parquet file (or, for a table in `years`, its partitioned dataset), then
    its CSV file(s) as soon as they are encoded; then the Data Package descriptor; then the
    SQLite database and its Datasette metadata. Returns the files written, in that order."""
    parquet_files: list[str] = []
    csv_files: list[datapackage.CsvFile] = []
    csv_paths: list[str] = []
    for name, frame in tables.items():
        if "parquet" in chosen and name in years:
            key = model.tables[name].primary_key
            meta = partitioned.metadata(common, name, frame, key)
            parquet_files += partitioned.write_parquet(staging, name, frame, years[name], meta)
        elif "parquet" in chosen:
            staging.write(f"{name}.parquet", partial(parquet.write_table, frame, name, common))
            parquet_files.append(f"{name}.parquet")
        if "csv" in chosen:
            parts = encoded.next_csv(name)
            for path, data in parts:
                staging.write_bytes(path, data)
            csv_paths += [path for path, _ in parts]
            if name in years:
                size, digest = partitioned.multipart_digest([data for _, data in parts])
                paths: str | list[str] = [path for path, _ in parts]
            else:
                ((paths, data),) = parts
                size, digest = len(data), hashlib.sha256(data).hexdigest()
            csv_files.append(datapackage.CsvFile(name, paths, size, digest))
            del parts, data  # before the next table's bytes are made
    written = [*parquet_files, *csv_paths]
    if "csv" in chosen:
        package = datapackage.descriptor(
            model,
            csv_files,
            formula_safe=formula_safe,
            toolkit_version=_toolkit_version(),
            input_sha256=input_hash,
        )
        staging.write_bytes(datapackage.FILE_NAME, datapackage.to_bytes(package))
        written.append(datapackage.FILE_NAME)
    if "sqlite" in chosen:
        staging.write_bytes(sqlite.DATABASE, sqlite.database(model, tables))
        meta = sqlite.metadata(model, tables, toolkit_version=_toolkit_version())
        staging.write_bytes(sqlite.METADATA, sqlite.metadata_bytes(meta))
        written += [sqlite.DATABASE, sqlite.METADATA]
    return tuple(written)


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
    chosen_facts = release.release(model, run.frames, include_unreviewed=include_unreviewed)
    resolved = annotate(model, dict(run.frames.tables), chosen_facts.frames)
    input_hash = parquet.input_sha256(_inputs(entries, run))
    run.close()  # every table is read: the run's parts can go
    report, left_out, policy = run.report, chosen_facts.left_out, chosen_facts.policy
    # the check tables and the released ones go before the typed ones are made, and each
    # resolved table as soon as its typed one is: memory holds about two copies, not four
    del run, chosen_facts
    tables = typed.typed_tables(model, resolved, consume=True)
    del resolved
    common = parquet.common_metadata(model, _toolkit_version(), input_hash)
    common[f"{parquet.PREFIX}release"] = policy
    years: dict[str, pl.Series] = {}
    if layout == "partitioned":
        of_source = partitioned.source_years(tables["sources"])
        years = {
            name: partitioned.year_column(tables[name], of_source)
            for name in partitioned.partitioned_tables(model)
        }

    def split(name: str, frame: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
        if name in years:
            return partitioned.csv_parts(name, frame, years[name])
        return _one_file(name, frame)

    encoded = _Encoded(tables, chosen, formula_safe, split)
    try:
        with atomic.replace_folder(target) as staging:
            written = _write_tables(
                staging,
                model,
                tables,
                encoded,
                chosen,
                common,
                input_hash,
                formula_safe=formula_safe,
                years=years,
            )
    finally:
        encoded.close()
    progress.end()
    return ExportResult(
        report=report,
        out=target,
        written=True,
        formats=chosen,
        tables={name: frame.height for name, frame in tables.items()},
        files=written,
        input_sha256=input_hash,
        left_out=left_out,
        layout=layout,
    )


__all__ = ["DEFAULT_FORMATS", "FORMATS", "LAYOUTS", "ExportResult", "export"]
