"""The parse cache's flattened rows: what flattening made of each cached YAML file, kept
between runs so that a warm run neither flattens again nor builds thousands of small frames.

Flattening 5,000 YAML bundles costs more than parsing them from the cache, and it is
the same work every run: a file's rows depend only on its bytes, its path from the data
folder (the `bundle_file` column), the model and the flattening code. So the rows of
every cached file are kept in one file per cache folder, `frames.bin`: each check table
once, as an Arrow IPC stream, its rows carrying `_fid` (which file) and `_doc` numbered
within that file. A file's rows are found by `rows_key`, the parse cache's key of the file
together with its path, a digest of the flattening code and this format: a changed file,
model, schema folder or factkit gives another key and is flattened again.

One file instead of one entry per cached file, because reading 5,000 small IPC streams
costs more than flattening (0.3 ms each, measured): a warm run reads each table once and
places every hit's rows with one join per table (`take`). Like the entries, the file is
signed (HMAC-SHA256 with the cache's key): one that did not come from this user's factkit,
was torn or does not match the model is ignored (every file is then flattened) and
written again by the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from toolkit.pack import open_folder, open_regular

NAME = "frames.bin"
FORMAT = 1
FID = "_fid"
DOC = "_doc"
_MAGIC = b"factkit-frames\n"
_MAX_BYTES = 2 * 1024**3
_FIRST = "__first"

# what a torn, foreign or outdated frames.bin raises while read: it is then not used
_UNREADABLE = (OSError, ValueError, TypeError, KeyError, IndexError, pl.exceptions.PolarsError)

Schemas = Mapping[str, Mapping[str, pl.DataType]]


@cache
def _code_digest() -> str:
    """SHA-256 over the flattening code: a change to it (within one version) is a miss."""
    import toolkit.frames

    digest = hashlib.sha256()
    for path in sorted(Path(toolkit.frames.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def rows_key(key: str, bundle_file: str) -> str:
    """Where a file's rows are kept: its parse-cache key (bytes, model, limits, version)
    with its path from the data folder, the flattening code and this format."""
    text = f"{FORMAT}\0{_code_digest()}\0{key}\0{bundle_file}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRows:
    """One file's rows in a store (numbered within the file)."""

    store: FrameStore
    fid: int


@dataclass(frozen=True, slots=True)
class Fresh:
    """Documents `first`..`first + count` of a run's tables, flattened afresh from the
    file whose rows go under `key`."""

    key: str
    first: int
    count: int


class FrameStore:
    """The `frames.bin` of one cache folder: read on first use, written by `update`."""

    def __init__(self, folder: Path, signer: bytes, schemas: Schemas) -> None:
        self.folder = folder
        self.signer = signer
        self.schemas = {name: {**dict(s), FID: pl.UInt32()} for name, s in schemas.items()}
        self._keys: dict[str, int] | None = None
        self._tables: dict[str, pl.DataFrame] = {}

    def get(self, key: str) -> StoredRows | None:
        """The rows kept for `key`, or None."""
        if self._keys is None:
            self._keys = {}
            with contextlib.suppress(*_UNREADABLE):
                self._load()
        fid = self._keys.get(key)
        return None if fid is None else StoredRows(self, fid)

    def take(self, placed: Sequence[tuple[int, int]]) -> dict[str, pl.DataFrame]:
        """The rows of each (file, first `_doc`) in `placed`, numbered from there, in the
        order of `placed` (and of the file within): one join per table."""
        where = pl.DataFrame(
            {FID: [f for f, _ in placed], _FIRST: [d for _, d in placed]},
            schema={FID: pl.UInt32(), _FIRST: pl.UInt32()},
        )
        out: dict[str, pl.DataFrame] = {}
        for name, frame in self._tables.items():
            rows = frame.join(where, on=FID, how="inner", maintain_order="right_left")
            columns = [c for c in frame.columns if c != FID]
            out[name] = rows.with_columns(pl.col(DOC) + pl.col(_FIRST)).select(columns)
        return out

    def update(
        self, tables: Mapping[str, pl.DataFrame], hits: Iterable[int], fresh: Sequence[Fresh]
    ) -> None:
        """Keep the rows of this run's files: those found here (`hits`) and those just
        flattened (`fresh`, from the run's `tables`); rows of files the run did not read
        are let go. Written only when that changes what is kept; a store that cannot be
        written is simply not used."""
        if self._keys is None:
            return
        known = self._keys
        again = [known[f.key] for f in fresh if f.key in known]  # flattened, yet kept here
        kept = list(dict.fromkeys([*hits, *again]))
        fresh = [f for f in {f.key: f for f in fresh}.values() if f.key not in known]
        if not fresh and len(kept) == len(self._keys):
            return
        by_fid = {fid: key for key, fid in self._keys.items()}
        keys = [by_fid[fid] for fid in kept] + [f.key for f in fresh]
        remap = pl.DataFrame(
            {FID: kept, "__new": range(len(kept))}, schema={FID: pl.UInt32(), "__new": pl.UInt32()}
        )
        docs = pl.DataFrame(
            {
                DOC: [f.first + i for f in fresh for i in range(f.count)],
                "__new": [len(kept) + n for n, f in enumerate(fresh) for _ in range(f.count)],
                "__local": [i for f in fresh for i in range(f.count)],
            },
            schema={DOC: pl.UInt32(), "__new": pl.UInt32(), "__local": pl.UInt32()},
        )
        out: dict[str, pl.DataFrame] = {}
        for name, schema in self.schemas.items():
            parts = []
            old = self._tables.get(name)
            if old is not None and kept:
                joined = old.join(remap, on=FID, how="inner", maintain_order="right_left")
                parts.append(joined.with_columns(pl.col("__new").alias(FID)).drop("__new"))
            table = tables.get(name)
            if table is not None and fresh:
                joined = table.join(docs, on=DOC, how="inner", maintain_order="left")
                local = joined.with_columns(
                    pl.col("__local").alias(DOC), pl.col("__new").alias(FID)
                )
                parts.append(local.select(list(schema)))
            out[name] = pl.concat(parts) if parts else pl.DataFrame(schema=dict(schema))
        self._write(keys, out)

    def _load(self) -> None:
        data = self._read()
        if data is None or not data.startswith(_MAGIC):
            return
        head = len(_MAGIC)
        signature, rest = data[head : head + 64], memoryview(data)[head + 65 :]
        expected = hmac.new(self.signer, rest, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(signature, expected) or data[head + 64 : head + 65] != b"\n":
            return
        size = int(bytes(rest[:10]))
        header = json.loads(bytes(rest[11 : 11 + size]))
        at = 11 + size
        tables: dict[str, pl.DataFrame] = {}
        for name, length in header["tables"]:
            frame = pl.read_ipc_stream(rest[at : at + length].tobytes())
            at += length
            if name not in self.schemas or dict(frame.schema) != self.schemas[name]:
                return  # not this model's tables: nothing is kept
            tables[name] = frame
        keys = header["keys"]
        if set(tables) != set(self.schemas) or not all(type(k) is str for k in keys):
            return
        self._tables, self._keys = tables, {key: fid for fid, key in enumerate(keys)}

    def _read(self) -> bytes | None:
        folder = open_folder(self.folder, create=False)
        if folder is None:
            return None
        try:
            fd = open_regular(NAME, os.O_RDONLY, dir_fd=folder)
            with os.fdopen(fd, "rb") as handle:
                if os.fstat(handle.fileno()).st_size > _MAX_BYTES:
                    return None
                return handle.read()
        except FileNotFoundError:
            return None
        finally:
            os.close(folder)

    def _write(self, keys: list[str], tables: dict[str, pl.DataFrame]) -> None:
        blobs: list[bytes] = []
        for frame in tables.values():
            blobs.append(_ipc(frame))
        header = json.dumps(
            {"keys": keys, "tables": [[n, len(b)] for n, b in zip(tables, blobs, strict=True)]}
        ).encode()
        rest = b"%010d\n" % len(header) + header + b"".join(blobs)
        signature = hmac.new(self.signer, rest, hashlib.sha256).hexdigest().encode()
        body = _MAGIC + signature + b"\n" + rest
        with contextlib.suppress(OSError):
            self._replace(body)
        self._tables, self._keys = tables, {key: fid for fid, key in enumerate(keys)}

    def _replace(self, body: bytes) -> None:
        folder = open_folder(self.folder, create=True)
        if folder is None:
            return
        tmp = f".{secrets.token_hex(8)}.tmp"
        try:
            fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, dir_fd=folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(body)
                os.replace(tmp, NAME, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=folder)
                raise
        finally:
            os.close(folder)


def _ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc_stream(sink, compression="uncompressed")
    return sink.getvalue()
