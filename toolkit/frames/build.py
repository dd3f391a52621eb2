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
from dataclasses import dataclass
from typing import Any

import polars as pl

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
    """The check tables of one run plus the documents their rows point into."""

    tables: dict[str, pl.DataFrame]
    documents: list[Document]


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
        schema: dict[str, pl.DataType] = {c.name: raw_dtype(c) for c in self.cols}  # type: ignore[misc]
        schema[DOC] = pl.UInt32()
        schema[PTR] = pl.String()
        return pl.DataFrame(self.data, schema=schema)


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


def build_frames(model: Model, documents: Sequence[Document]) -> Frames:
    """One pass over the documents; every record lands in exactly one table."""
    sinks = {t.name: _Sink(t) for t in model.tables.values() if t.kind != "vocabulary"}
    actors = sinks["actors"]
    for index, doc in enumerate(documents):
        if doc.role == "actor":
            if type(doc.value) is dict:
                actors.add(doc.value, index, "", {"origin": "registry"})
        else:
            _flatten_bundle(model, sinks, doc, index)
    return Frames(tables={name: s.frame() for name, s in sinks.items()}, documents=list(documents))
