"""Staging the source texts: each text copy a source names, read once, as a table.

A source's `text` path must name a regular UTF-8 file inside the data folder. Paths are
judged before anything is opened: nothing outside the data folder is read, links are
resolved and judged by where they land, and devices or FIFOs are never opened. What
cannot be read is not an exception but a problem row (R305, X701, X702, X703, X705,
L006), which the texts check family reports; grounding joins the table, so no check
reads a file.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from toolkit.engines.base import ROW
from toolkit.frames.base import DOC
from toolkit.parsers.base import Document
from toolkit.stage.parts import RunFolder
from toolkit.stage.text_reading import CHUNK, MAX_TEXT_BYTES, decoded, read_texts

TEXTS = "texts"  # the staged table's name on the engine


def _within(path: str, base: str) -> bool:
    """`Path(path).is_relative_to(base)` for normalised absolute paths, on strings."""
    return path == base or path.startswith(base if base.endswith(os.sep) else base + os.sep)


class TextResolver:
    """`resolve_text` for many bundles: what their paths share (the data folder, the
    folders the texts sit in) is resolved once, not once per source."""

    def __init__(self) -> None:
        self._cwd = os.getcwd()
        self._real: dict[str, str | None] = {}  # folder as written → its real path
        self._bases: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._bundles: dict[tuple[str, str | None], tuple[str, str, str]] = {}
        self.last = ""  # the real path of the last safe text, as a string

    def _realdir(self, folder: str) -> str | None:
        if folder not in self._real:
            try:
                self._real[folder] = os.path.realpath(folder, strict=True)
            except (OSError, RuntimeError):
                self._real[folder] = None
        return self._real[folder]

    def _base(self, folder: Path, root: Path | None) -> tuple[str, str]:
        key = (os.fspath(folder), None if root is None else os.fspath(root))
        if key not in self._bases:
            given = root or folder
            self._bases[key] = (
                str(given.resolve()),
                os.path.normpath(os.path.join(self._cwd, given)),
            )
        return self._bases[key]

    def _bundle(self, bundle: Path, root: Path | None) -> tuple[str, str, str]:
        """(folder of the bundle, resolved data folder, data folder made absolute)."""
        key = (os.fspath(bundle), None if root is None else os.fspath(root))
        found = self._bundles.get(key)
        if found is None:
            folder = bundle.parent
            found = self._bundles[key] = (os.fspath(folder), *self._base(folder, root))
        return found

    def base(self, bundle: Path, root: Path | None) -> str:
        """The data folder a bundle's text copy must stay in, resolved."""
        return self._bundle(bundle, root)[1]

    def __call__(
        self, bundle: Path, root: Path | None, text: str
    ) -> tuple[Path | None, str | None, str]:
        """(resolved path, problem code, detail) for a bundle's text path; code None when
        the path is safe to read."""
        resolved, code, what = self.resolve(bundle, root, text)
        return (None if resolved is None else Path(resolved)), code, what

    def resolve(
        self, bundle: Path, root: Path | None, text: str
    ) -> tuple[str | None, str | None, str]:
        """As calling it, with the resolved path as a string."""
        folder, base, given_abs = self._bundle(bundle, root)
        if os.path.isabs(text) or "\x00" in text:
            return None, "X701", ""
        candidate = os.path.join(folder, text)
        lexical = os.path.normpath(os.path.join(self._cwd, candidate))
        if not _within(lexical, base) and not _within(lexical, given_abs):
            return None, "X701", ""
        head, name = os.path.split(candidate)
        info = None
        if name not in ("", ".", ".."):
            real_head = self._realdir(head or os.curdir)
            if real_head is None:
                return None, "R305", ""
            resolved = os.path.join(real_head, name)
            try:
                info = os.lstat(resolved)
            except OSError:
                return None, "R305", ""
            if stat.S_ISLNK(info.st_mode):
                info = None  # a link: resolved the long way below
        if info is None:
            try:
                resolved = os.path.realpath(candidate, strict=True)
                info = os.stat(resolved)
            except (OSError, RuntimeError) as exc:
                if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
                    return None, "X702", "a link that loops"
                return None, "R305", ""
        if not _within(resolved, base):
            return None, "X705", ""
        self.last = resolved
        mode = info.st_mode
        if not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
            return None, "X702", what
        if info.st_size > MAX_TEXT_BYTES:
            return None, "L006", str(info.st_size)
        return resolved, None, ""


def resolve_text(bundle: Path, root: Path | None, text: str) -> tuple[Path | None, str | None, str]:
    """(resolved path, problem code, detail) for a bundle's text path; code None when safe."""
    return TextResolver()(bundle, root, text)


_RESOLVED = {"real": pl.String, "code": pl.String, "what": pl.String, "relative": pl.String}


def _resolved(sources: pl.DataFrame, documents: Sequence[Document]) -> pl.DataFrame:
    """`real` (the resolved path; null when it may not be read), `code`, `what` and
    `relative` (to its data folder) of each source's text path, in sources order; a
    chunk of sources at a time, kept as Arrow columns (as Python objects, 1M sources'
    paths cost 400 MB)."""
    resolve = TextResolver()
    frames = [pl.DataFrame(schema=_RESOLVED)]
    for chunk in sources.iter_slices(CHUNK):
        columns: dict[str, list[str | None]] = {key: [] for key in _RESOLVED}
        origins = _origins(documents, chunk[DOC].to_list())
        for (bundle, root), text in zip(origins, chunk["text"].to_list(), strict=True):
            real, code, what = resolve.resolve(bundle, root, text)
            # inside its data folder (X705 otherwise): os.path.relpath, on strings
            relative = None if real is None else real[len(resolve.base(bundle, root)) :]
            for key, value in zip(columns, (real, code, what, relative), strict=True):
                columns[key].append(value)
        frames.append(pl.DataFrame(columns, schema=_RESOLVED))
    found = pl.concat(frames)
    return found.with_columns(pl.col("relative").str.strip_chars_start(os.sep))


@dataclass(frozen=True, slots=True)
class TextPart:
    """One Parquet file of the texts table, and the `_doc` range of its rows."""

    path: Path
    rows: int
    first: int
    last: int


# the texts table as its parts hold it (as the record tables' parts: `_row`, `_doc` Int64)
TEXTS_SCHEMA = {
    ROW: pl.Int64(),
    DOC: pl.Int64(),
    "source_id": pl.String(),
    "path": pl.String(),
    "source_text": pl.String(),
    "digest": pl.String(),
    "size": pl.Int64(),
    "real": pl.String(),  # the copy's resolved path
    "relative": pl.String(),  # ... relative to its data folder
}
_PLAIN = [c for c in TEXTS_SCHEMA if c != ROW]


@dataclass(frozen=True, slots=True)
class SourceTexts:
    """What staging the text copies gives: the texts, and what kept some from being read.

    The texts table, one row per source whose copy was read as text, in sources order:
    `_doc`, `source_id`, `path` (as the source writes it), `source_text`, `digest` (sha256
    of the file's bytes), `size` (the text's UTF-8 bytes: what searching it costs). It is
    held as Parquet parts in the run's folder (`parts`, each about `PART_BYTES` of text),
    not in memory: at 10M facts the texts are 4 GB. `scan` and `read` give it back, whole
    or for some documents; the engines scan the parts (`paths`).

    `problems`: `code`, `_doc`, `path`, `what` (a detail: what X702 found, L006's size),
    in sources order. `files()` and `digests()` give what the export's input hash needs,
    read from the parts when asked (held as dicts they would cost 400 MB at 10M facts).
    `folder`: the folder the parts are in, kept open as long as the texts are."""

    parts: tuple[TextPart, ...]
    problems: pl.DataFrame
    folder: RunFolder | None = None
    _read: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def _copies(self) -> pl.DataFrame:
        """`real`, `relative`, `digest` of each copy read as text, once, in sources order
        (read once: the export asks for `files` and `digests`)."""
        if "copies" not in self._read:
            copies = self.scan().select("real", "relative", "digest")
            once = copies.unique("real", keep="first", maintain_order=True)
            self._read["copies"] = once.collect()
        return self._read["copies"]

    def files(self) -> dict[str, str]:
        """Resolved path of each text copy read → its path relative to its data folder
        (keys are strings: a Path per text copy costs seconds at 100,000 texts)."""
        copies = self._copies()
        return dict(zip(copies["real"].to_list(), copies["relative"].to_list(), strict=True))

    def digests(self) -> dict[str, str]:
        """Resolved path of each text copy read → sha256 of its bytes: the export's input
        hash reuses them instead of reading the files again."""
        copies = self._copies()
        return dict(zip(copies["real"].to_list(), copies["digest"].to_list(), strict=True))

    def paths(self) -> list[Path]:
        return [part.path for part in self.parts]

    def ranges(self) -> list[tuple[int, int]]:
        """The `_doc` range (first, last) of each part: work on the texts done range by
        range holds one part of them at a time."""
        return [(part.first, part.last) for part in self.parts]

    def scan(self) -> pl.LazyFrame:
        """The texts table as its parts hold it (`_row`, `_doc` Int64), lazily."""
        if not self.parts:
            return pl.LazyFrame(schema=TEXTS_SCHEMA)
        return pl.scan_parquet(self.paths())

    def read(self, docs: pl.Series | None = None, columns: Sequence[str] = ()) -> pl.DataFrame:
        """The texts of documents `docs` (all: None), `_doc` as the documents index
        (UInt32); only the parts whose range holds one of them are read. `columns`: these
        and `_doc` only."""
        keep = [c for c in _PLAIN if not columns or c in columns or c == DOC]
        parts = self.paths()
        wanted = None
        if docs is not None:
            wanted = docs.cast(pl.Int64).unique()
            lo, hi = wanted.min(), wanted.max()
            parts = [
                p.path
                for p in self.parts
                if wanted.len() and not (p.last < lo or p.first > hi)  # type: ignore[operator]
            ]
        if not parts:
            return pl.DataFrame(schema={c: TEXTS_SCHEMA[c] for c in keep}).with_columns(
                pl.col(DOC).cast(pl.UInt32)
            )
        scan = pl.scan_parquet(parts)
        if wanted is not None:
            scan = scan.filter(pl.col(DOC).is_in(wanted.implode()))
        return scan.select(keep).with_columns(pl.col(DOC).cast(pl.UInt32)).collect()

    def read_part(self, at: int, columns: Sequence[str]) -> pl.DataFrame:
        """Part `at` of the texts table (its `columns`), `_doc` as the documents index."""
        frame = pl.read_parquet(self.parts[at].path, columns=list(columns))
        return frame.with_columns(pl.col(DOC).cast(pl.UInt32)) if DOC in columns else frame

    @property
    def table(self) -> pl.DataFrame:
        """The whole texts table, read from its parts (for small runs and tests)."""
        return self.read()


PART_BYTES = 64 << 20  # text bytes a part of the texts table holds, about


class _Writer:
    """Writes the texts table a part at a time, each part's bytes decoded in one polars
    cast; rows whose bytes are not text become X703 problems instead."""

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self.parts: list[TextPart] = []
        self.unreadable: list[pl.DataFrame] = []
        self.rows: dict[str, list[object]] = {
            key: [] for key in (DOC, "source_id", "path", "digest", "real", "relative")
        }
        self.bodies: list[bytes] = []
        self.size = 0
        self.written = 0

    def add(self, row: tuple[int, str | None, str, str, str, str], data: bytes) -> None:
        """`row`: `_doc`, `source_id`, `path`, `digest`, `real`, `relative`."""
        for key, value in zip(self.rows, row, strict=True):
            self.rows[key].append(value)
        self.bodies.append(data)
        self.size += len(data)
        if self.size >= PART_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.bodies:
            return
        body, bad = decoded(pl.Series("source_text", self.bodies, pl.Binary))
        schema = {key: TEXTS_SCHEMA[key] for key in self.rows}
        table = pl.DataFrame(self.rows, schema=schema).with_columns(
            body, body.str.len_bytes().cast(pl.Int64).alias("size")
        )
        self.rows = {key: [] for key in self.rows}
        self.bodies, self.size = [], 0
        if bad.any():  # not text: X703
            self.unreadable.append(
                table.filter(bad).select(
                    pl.lit("X703").alias("code"),
                    pl.col(DOC).cast(pl.UInt32),
                    "path",
                    pl.lit("").alias("what"),
                )
            )
            table = table.filter(~bad)
        if table.is_empty():
            return
        start = self.written
        table = table.select(
            pl.int_range(start, start + table.height, dtype=pl.Int64).alias(ROW), *_PLAIN
        )
        path = self.folder.file(TEXTS)
        # uncompressed: texts are written and read once a run, and lz4 costs 2.4x the time
        table.write_parquet(path, compression="uncompressed", row_group_size=1024)
        docs = table[DOC]
        self.parts.append(TextPart(path, table.height, int(docs[0]), int(docs[-1])))
        self.written += table.height


_PROBLEMS = {"code": pl.String, DOC: pl.UInt32, "path": pl.String, "what": pl.String}


def _origins(documents: Sequence[Document], indices: list[int]) -> list[tuple[Path, Path | None]]:
    origin = getattr(documents, "origin", None)  # (path, root) without making a Document
    if origin is not None:
        return [origin(i) for i in indices]
    return [(documents[i].path, documents[i].root) for i in indices]


def stage_texts(
    sources: pl.DataFrame, documents: Sequence[Document], folder: RunFolder | None = None
) -> SourceTexts:
    """Read the text copy of every source in `sources` (`_doc`, `id`, `text`) that names
    one, into parts of the texts table in `folder` (the run's; a folder of their own
    when None); `documents` gives each `_doc`'s bundle path and data folder.

    Per file only what must be per file (resolve, read, hash), a chunk of sources at a
    time; a file named by several sources is read once; the UTF-8 decoding of a part's
    texts is one polars cast.
    """
    folder = folder or RunFolder()
    sources = sources.filter(pl.col("text").is_not_null()).select(DOC, "id", "text")
    resolved = _resolved(sources, documents)
    texts = read_texts(resolved["real"].drop_nulls())
    writer = _Writer(folder)
    found: dict[str, list[object]] = {"code": [], DOC: [], "path": [], "what": []}
    for start in range(0, sources.height, CHUNK):
        rows = pl.concat(
            [sources.slice(start, CHUNK), resolved.slice(start, CHUNK)], how="horizontal"
        )
        for index, source, text, real, code, what, relative in rows.iter_rows():
            if real is not None:
                data, digest = next(texts)
                if data is None:
                    code = "X703"
                else:
                    writer.add((index, source, text, digest, real, relative), data)
            if code:
                for key, value in (("code", code), (DOC, index), ("path", text), ("what", what)):
                    found[key].append(value)
    texts.close()  # (its prefetching thread, if one started)
    writer.flush()
    problems = pl.DataFrame(found, schema=_PROBLEMS)
    if writer.unreadable:  # not text: X703, in sources order with the others
        problems = pl.concat([problems, *writer.unreadable]).sort(DOC, maintain_order=True)
    return SourceTexts(tuple(writer.parts), problems, folder)
