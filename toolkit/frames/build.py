"""Flatten parsed documents into column-oriented polars tables, driven by the model.

Values are taken as they are, without coercion: a value of the wrong type becomes
null here (the schema check has already reported it), so one bad field never
hides the problems of the rest of the dataset. Every row carries `_doc` (index
of its document) and `_ptr` (JSON pointer of its record) so any check can point
back to file, line and column.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import polars as pl
import pyarrow as pa

from toolkit.model.model import Model
from toolkit.model.tables import Column, Kind, Table
from toolkit.parsers.base import Document

DOC = "_doc"
PTR = "_ptr"

_RAW_DTYPES: dict[Kind, pl.DataType] = {
    "string": pl.String(),
    "enum": pl.String(),
    "vocabulary": pl.String(),
    "date": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
    "string_list": pl.List(pl.String()),
    "vocabulary_list": pl.List(pl.String()),
}


def raw_dtype(col: Column) -> pl.DataType | None:
    """The dtype a column has in the check tables (None: computed later, not read)."""
    return None if col.computed else _RAW_DTYPES.get(col.kind)


def _is_str(v: Any) -> Any:
    return v if type(v) is str else None


def _is_int(v: Any) -> Any:
    return v if type(v) is int else None


def _is_num(v: Any) -> Any:
    return float(v) if type(v) in (int, float) else None


def _is_bool(v: Any) -> Any:
    return v if type(v) is bool else None


def _is_str_list(v: Any) -> Any:
    return [x for x in v if type(x) is str] if type(v) is list else None


_TAKE: dict[Kind, Callable[[Any], Any]] = {
    "string": _is_str,
    "enum": _is_str,
    "vocabulary": _is_str,
    "date": _is_str,
    "integer": _is_int,
    "number": _is_num,
    "boolean": _is_bool,
    "string_list": _is_str_list,
    "vocabulary_list": _is_str_list,
}


def _get(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if type(record) is not dict:
            return None
        record = record.get(key)
    return record


@dataclass(slots=True)
class Frames:
    """The check tables of one run plus the documents their rows point into.

    `documents` is any sequence indexable by `_doc` (the checker's keeps JSONL lines on
    disk and reads one back only when a problem needs its position).
    """

    tables: dict[str, pl.DataFrame]
    documents: Sequence[Document]


class _Sink:
    """Column lists for one table, appended to row by row, turned into a frame once."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.cols = [c for c in table.columns if raw_dtype(c) is not None]
        self.stored = [c for c in self.cols if c.path]
        self.data: dict[str, list[Any]] = {c.name: [] for c in self.cols}
        self.data[DOC] = []
        self.data[PTR] = []

    def add(self, record: Any, doc: int, ptr: str, derived: dict[str, Any]) -> None:
        data = self.data
        for col in self.stored:
            data[col.name].append(_TAKE[col.kind](_get(record, col.path)))
        for name, value in derived.items():
            data[name].append(value)
        data[DOC].append(doc)
        data[PTR].append(ptr)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.data, schema=table_schema(self.table))


def table_schema(table: Table) -> dict[str, pl.DataType]:
    """Column names and dtypes of a check table, `_doc` and `_ptr` last."""
    schema: dict[str, pl.DataType] = {
        c.name: dtype for c in table.columns if (dtype := raw_dtype(c)) is not None
    }
    schema[DOC] = pl.UInt32()
    schema[PTR] = pl.String()
    return schema


def _qualify(source_id: str | None, ref: Any) -> Any:
    """A statement reference as a dataset-wide id ('<source>/<local>')."""
    if type(ref) is not str or "/" in ref or source_id is None:
        return ref
    return f"{source_id}/{ref}"


def _flatten_bundle(model: Model, sinks: dict[str, _Sink], doc: Document, index: int) -> None:
    value = doc.value
    if type(value) is not dict:
        return
    sid = _is_str(_get(value, ("source", "id")))
    extraction = value.get("extraction")
    extraction = extraction if type(extraction) is dict else {}
    review = _is_str(extraction.get("review"))
    provenance = {
        "extraction_method": _is_str(extraction.get("method")),
        "extraction_model": _is_str(extraction.get("model")),
    }
    rel = os.path.relpath(doc.path, doc.root) if doc.root else str(doc.path)
    sinks["sources"].add(value, index, "", {"bundle_file": rel.replace(os.sep, "/")})
    for table in model.fact_tables:
        key = table.record_path[0]
        records = value.get(key)
        if type(records) is not list:
            continue
        sink = sinks[table.name]
        statement_refs = [c.name for c in table.columns if c.ref == "statement"]
        parts = [t for t in model.tables.values() if t.parent == table.name]
        for i, rec in enumerate(records):
            if type(rec) is not dict:
                continue
            local = _is_str(rec.get("id"))
            fid = f"{sid}/{local}" if sid is not None and local is not None else None
            ptr = f"/{key}/{i}"
            sink.add(
                rec,
                index,
                ptr,
                {
                    "id": fid,
                    "source_id": sid,
                    "review": _is_str(rec.get("review")) or review,
                    **provenance,
                },
            )
            for name in statement_refs:
                col = sink.data[name]
                col[-1] = _qualify(sid, col[-1])
            for part in parts:
                pkey = part.record_path[0]
                entries = rec.get(pkey)
                if type(entries) is not list:
                    continue
                psink = sinks[part.name]
                parent_col = part.columns[0].name
                for j, entry in enumerate(entries):
                    if type(entry) is dict:
                        psink.add(
                            entry,
                            index,
                            f"{ptr}/{pkey}/{j}",
                            {
                                parent_col: fid,
                                "source_id": sid,
                                "position": j + 1,
                            },
                        )


def _exact(
    model: Model, documents: Sequence[Document], indices: Sequence[int]
) -> dict[str, pl.DataFrame]:
    """Flatten value by value, taking each value only if its type is right (any input)."""
    sinks = {t.name: _Sink(t) for t in model.tables.values() if t.kind != "vocabulary"}
    actors = sinks["actors"]
    for index, doc in zip(indices, documents, strict=True):
        if doc.role == "actor":
            if type(doc.value) is dict:
                actors.add(doc.value, index, "", {"origin": "registry"})
        else:
            _flatten_bundle(model, sinks, doc, index)
    return {name: s.frame() for name, s in sinks.items()}


def build_frames(model: Model, documents: Sequence[Document]) -> Frames:
    """One pass over the documents; every record lands in exactly one table."""
    tables = _exact(model, documents, range(len(documents)))
    return Frames(tables=tables, documents=list(documents))


# --- column by column, for documents that passed the schema ------------------------------
#
# The schema has checked every type already, so values are taken list by list instead of
# value by value, and the few conversions the exact path makes (an integer written as 5.0
# is not taken; an integer confidence becomes a float) are made here too. Anything
# unexpected raises, and the caller flattens the batch the exact way instead: both ways
# give the same tables, which the tests hold them to.

_EMPTY: dict[str, Any] = {}
_TEXT_KINDS = ("string", "enum", "vocabulary", "date")


class _Unexpected(Exception):
    """A value the column-wise path does not take; flatten the batch value by value."""


def _values(records: list[Any], path: tuple[str, ...]) -> list[Any]:
    if len(path) == 1:
        return list(map(dict.get, records, repeat(path[0])))
    if len(path) == 2:
        outer = [v or _EMPTY for v in map(dict.get, records, repeat(path[0]))]
        return list(map(dict.get, outer, repeat(path[1])))
    return [_get(r, path) for r in records]


def _series(col: Column, values: list[Any]) -> pl.Series:
    kind = col.kind
    if kind in _TEXT_KINDS:
        return pl.Series(col.name, values, pl.String, strict=True)
    if kind == "integer":
        return pl.Series(col.name, [v if type(v) is int else None for v in values], pl.Int64)
    if kind == "number":
        taken = [float(v) if type(v) in (int, float) else None for v in values]
        return pl.Series(col.name, taken, pl.Float64)
    if kind == "boolean":
        return pl.Series(col.name, [v if type(v) is bool else None for v in values], pl.Boolean)
    # lists: their items as one column plus offsets (polars would build a Series per list)
    lists = [v if type(v) is list else None for v in values]
    items = pl.Series([x for v in lists if v for x in v], dtype=pl.String, strict=True)
    ends = pl.Series([0, *(len(v) if v is not None else 0 for v in lists)], dtype=pl.Int64)
    missing = pl.Series([v is None for v in lists], dtype=pl.Boolean)
    array = pa.LargeListArray.from_arrays(
        ends.cum_sum().to_arrow(), items.to_arrow(), mask=missing.to_arrow()
    )
    return pl.Series(col.name, array, dtype=pl.List(pl.String))


def _stored(table: Table, records: list[Any]) -> list[pl.Series]:
    return [
        _series(c, _values(records, c.path))
        for c in table.columns
        if c.path and raw_dtype(c) is not None
    ]


def _finish(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(table_schema(table).keys())


def _qualified(name: str) -> pl.Expr:
    ref, sid = pl.col(name), pl.col("source_id")
    local = ref.is_not_null() & sid.is_not_null() & ~ref.str.contains("/", literal=True)
    return pl.when(local).then(pl.concat_str([sid, pl.lit("/"), ref])).otherwise(ref).alias(name)


def _gather(
    holders: Sequence[Any], key: str, *, first: int
) -> tuple[list[Any], list[int], list[int]]:
    """The objects listed under `key` in each holder, with the holder's index and each
    object's position (counted from `first`); _Unexpected unless all are lists of objects."""
    entries: list[Any] = []
    owner: list[int] = []
    position: list[int] = []
    for j, holder in enumerate(holders):
        found = holder.get(key)
        if found:
            if type(found) is not list:
                raise _Unexpected(key)
            entries += found
            owner += [j] * len(found)
            position += range(first, first + len(found))
    if any(type(e) is not dict for e in entries):
        raise _Unexpected(key)
    return entries, owner, position


def _identified(facts: pl.DataFrame, table: Table, key: str) -> pl.DataFrame:
    """Fact rows with their dataset-wide id, effective review, pointer and dataset-wide
    statement references; shared by the per-document and the polars-native paths."""
    facts = facts.with_columns(
        pl.concat_str([pl.col("source_id"), pl.lit("/"), pl.col("local_id")]).alias("id"),
        pl.col("_own_review").fill_null(pl.col("_review")).alias("review"),
        (pl.lit(f"/{key}/") + pl.col("_i").cast(pl.String)).alias(PTR),
    )
    refs = [c.name for c in table.columns if c.ref == "statement" and raw_dtype(c)]
    if refs:
        facts = facts.with_columns(_qualified(name) for name in refs)
    return facts


def _columnwise(
    model: Model, documents: Sequence[Document], indices: Sequence[int]
) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    actors = [(i, d.value) for i, d in zip(indices, documents, strict=True) if d.role == "actor"]
    bundles = [(i, d) for i, d in zip(indices, documents, strict=True) if d.role != "actor"]
    table = model.tables["actors"]
    values = [v for _, v in actors]
    if any(type(v) is not dict for v in values):
        raise _Unexpected("actor")
    frame = pl.DataFrame(_stored(table, values), schema_overrides=None)
    out["actors"] = _finish(
        table,
        frame.with_columns(
            pl.lit("registry", pl.String).alias("origin"),
            pl.Series(DOC, [i for i, _ in actors], pl.UInt32),
            pl.lit("", pl.String).alias(PTR),
        ),
    )
    out.update(_bundles_columnwise(model, bundles))
    return out


def _bundles_columnwise(
    model: Model, bundles: list[tuple[int, Document]]
) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    values = [d.value for _, d in bundles]
    if any(type(v) is not dict for v in values):
        raise _Unexpected("bundle")
    extraction = [v.get("extraction") or _EMPTY for v in values]
    rel: dict[tuple[Any, Any], str] = {}
    files = []
    for _, doc in bundles:
        where = (doc.path, doc.root)
        if where not in rel:
            rel[where] = _bundle_file(doc)
        files.append(rel[where])
    table = model.tables["sources"]
    docs = pl.DataFrame(
        [
            *_stored(table, values),
            pl.Series("bundle_file", files, pl.String),
            pl.Series(DOC, [i for i, _ in bundles], pl.UInt32),
            pl.Series("_review", [e.get("review") for e in extraction], pl.String, strict=True),
        ]
    )
    out["sources"] = _finish(table, docs.with_columns(pl.lit("", pl.String).alias(PTR)))
    per_doc = docs.select(
        DOC,
        pl.col("id").alias("source_id"),
        "_review",
        pl.col("extraction_method"),
        pl.col("extraction_model"),
    )
    for table in model.fact_tables:
        key = table.record_path[0]
        records, owner, index = _gather(values, key, first=0)
        own = pl.DataFrame(
            [
                *_stored(table, records),
                pl.Series(
                    "_own_review", [r.get("review") for r in records], pl.String, strict=True
                ),
                pl.Series("_i", index, pl.Int64),
            ]
        )
        facts = _identified(
            pl.concat([per_doc[owner] if owner else per_doc.clear(), own], how="horizontal"),
            table,
            key,
        )
        out[table.name] = _finish(table, facts)
        for part in model.tables.values():
            if part.parent != table.name:
                continue
            pkey = part.record_path[0]
            entries, parent, position = _gather(records, pkey, first=1)
            parent_col = part.columns[0].name
            base = facts.select(
                pl.col("id").alias(parent_col), "source_id", DOC, pl.col(PTR).alias("_parent")
            )
            rows = pl.concat(
                [
                    base[parent] if parent else base.clear(),
                    pl.DataFrame(
                        [*_stored(part, entries), pl.Series("position", position, pl.Int64)]
                    ),
                ],
                how="horizontal",
            ).with_columns(
                (
                    pl.col("_parent")
                    + pl.lit(f"/{pkey}/")
                    + (pl.col("position") - 1).cast(pl.String)
                ).alias(PTR)
            )
            out[part.name] = _finish(part, rows)
    return out


# --- in polars, from the JSON text, for JSONL lines that passed the schema ----------------
#
# polars decodes the lines with the bundle's own type (derived from the schema) and
# flattens them with explode/unnest, off the interpreter: it runs in a worker thread
# while the next batch is parsed. For a document that passed the schema it gives what the
# exact path gives, with one exception the caller rules out first: an integer field
# written as a float (5.0), which the exact path does not take and polars would.


def _json_dtype(schema: dict[str, Any], node: dict[str, Any]) -> pl.DataType:
    if "$ref" in node:
        return _json_dtype(schema, schema["$defs"][node["$ref"].rsplit("/", 1)[1]])
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return pl.Struct({k: _json_dtype(schema, v) for k, v in props.items() if k != "$schema"})
    if kind == "array":
        return pl.List(_json_dtype(schema, node.get("items", {})))
    return {"integer": pl.Int64(), "number": pl.Float64(), "boolean": pl.Boolean()}.get(
        str(kind), pl.String()
    )


def _field(expr: pl.Expr, path: tuple[str, ...]) -> pl.Expr:
    for key in path:
        expr = expr.struct.field(key)
    return expr


def _integer_paths(model: Model) -> list[tuple[str, str | None, tuple[tuple[str, ...], ...]]]:
    """(fact key, part key or None, paths) of every integer field of a bundle's facts."""
    found: list[tuple[str, str | None, tuple[tuple[str, ...], ...]]] = []
    for table in model.record_tables:
        paths = tuple(c.path for c in table.columns if c.kind == "integer" and c.path)
        if not paths or table.kind == "source":
            continue
        if table.kind == "fact":
            found.append((table.record_path[0], None, paths))
        else:
            parent = model.tables[table.parent or ""]
            found.append((parent.record_path[0], table.record_path[0], paths))
    return found


def integers_are_integers(
    model: Model, value: Any, plan: list[tuple[str, str | None, tuple[tuple[str, ...], ...]]]
) -> bool:
    """No integer field of a bundle that passed the schema holds a float (5.0)."""
    for key, part, paths in plan:
        for fact in value.get(key) or ():
            records = [fact] if part is None else fact.get(part) or ()
            for record in records:
                for path in paths:
                    found = _get(record, path)
                    if found is not None and type(found) is not int:
                        return False
    return True


def _polars_bundles(
    model: Model, lines: list[str], indices: list[int], files: list[str]
) -> dict[str, pl.DataFrame]:
    dtype = _json_dtype(model.bundle_schema, model.bundle_schema)
    decoded = pl.Series("b", lines, pl.String).str.json_decode(dtype).struct.unnest()
    decoded = decoded.with_columns(
        pl.Series(DOC, indices, pl.UInt32), pl.Series("bundle_file", files, pl.String)
    )
    out: dict[str, pl.DataFrame] = {}
    table = model.tables["sources"]
    stored = [
        _field(pl.col(c.path[0]), c.path[1:]).alias(c.name)
        for c in table.columns
        if c.path and raw_dtype(c) is not None
    ]
    sources = decoded.select(
        *stored,
        "bundle_file",
        DOC,
        pl.lit("", pl.String).alias(PTR),
        pl.col("extraction").struct.field("review").alias("_review"),
    )
    out["sources"] = _finish(table, sources)
    per_doc = sources.select(
        DOC,
        pl.col("id").alias("source_id"),
        "_review",
        "extraction_method",
        "extraction_model",
    )
    for table in model.fact_tables:
        key = table.record_path[0]
        facts = (
            pl.concat([per_doc, decoded.select(key)], how="horizontal")
            .with_columns(pl.int_ranges(0, pl.col(key).list.len()).alias("_i"))
            .explode(key, "_i")
            .filter(pl.col(key).is_not_null())
        )
        rec = pl.col(key)
        facts = _identified(
            facts.select(
                *(c for c in per_doc.columns),
                *(
                    _field(rec, c.path).alias(c.name)
                    for c in table.columns
                    if c.path and raw_dtype(c) is not None
                ),
                rec.struct.field("review").alias("_own_review"),
                "_i",
                *(
                    rec.struct.field(p.record_path[0]).alias(f"_part_{p.name}")
                    for p in model.tables.values()
                    if p.parent == table.name
                ),
            ),
            table,
            key,
        )
        out[table.name] = _finish(table, facts)
        for part in model.tables.values():
            if part.parent != table.name:
                continue
            pkey = part.record_path[0]
            entries = pl.col(f"_part_{part.name}")
            rows = (
                facts.select(
                    pl.col("id").alias(part.columns[0].name),
                    "source_id",
                    DOC,
                    pl.col(PTR).alias("_parent"),
                    entries,
                    pl.int_ranges(0, entries.list.len()).alias("_j"),
                )
                .explode(f"_part_{part.name}", "_j")
                .filter(entries.is_not_null())
            )
            entry = pl.col(f"_part_{part.name}")
            rows = rows.with_columns(
                *(
                    _field(entry, c.path).alias(c.name)
                    for c in part.columns
                    if c.path and raw_dtype(c) is not None
                ),
                (pl.col("_j") + 1).cast(pl.Int64).alias("position"),
                (pl.col("_parent") + pl.lit(f"/{pkey}/") + pl.col("_j").cast(pl.String)).alias(PTR),
            )
            out[part.name] = _finish(part, rows)
    return out


def _bundle_file(doc: Document) -> str:
    name = os.path.relpath(doc.path, doc.root) if doc.root else str(doc.path)
    return name.replace(os.sep, "/")


def _merge(parts: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """Tables of disjoint sets of documents as one, in `_doc` order."""
    if len(parts) == 1:
        return parts[0]
    names = {name for part in parts for name in part}
    return {
        name: pl.concat([p[name] for p in parts if name in p]).sort(DOC, maintain_order=True)
        for name in names
    }


class _Pending:
    """A batch being flattened in polars, with what is needed to do it again in Python
    should polars fail (the documents are kept until it is done)."""

    def __init__(
        self,
        future: Future[dict[str, pl.DataFrame]],
        documents: list[Document],
        indices: list[int],
        done: dict[str, pl.DataFrame] | None,
    ) -> None:
        self.future = future
        self.documents = documents
        self.indices = indices
        self.done = done  # the batch's other documents, already flattened


class FrameBuilder:
    """The check tables, built batch by batch: a batch's documents (and their values) are
    not needed once `add` returns (JSONL lines: once polars has flattened them, which it
    does in a worker thread while the next batch is parsed). Documents that passed the
    schema are flattened column by column or in polars; the others, value by value."""

    def __init__(self, model: Model, *, threads: bool = True) -> None:
        self.model = model
        self.tables = [t for t in model.tables.values() if t.kind != "vocabulary"]
        self._batches: list[dict[str, pl.DataFrame] | _Pending] = []
        self._buffer: list[Document] = []
        self._integers = _integer_paths(model)
        self._files: dict[tuple[int, int], tuple[Document, str]] = {}
        self._buffer_at: list[int] = []
        self._buffer_ok: list[bool] = []
        self._pool = (
            ThreadPoolExecutor(1, thread_name_prefix="factkit-flatten") if threads else None
        )

    def add(
        self,
        documents: Sequence[Document],
        first: int,
        valid: Sequence[bool],
        lines: Sequence[str] | None = None,
    ) -> None:
        """Flatten `documents`, whose `_doc` indices run from `first`. With `lines` (the
        JSON text of each document), valid bundles are flattened in polars."""
        if lines is None:  # whole files (YAML, JSON): flattened many at a time
            self._buffer.extend(documents)
            self._buffer_at.extend(range(first, first + len(documents)))
            self._buffer_ok.extend(valid)
            if len(self._buffer) >= self.BUFFER:
                self._flush()
            return
        self._flush()
        indices = list(range(first, first + len(documents)))
        late: list[int] = []
        if lines is not None and self._pool is not None:
            model, plan = self.model, self._integers
            late = [
                i
                for i, doc in enumerate(documents)
                if valid[i]
                and doc.role == "bundle"
                and type(doc.value) is dict
                and integers_are_integers(model, doc.value, plan)
            ]
        later = set(late)
        now = [i for i in range(len(documents)) if i not in later]
        done = self._now(documents, indices, list(valid), now) if now else None
        if late and lines is not None and self._pool is not None:
            self._settle(keep=1)
            docs = [documents[i] for i in late]
            where = [indices[i] for i in late]
            text = [lines[i] for i in late]
            files = [self._file(d) for d in docs]
            future = self._pool.submit(_polars_bundles, self.model, text, where, files)
            self._batches.append(_Pending(future, docs, where, done))
        elif done is not None:
            self._batches.append(done)

    def _file(self, doc: Document) -> str:
        """`bundle_file` of a document, computed once per file."""
        key = (id(doc.path), id(doc.root))
        found = self._files.get(key)
        if found is None or found[0].path is not doc.path or found[0].root is not doc.root:
            found = self._files[key] = (doc, _bundle_file(doc))
        return found[1]

    def _flush(self) -> None:
        if self._buffer:
            docs, where, ok = self._buffer, self._buffer_at, self._buffer_ok
            self._buffer, self._buffer_at, self._buffer_ok = [], [], []
            self._batches.append(self._now(docs, where, ok, list(range(len(docs)))))

    def _now(
        self,
        documents: Sequence[Document],
        indices: list[int],
        valid: list[bool],
        which: list[int],
    ) -> dict[str, pl.DataFrame]:
        fast = [i for i in which if valid[i]]
        slow = [i for i in which if not valid[i]]
        parts: list[dict[str, pl.DataFrame]] = []
        if fast:
            try:
                parts.append(
                    _columnwise(
                        self.model, [documents[i] for i in fast], [indices[i] for i in fast]
                    )
                )
            except (_Unexpected, TypeError, ValueError, AttributeError, pl.exceptions.PolarsError):
                slow = sorted(fast + slow)
                parts = []
        if slow:
            parts.append(
                _exact(self.model, [documents[i] for i in slow], [indices[i] for i in slow])
            )
        return _merge(parts)

    def _resolve(self, pending: _Pending) -> dict[str, pl.DataFrame]:
        try:
            frames = pending.future.result()
        except Exception:  # polars could not: the same documents, column by column
            docs = pending.documents
            frames = self._now(docs, pending.indices, [True] * len(docs), list(range(len(docs))))
        parts = [frames] if pending.done is None else [frames, pending.done]
        return {name: f for name, f in _merge(parts).items() if f.height}

    def _settle(self, keep: int = 0) -> None:
        """Wait for all but the last `keep` batches in flight."""
        pending = [i for i, b in enumerate(self._batches) if isinstance(b, _Pending)]
        for i in pending[: max(0, len(pending) - keep)]:
            batch = self._batches[i]
            assert isinstance(batch, _Pending)
            self._batches[i] = self._resolve(batch)

    BUFFER = 2048  # whole-file documents flattened together

    def mark(self) -> int:
        """A point `truncate` can return to (what came before is flattened first)."""
        self._flush()
        return len(self._batches)

    def truncate(self, mark: int) -> None:
        """Forget every batch added since `mark` (a file that failed as a whole)."""
        for batch in self._batches[mark:]:
            if isinstance(batch, _Pending):
                batch.future.cancel()
        del self._batches[mark:]

    def frames(self) -> dict[str, pl.DataFrame]:
        self._flush()
        self._settle()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        out: dict[str, pl.DataFrame] = {}
        batches = [b for b in self._batches if isinstance(b, dict)]
        for table in self.tables:
            found = [b[table.name] for b in batches if table.name in b and b[table.name].height]
            if not found:
                out[table.name] = pl.DataFrame(schema=table_schema(table))
            elif len(found) == 1:
                out[table.name] = found[0]
            else:  # many small chunks would slow every check down
                out[table.name] = pl.concat(found, rechunk=len(found) > 16)
        return out
