"""What every way of flattening shares: the `_doc`/`_ptr` columns, the dtypes of the
check tables, and the steps the column-wise and polars paths both take (so they cannot
drift apart).

Values are taken as they are, without coercion: a value of the wrong type becomes
null (the schema check has already reported it), so one bad field never hides the
problems of the rest of the dataset. Every row carries `_doc` (index of its document)
and `_ptr` (JSON pointer of its record) so any check can point back to file, line and
column.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

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


def value_at(record: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` in nested objects, or None where a step is not an object."""
    for key in path:
        if type(record) is not dict:
            return None
        record = record.get(key)
    return record


@dataclass(slots=True)
class Frames:
    """The check tables of one run plus the documents their rows point into.

    `documents` is any sequence indexable by `_doc` (the checker's keeps JSONL lines on
    disk and reads one back only when a problem needs its position). `tables` is a dict, or
    after a run the staged parts (`toolkit.stage.parts.PartTables`), read when asked.
    """

    tables: MutableMapping[str, pl.DataFrame]
    documents: Sequence[Document]


def table_schema(table: Table) -> dict[str, pl.DataType]:
    """Column names and dtypes of a check table, `_doc` and `_ptr` last."""
    schema: dict[str, pl.DataType] = {
        c.name: dtype for c in table.columns if (dtype := raw_dtype(c)) is not None
    }
    schema[DOC] = pl.UInt32()
    schema[PTR] = pl.String()
    return schema


def finish(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """A check table's columns in their order, working columns dropped."""
    return frame.select(table_schema(table).keys())


# References that may name a fact of the same bundle by its local id ('st-4'): the tables
# hold them dataset-wide ('<source id>/st-4'), so one join resolves local and remote alike.
QUALIFIED_REFS = ("statement", "agreement", "fact")


def qualified_columns(table: Table) -> list[Column]:
    """Columns whose local references are made dataset-wide (`same_as` is always so)."""
    return [
        c
        for c in table.columns
        if c.ref in QUALIFIED_REFS and raw_dtype(c) is not None and c.path[-1:] != ("same_as",)
    ]


def qualify(source_id: str | None, ref: Any) -> Any:
    """A reference as a dataset-wide id ('<source>/<local>'), value by value."""
    if type(ref) is not str or "/" in ref or source_id is None:
        return ref
    return f"{source_id}/{ref}"


def _qualified_expr(ref: pl.Expr, sid: pl.Expr) -> pl.Expr:
    local = ref.is_not_null() & sid.is_not_null() & ~ref.str.contains("/", literal=True)
    return pl.when(local).then(pl.concat_str([sid, pl.lit("/"), ref])).otherwise(ref)


def with_qualified_refs(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Local references of a fact or part table made dataset-wide (see QUALIFIED_REFS)."""
    cols = qualified_columns(table)
    scalar = [c for c in cols if c.kind != "string_list"]
    lists = [c for c in cols if c.kind == "string_list"]
    if scalar:
        frame = frame.with_columns(
            _qualified_expr(pl.col(c.name), pl.col("source_id")).alias(c.name) for c in scalar
        )
    for col in lists:
        frame = _qualify_list(frame, col.name)
    return frame


def _qualify_list(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """A list column's local items prefixed by their row's source id (explode, fix, regroup)."""
    if frame.is_empty() or frame[name].null_count() == frame.height:
        return frame
    row = "__row"
    items = (
        frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias(row), "source_id", name)
        .filter(pl.col(name).list.len() > 0)
        .explode(name)
        .select(row, _qualified_expr(pl.col(name), pl.col("source_id")).alias(name))
        .group_by(row, maintain_order=True)
        .agg(name)
    )
    fixed = (
        pl.DataFrame({row: pl.int_range(frame.height, dtype=pl.UInt32, eager=True)})
        .join(items, on=row, how="left", maintain_order="left")
        .get_column(name)
    )
    keep = frame[name].is_null() | (frame[name].list.len() == 0)
    return frame.with_columns(
        pl.when(pl.Series(keep)).then(pl.col(name)).otherwise(fixed).alias(name)
    )


def identified(facts: pl.DataFrame, table: Table, key: str) -> pl.DataFrame:
    """Fact rows with their dataset-wide id, effective review, pointer and dataset-wide
    references; shared by the per-document and the polars-native paths."""
    facts = facts.with_columns(
        pl.concat_str([pl.col("source_id"), pl.lit("/"), pl.col("local_id")]).alias("id"),
        pl.col("_own_review").fill_null(pl.col("_review")).alias("review"),
        (pl.lit(f"/{key}/") + pl.col("_i").cast(pl.String)).alias(PTR),
    )
    return with_qualified_refs(facts, table)


def bundle_file(doc: Document) -> str:
    """The `bundle_file` of a document: its path from the data root, with `/`."""
    name = os.path.relpath(doc.path, doc.root) if doc.root else str(doc.path)
    return name.replace(os.sep, "/")


def read_columns(
    tables: Mapping[str, pl.DataFrame], wanted: Mapping[str, Collection[str]]
) -> dict[str, pl.DataFrame]:
    """Only the `wanted` columns (those a table has, with `_doc`, `_ptr`) of some tables:
    staged tables kept as Parquet parts (`toolkit.stage.parts.PartTables`) read no other
    column from disk, and are not read whole."""
    reader = getattr(tables, "read_columns", None)
    if reader is not None:
        found: dict[str, pl.DataFrame] = reader(wanted)
        return found
    return {
        name: frame.select(c for c in frame.columns if c in columns or c in (DOC, PTR))
        for name, columns in wanted.items()
        if (frame := tables.get(name)) is not None
    }


def table_rows(tables: Mapping[str, pl.DataFrame], name: str) -> int:
    """A table's rows (0 when there is none), without reading a table kept as parts."""
    if name not in tables:
        return 0
    counter = getattr(tables, "height", None)
    if counter is not None:
        rows: int = counter(name)
        return rows
    return tables[name].height
