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
places every hit's rows with one join per table (`take`). The file is a sequence of
segments (lz4-compressed); a run that flattened files appends theirs as one segment, and
after `MAX_SEGMENTS` the file is written again with only the live rows (a file's latest,
while it exists), so a changed file costs a small append, not a rewrite. Like the entries,
each segment is signed (HMAC-SHA256 with the cache's key): one that did not come from
this user's factkit, was torn or does not match the model is ignored with all after it
(those files are then flattened) and the file is written again by the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from toolkit.pack import open_folder, open_regular, replace_file

NAME = "frames.bin"
FORMAT = 1
FID = "_fid"
DOC = "_doc"
_MAGIC = b"factkit-frames\n"
_MAX_BYTES = 2 * 1024**3
_FIRST = "__first"
MAX_SEGMENTS = 16  # appended segments before the file is written again as one

# what a torn, foreign or outdated frames.bin raises while read: it is then not used
_UNREADABLE = (OSError, ValueError, TypeError, KeyError, IndexError, pl.exceptions.PolarsError)

Schemas = Mapping[str, Mapping[str, pl.DataType]]


@cache
def _code_digest() -> str:
    """SHA-256 over the code rows depend on (flattening, the model's tables, the integer
    rule, this module): a change to it within one version is a miss."""
    base = Path(__file__).parent
    digest = hashlib.sha256()
    code = [*base.glob("frames/*.py"), *base.glob("model/*.py"), base / "parsers" / "numbers.py"]
    for path in sorted([*code, Path(__file__)]):
        digest.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes())
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
    file: str  # its absolute path: rows kept for an older version of it are dead


class FrameStore:
    """The `frames.bin` of one cache folder: read on first use, written by `update`."""

    def __init__(self, folder: Path, signer: bytes, schemas: Schemas) -> None:
        self.folder = folder
        self.signer = signer
        self.schemas = {name: {**dict(s), FID: pl.UInt32()} for name, s in schemas.items()}
        self._keys: dict[str, int] | None = None
        self._files: list[str] = []  # each kept file's path, by number
        self._key_of: list[str] = []  # and its key
        self._tables: dict[str, pl.DataFrame] = {}
        self._segments = 0  # how many segments the file holds
        self._clean = True  # False: something in the file did not verify
        self._reader: threading.Thread | None = None  # reading the file ahead (`prefetch`)

    def prefetch(self) -> None:
        """Start reading the file in a thread: polars decodes its tables without the GIL,
        meanwhile the run finds and reads its files; the first use waits for it."""
        if self._keys is None and self._reader is None:
            self._reader = threading.Thread(target=self._ahead, name="factkit-frames", daemon=True)
            self._reader.start()

    def _ahead(self) -> None:
        try:
            self._known()
        except BaseException:  # read again, and fail, where it is used
            self._keys = None

    def get(self, key: str) -> StoredRows | None:
        """The rows kept for `key`, or None."""
        fid = self._known().get(key)
        return None if fid is None else StoredRows(self, fid)

    def _known(self) -> dict[str, int]:
        """Each kept file's key and number, the file read on first use."""
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join()  # read ahead: nothing else touches the store meanwhile
            self._reader = None
        if self._keys is None:
            self._keys, self._files, self._key_of, self._tables = {}, [], [], {}
            self._segments, self._clean = 0, True
            self._load()
        return self._keys

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
        flattened (`fresh`, from the run's `tables`). New rows are appended as a segment;
        once the file holds many segments (or something in it did not verify) it is
        rewritten with the rows still alive: this run's, and for every other file that
        still exists its latest rows (a data folder sharing the cache folder keeps its
        rows). A store that cannot be written is simply not used. The rows read are let
        go (they would be read again if asked)."""
        try:
            self._update(tables, hits, fresh)
        finally:
            self._keys, self._files, self._key_of, self._tables = None, [], [], {}

    def _update(
        self, tables: Mapping[str, pl.DataFrame], hits: Iterable[int], fresh: Sequence[Fresh]
    ) -> None:
        known = self._known()
        again = [known[f.key] for f in fresh if f.key in known]  # flattened, yet kept here
        used = list(dict.fromkeys([*hits, *again]))
        fresh = [f for f in {f.key: f for f in fresh}.values() if f.key not in known]
        if not fresh:
            return  # nothing new (rows of changed files wait for the next rewrite)
        if self._segments and self._segments < MAX_SEGMENTS and self._clean:
            rows = self._fresh_rows(tables, fresh, 0)
            self._write([f.key for f in fresh], [f.file for f in fresh], rows, append=True)
            return
        latest = {path: fid for fid, path in enumerate(self._files)}
        mine = {self._files[fid] for fid in used} | {f.file for f in fresh}
        others = [f for p, f in latest.items() if p not in mine and os.path.lexists(p)]
        kept = used + sorted(others)
        remap = pl.DataFrame(
            {FID: kept, "__new": range(len(kept))}, schema={FID: pl.UInt32(), "__new": pl.UInt32()}
        )
        new = self._fresh_rows(tables, fresh, len(kept))
        out: dict[str, pl.DataFrame] = {}
        for name in self.schemas:
            old = self._tables[name] if name in self._tables else new[name].clear()
            joined = old.join(remap, on=FID, how="inner", maintain_order="right_left")
            out[name] = pl.concat(
                [joined.with_columns(pl.col("__new").alias(FID)).drop("__new"), new[name]]
            )
        keys = [self._key_of[fid] for fid in kept] + [f.key for f in fresh]
        files = [self._files[fid] for fid in kept] + [f.file for f in fresh]
        self._write(keys, files, out, append=False)

    def _fresh_rows(
        self, tables: Mapping[str, pl.DataFrame], fresh: Sequence[Fresh], base: int
    ) -> dict[str, pl.DataFrame]:
        """The rows of `fresh` files in the run's tables, numbered within each file, the
        files numbered from `base`."""
        docs = pl.DataFrame(
            {
                DOC: [f.first + i for f in fresh for i in range(f.count)],
                "__new": [base + n for n, f in enumerate(fresh) for _ in range(f.count)],
                "__local": [i for f in fresh for i in range(f.count)],
            },
            schema={DOC: pl.UInt32(), "__new": pl.UInt32(), "__local": pl.UInt32()},
        )
        out: dict[str, pl.DataFrame] = {}
        for name, schema in self.schemas.items():
            table = tables.get(
                name, pl.DataFrame(schema={k: v for k, v in schema.items() if k != FID})
            )
            joined = table.join(docs, on=DOC, how="inner", maintain_order="left")
            local = joined.with_columns(pl.col("__local").alias(DOC), pl.col("__new").alias(FID))
            out[name] = local.select(list(schema))
        return out

    def _load(self) -> None:
        """Every segment that verifies, up to the first that does not (a torn append:
        the next update rewrites the file)."""
        try:
            data = self._read()
        except OSError:
            data = None
        if data is None:
            return
        view, at = memoryview(data), 0
        keys: list[str] = []
        files: list[str] = []
        parts: dict[str, list[pl.DataFrame]] = {name: [] for name in self.schemas}
        segments = 0
        while at < len(data):
            try:
                segment = self._segment(view, at)
            except _UNREADABLE:
                segment = None
            if segment is None:
                self._clean = False
                break
            at, seg_keys, seg_files, tables = segment
            if set(tables) != set(self.schemas):
                self._clean = False
                break
            for name, frame in tables.items():
                parts[name].append(frame.with_columns(pl.col(FID) + len(keys)))
            keys += seg_keys
            files += seg_files
            segments += 1
        if not segments:
            return
        self._tables = {name: pl.concat(frames, rechunk=False) for name, frames in parts.items()}
        self._keys, self._files, self._key_of = {}, files, keys
        for fid, key in enumerate(keys):
            self._keys.setdefault(key, fid)
        self._segments = segments

    def _segment(
        self, view: memoryview, at: int
    ) -> tuple[int, list[str], list[str], dict[str, pl.DataFrame]] | None:
        """The segment at `at`: where the next one starts, its keys, files and tables."""
        head = at + len(_MAGIC)
        if bytes(view[at:head]) != _MAGIC or bytes(view[head + 64 : head + 65]) != b" ":
            return None
        size = int(bytes(view[head + 65 : head + 77]))
        body = view[head + 78 : head + 78 + size]
        expected = hmac.new(self.signer, body, hashlib.sha256).hexdigest().encode()
        if len(body) != size or not hmac.compare_digest(bytes(view[head : head + 64]), expected):
            return None
        length = int(bytes(body[:10]))
        header = json.loads(bytes(body[11 : 11 + length]))
        where = 11 + length
        tables: dict[str, pl.DataFrame] = {}
        for name, length in header["tables"]:
            frame = pl.read_ipc_stream(io.BytesIO(body[where : where + length]))
            where += length
            if name not in self.schemas or dict(frame.schema) != self.schemas[name]:
                return None  # not this model's tables
            tables[name] = frame
        keys, files = header["keys"], header["files"]
        if not _strings(keys) or not _strings(files) or len(keys) != len(files):
            return None
        return head + 78 + size, keys, files, tables

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

    def _write(
        self, keys: list[str], files: list[str], tables: dict[str, pl.DataFrame], *, append: bool
    ) -> None:
        blobs = [_ipc(frame) for frame in tables.values()]
        lengths = [[n, len(b)] for n, b in zip(tables, blobs, strict=True)]
        header = json.dumps({"keys": keys, "files": files, "tables": lengths}).encode()
        body = b"%010d\n" % len(header) + header + b"".join(blobs)
        signature = hmac.new(self.signer, body, hashlib.sha256).hexdigest().encode()
        segment = _MAGIC + signature + b" %012d\n" % len(body) + body
        with contextlib.suppress(OSError):
            if append:
                self._append(segment)
            else:
                self._replace(segment)
        self._keys, self._files, self._key_of, self._tables = None, [], [], {}

    def _append(self, segment: bytes) -> None:
        folder = open_folder(self.folder, create=True)
        if folder is None:
            return
        try:
            flags = os.O_WRONLY | os.O_APPEND
            with os.fdopen(open_regular(NAME, flags, dir_fd=folder), "wb", buffering=0) as f:
                written = 0
                while written < len(segment):
                    written += f.write(segment[written:])
        finally:
            os.close(folder)

    def _replace(self, body: bytes) -> None:
        folder = open_folder(self.folder, create=True)
        if folder is None:
            return
        try:
            replace_file(folder, NAME, body)
        finally:
            os.close(folder)


def _strings(value: object) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _ipc(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.write_ipc_stream(sink, compression="lz4")
    return sink.getvalue()
