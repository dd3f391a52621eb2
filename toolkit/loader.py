"""Read an export back as typed polars tables: `toolkit.load("dist")`.

Parquet is the primary format because it carries the dtypes (Date, Enum,
List(String)) itself. An export written as CSV only is read through its
datapackage.json, which records every column's type and closed values, so both
paths give the same frames. polars is imported on first use, not at
`import toolkit`, so the command line starts fast.

An export replaces its folder as a whole (`toolkit.export.atomic`), possibly while
a reader is in the middle of it, so the files are read as one snapshot: the folder
is opened once and every file through that handle, and the snapshot counts only if
the path still names that folder once every file is open (a folder swapped out is
deleted next, so a listing of it may be incomplete). The files then must agree
with each other: the same factkit metadata in every Parquet file, the package's
input hash and tables, each CSV file's SHA-256 as the package records it. A
snapshot that fails is taken again, a few times, before `InconsistentExportError`.

The partitioned layout (`toolkit.export.partitioned`) gives a table as a folder of
parts (`statements/published_year=2024/00000000.parquet`, and its CSV parts listed in
the package); the parts are read through the same folder handle, without following a
link, checked against the table's row count and put back in primary-key order, so
both layouts load as the same frames.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from toolkit.errors import InconsistentExportError, UsageError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

DATAPACKAGE = "datapackage.json"
META_PREFIX = "factkit:"
ATTEMPTS = 5  # snapshots tried before giving up
PAUSE = 0.02  # seconds before the second attempt; one more step before each further one
# Keys every Parquet file of one export shares (per-table keys: table, rows).
_SHARED_KEYS = ("schema_version", "toolkit_version", "vocabularies", "input_sha256", "release")
CSV_ROOT = "csv"  # the partitioned layout's CSV parts (toolkit.export.partitioned)
ORDER_KEY = f"{META_PREFIX}primary_key"  # in a partitioned table's files: the sort key


@dataclass(frozen=True, eq=False)
class Dataset(Mapping[str, "pl.DataFrame"]):
    """The tables of one export by name, plus what the export says about itself.

    `metadata` holds `format` ('parquet' or 'csv'), `schema_version`,
    `toolkit_version`, `vocabularies` (name → version), `input_sha256` and
    `rows` (table → row count).
    """

    path: Path
    tables: dict[str, pl.DataFrame]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; tables: {', '.join(self.tables)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={frame.height}" for name, frame in self.tables.items())
        return f"Dataset({os.fspath(self.path)!r}: {rows})"

    def to_pandas(self) -> dict[str, pd.DataFrame]:
        """Each table as pandas with pyarrow-backed dtypes, so nulls, dates and lists survive."""
        return {
            name: frame.to_pandas(use_pyarrow_extension_array=True)
            for name, frame in self.tables.items()
        }


class _NotOneExport(Exception):
    """This snapshot is not one complete export (swapped mid-read, or mixed); try again."""


def _decode_meta(raw: Mapping[str, Any]) -> dict[str, Any]:
    """factkit's own metadata keys, with the JSON-valued one decoded."""
    out: dict[str, Any] = {}
    for key in ("schema_version", "toolkit_version", "input_sha256"):
        if f"{META_PREFIX}{key}" in raw:
            out[key] = raw[f"{META_PREFIX}{key}"]
    vocabularies = raw.get(f"{META_PREFIX}vocabularies")
    if isinstance(vocabularies, str):
        vocabularies = json.loads(vocabularies)
    if vocabularies is not None:
        out["vocabularies"] = vocabularies
    return out


def _open_member(dir_fd: int, name: str) -> BinaryIO:
    """Open file `name` ('/'-separated, inside the folder held open as `dir_fd`) for
    reading; a sub-folder on the way is never a link, so the file is in the export."""
    *folders, last = name.split("/")
    fd, opened = dir_fd, []
    try:
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            opened.append(fd)
        flags = os.O_RDONLY | (os.O_NOFOLLOW if folders else 0)
        return os.fdopen(os.open(last, flags, dir_fd=fd), "rb")
    finally:
        for each in opened:
            os.close(each)


def _dataset_parts(dir_fd: int, name: str) -> list[str]:
    """The Parquet files of a partitioned table's folder `name`: at its root (a table
    without rows) and one level down in `key=value` folders; [] when `name` is not such
    a folder. (Their order does not matter: the rows are sorted once read.)"""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return []
    parts: list[str] = []
    try:
        for entry in sorted(os.listdir(fd)):
            if entry.endswith(".parquet"):
                parts.append(f"{name}/{entry}")
                continue
            if "=" not in entry:
                continue
            try:
                sub = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except OSError:
                continue
            try:
                files = sorted(n for n in os.listdir(sub) if n.endswith(".parquet"))
            finally:
                os.close(sub)
            parts += [f"{name}/{entry}/{file}" for file in files]
    finally:
        os.close(fd)
    return parts


@dataclass
class _Snapshot:
    """The files of one export, each open, all from the same folder."""

    descriptor: dict[str, Any] | None
    # file stem (or a partitioned table's folder) → its open files, in the package's order
    parquet: dict[str, list[BinaryIO]]
    csv: dict[str, list[BinaryIO]]  # resource name → its open files (one, or its parts)


@contextlib.contextmanager
def _snapshot(folder: Path) -> Iterator[_Snapshot]:
    """Open the folder, then every file of the export through it; raise _NotOneExport when
    a file vanished or the folder was replaced before all were open."""
    with contextlib.ExitStack() as stack:
        try:
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            raise _NotOneExport(f"{folder} disappeared while it was opened") from None
        except OSError as exc:
            raise UsageError(f"{folder}: cannot read: {exc.strerror or exc}") from exc
        stack.callback(os.close, dir_fd)

        def member(name: str) -> BinaryIO:
            try:
                return stack.enter_context(_open_member(dir_fd, name))
            except FileNotFoundError:
                why = "the folder was replaced or is incomplete"
                raise _NotOneExport(f"{name} is missing: {why}") from None
            except OSError as exc:
                raise UsageError(f"{folder / name}: cannot read: {exc.strerror or exc}") from exc

        try:
            names = set(os.listdir(dir_fd))
        except OSError as exc:
            raise UsageError(f"{folder}: cannot read: {exc.strerror or exc}") from exc
        descriptor = _descriptor(member(DATAPACKAGE), folder) if DATAPACKAGE in names else None
        resources = (descriptor or {}).get("resources", [])
        order = {r.get("name"): i for i, r in enumerate(resources)}
        files = {n.removesuffix(".parquet"): [n] for n in names if n.endswith(".parquet")}
        for name in sorted(names - {CSV_ROOT}):
            parts = [] if name.endswith(".parquet") else _dataset_parts(dir_fd, name)
            if parts:
                files[name] = parts
        stems = sorted(files, key=lambda stem: (order.get(stem, len(order)), stem))
        parquet = {stem: [member(path) for path in files[stem]] for stem in stems}
        csv = (
            {}
            if parquet
            else {r.get("name"): [member(p) for p in _member_names(r, folder)] for r in resources}
        )
        opened = os.fstat(dir_fd)
        try:
            current = os.stat(folder)
        except FileNotFoundError:
            raise _NotOneExport(f"{folder} disappeared while its files were opened") from None
        if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            raise _NotOneExport(f"{folder} was replaced while its files were opened")
        yield _Snapshot(descriptor, parquet, csv)


def _member_names(resource: Any, folder: Path) -> list[str]:
    """A resource's file names (one, or a multipart resource's parts); a path that could
    leave the folder (`../x`, `/etc/x`, `a/../../x`) is refused, never read."""
    path = resource.get("path") if isinstance(resource, dict) else None
    names: list[str] = []
    for name in path if isinstance(path, list) and path else [path]:
        if (
            not isinstance(name, str)
            or any(part in ("", ".", "..") for part in name.split("/"))
            or "\\" in name
            or "\x00" in name
        ):
            raise UsageError(
                f"{folder / DATAPACKAGE}: resource path {name!r} is not a file of the export folder"
            )
        names.append(name)
    return names


def _descriptor(handle: BinaryIO, folder: Path) -> dict[str, Any]:
    path = folder / DATAPACKAGE
    try:
        value = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{path}: not a data package descriptor")
    return value


def _shared_metadata(snap: _Snapshot) -> dict[str, dict[str, str]]:
    """Each Parquet file's key-value metadata, once they are known to be of one export
    (read before any table, so a mixed folder costs no table reads)."""
    import polars as pl

    metas: dict[str, dict[str, str]] = {}
    first: dict[str, str | None] | None = None
    for stem, handles in snap.parquet.items():
        meta = metas[stem] = pl.read_parquet_metadata(handles[0])
        handles[0].seek(0)
        for handle in handles[1:]:  # a partitioned table: every part says the same
            if pl.read_parquet_metadata(handle) != meta:
                raise _NotOneExport(f"the parts of {stem} are from different exports")
            handle.seek(0)
        mine = {key: meta.get(f"{META_PREFIX}{key}") for key in _SHARED_KEYS}
        if first is None:
            first = mine
        elif mine != first:
            differ = ", ".join(k for k in _SHARED_KEYS if mine[k] != first[k])
            raise _NotOneExport(f"{stem}.parquet is from another export ({differ} differ)")
    package = snap.descriptor
    if package is not None and first is not None:
        if package.get(f"{META_PREFIX}input_sha256") != first["input_sha256"]:
            raise _NotOneExport(f"{DATAPACKAGE} is from another export (input_sha256 differs)")
        named = {r.get("name") for r in package.get("resources", [])}
        if named != {meta.get(f"{META_PREFIX}table", stem) for stem, meta in metas.items()}:
            raise _NotOneExport(f"{DATAPACKAGE} lists other tables than the Parquet files")
    return metas


def _read_parquet(folder: Path, snap: _Snapshot) -> Dataset:
    import polars as pl

    metas = _shared_metadata(snap)
    tables: dict[str, pl.DataFrame] = {}
    metadata: dict[str, Any] = {"format": "parquet"}
    for stem, handles in snap.parquet.items():
        meta = metas[stem]
        frame = pl.concat([pl.read_parquet(handle) for handle in handles], how="vertical")
        if ORDER_KEY in meta:  # parts by year: back to the one file's primary-key order
            frame = frame.sort(json.loads(meta[ORDER_KEY]), maintain_order=True)
        tables[meta.get(f"{META_PREFIX}table", stem)] = frame
        rows = meta.get(f"{META_PREFIX}rows")
        if rows is not None and rows != str(frame.height):
            raise _NotOneExport(f"{stem} holds {frame.height} rows, its metadata {rows}")
        if len(metadata) == 1:
            metadata.update(_decode_meta(meta))
    metadata["rows"] = {name: frame.height for name, frame in tables.items()}
    return Dataset(folder, tables, metadata)


def _read_csv(folder: Path, snap: _Snapshot) -> Dataset:
    import polars as pl

    from toolkit.export.csv_writer import read_csv
    from toolkit.export.partitioned import multipart_digest

    descriptor = snap.descriptor or {}
    tables = {}
    for resource in descriptor.get("resources", []):
        parts = [handle.read() for handle in snap.csv[resource.get("name")]]
        multipart = isinstance(resource.get("path"), list)
        digest = multipart_digest(parts)[1] if multipart else hashlib.sha256(parts[0]).hexdigest()
        recorded = resource.get("hash")
        if recorded is not None and recorded != f"sha256:{digest}":
            raise _NotOneExport(f"{resource['path']} is not the file {DATAPACKAGE} describes")
        fields = resource["schema"]["fields"]
        frame = pl.concat([read_csv(io.BytesIO(data), fields) for data in parts], how="vertical")
        if multipart:  # parts by year: back to the one file's primary-key order
            frame = frame.sort(resource["schema"]["primaryKey"], maintain_order=True)
        tables[resource["name"]] = frame
    metadata: dict[str, Any] = {"format": "csv"}
    if "version" in descriptor:
        metadata["schema_version"] = descriptor["version"]
    metadata.update(_decode_meta(descriptor))
    metadata["rows"] = {name: frame.height for name, frame in tables.items()}
    return Dataset(folder, tables, metadata)


def _pause(attempt: int) -> None:
    """Wait a little before snapshot `attempt` (1, 2, …): a swap by two renames leaves the
    folder missing for a moment."""
    time.sleep(PAUSE * attempt)


def load(path: str | os.PathLike[str] = "dist") -> Dataset:
    """Read the export in folder `path` (or its datapackage.json) into a Dataset.

    All tables come from one export, even when another export replaces the folder
    meanwhile. Raises UsageError when `path` holds no export, InconsistentExportError
    when no consistent snapshot could be read in `ATTEMPTS` tries (a folder whose files
    come from different exports, or one replaced again and again).
    """
    folder = Path(path)
    if folder.name == DATAPACKAGE and folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{os.fspath(path)}: no such export folder")
    reasons: list[str] = []
    for attempt in range(ATTEMPTS):
        if attempt:
            _pause(attempt)
        try:
            with _snapshot(folder) as snap:
                if snap.parquet:
                    return _read_parquet(folder, snap)
                if snap.descriptor is not None:
                    return _read_csv(folder, snap)
        except _NotOneExport as exc:
            reasons.append(str(exc))
            continue
        raise UsageError(f"{os.fspath(path)}: no Parquet files and no {DATAPACKAGE}")
    raise InconsistentExportError(
        f"{os.fspath(path)}: no consistent export in {ATTEMPTS} attempts; last: {reasons[-1]}"
    )
