"""Column by column, for documents that passed the schema.

The schema has checked every type already, so values are taken list by list instead of
value by value, and the few conversions the exact path makes (an integer written as 5.0
is not taken, by the integer rule of `toolkit.parsers.numbers`, which the schema check
also enforces; an integer confidence becomes a float) are made here too. Anything
unexpected raises, and the caller flattens the batch the exact way instead: both ways
give the same tables, which the tests hold them to.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from typing import Any

import polars as pl

from toolkit.frames.base import (
    DOC,
    PTR,
    bundle_file,
    finish,
    identified,
    raw_dtype,
    value_at,
    with_qualified_refs,
)
from toolkit.model.model import Model
from toolkit.model.tables import Column, Table
from toolkit.parsers.base import Document
from toolkit.parsers.numbers import is_integer

_EMPTY: dict[str, Any] = {}
_TEXT_KINDS = ("string", "enum", "vocabulary", "date")
_ARROW_AT = 256  # values of a list column from which they go through pyarrow


class Unexpected(Exception):
    """A value the column-wise path does not take; flatten the batch value by value."""


def _values(records: list[Any], path: tuple[str, ...]) -> list[Any]:
    if len(path) == 1:
        return list(map(dict.get, records, repeat(path[0])))
    if len(path) == 2:
        outer = [v or _EMPTY for v in map(dict.get, records, repeat(path[0]))]
        return list(map(dict.get, outer, repeat(path[1])))
    return [value_at(r, path) for r in records]


def _series(col: Column, values: list[Any]) -> pl.Series:
    kind = col.kind
    if kind in _TEXT_KINDS:
        return pl.Series(col.name, values, pl.String, strict=True)
    if kind == "integer":
        return pl.Series(col.name, [v if is_integer(v) else None for v in values], pl.Int64)
    if kind == "number":
        taken = [float(v) if type(v) in (int, float) else None for v in values]
        return pl.Series(col.name, taken, pl.Float64)
    if kind == "boolean":
        return pl.Series(col.name, [v if type(v) is bool else None for v in values], pl.Boolean)
    lists = [v if type(v) is list else None for v in values]
    if len(lists) < _ARROW_AT:  # a few lists (one changed file): not worth loading pyarrow
        return pl.Series(col.name, lists, pl.List(pl.String), strict=True)
    import pyarrow as pa  # lists: items as one column plus offsets (not a Series per list)

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


def _gather(
    holders: Sequence[Any], key: str, *, first: int
) -> tuple[list[Any], list[int], list[int]]:
    """The objects listed under `key` in each holder, with the holder's index and each
    object's position (counted from `first`); Unexpected unless all are lists of objects."""
    entries: list[Any] = []
    owner: list[int] = []
    position: list[int] = []
    for j, holder in enumerate(holders):
        found = holder.get(key)
        if found:
            if type(found) is not list:
                raise Unexpected(key)
            entries += found
            owner += [j] * len(found)
            position += range(first, first + len(found))
    if any(type(e) is not dict for e in entries):
        raise Unexpected(key)
    return entries, owner, position


def columnwise(
    model: Model, documents: Sequence[Document], indices: Sequence[int]
) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    actors = [(i, d.value) for i, d in zip(indices, documents, strict=True) if d.role == "actor"]
    bundles = [(i, d) for i, d in zip(indices, documents, strict=True) if d.role == "bundle"]
    judged = [(i, d) for i, d in zip(indices, documents, strict=True) if d.role == "judgement"]
    table = model.tables["actors"]
    values = [v for _, v in actors]
    if any(type(v) is not dict for v in values):
        raise Unexpected("actor")
    frame = pl.DataFrame(_stored(table, values), schema_overrides=None)
    out["actors"] = finish(
        table,
        frame.with_columns(
            pl.lit("registry", pl.String).alias("origin"),
            pl.Series(DOC, [i for i, _ in actors], pl.UInt32),
            pl.lit("", pl.String).alias(PTR),
        ),
    )
    if "judgements" in model.tables:
        out["judgements"] = _judgements(model.tables["judgements"], judged)
    out.update(_bundles_columnwise(model, bundles))
    return out


def _judgements(table: Table, judged: list[tuple[int, Document]]) -> pl.DataFrame:
    """Judgement records, each with the file and line it was read from."""
    values = [d.value for _, d in judged]
    if any(type(v) is not dict for v in values):
        raise Unexpected("judgement")
    frame = pl.DataFrame(_stored(table, values), schema_overrides=None)
    return finish(
        table,
        frame.with_columns(
            pl.Series("file", [bundle_file(d) for _, d in judged], pl.String),
            pl.Series("line", [d.line for _, d in judged], pl.Int64),
            pl.Series(DOC, [i for i, _ in judged], pl.UInt32),
            pl.lit("", pl.String).alias(PTR),
        ),
    )


def _bundles_columnwise(
    model: Model, bundles: list[tuple[int, Document]]
) -> dict[str, pl.DataFrame]:
    out: dict[str, pl.DataFrame] = {}
    values = [d.value for _, d in bundles]
    if any(type(v) is not dict for v in values):
        raise Unexpected("bundle")
    extraction = [v.get("extraction") or _EMPTY for v in values]
    rel: dict[tuple[Any, Any], str] = {}
    files = []
    for _, doc in bundles:
        where = (doc.path, doc.root)
        if where not in rel:
            rel[where] = bundle_file(doc)
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
    out["sources"] = finish(table, docs.with_columns(pl.lit("", pl.String).alias(PTR)))
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
        facts = identified(
            pl.concat([per_doc[owner] if owner else per_doc.clear(), own], how="horizontal"),
            table,
            key,
        )
        out[table.name] = finish(table, facts)
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
            out[part.name] = finish(part, with_qualified_refs(rows, part))
    return out
