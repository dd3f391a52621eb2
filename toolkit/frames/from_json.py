"""In polars, from the JSON text, for JSONL lines that passed the schema.

polars decodes the lines with the bundle's own type (derived from the schema) and
flattens them with explode/unnest, off the interpreter: it runs in a worker thread
while the next batch is parsed. For a document that passed the schema it gives what the
exact path gives, with one exception the caller rules out first: an integer field
written as a float (5.0), which the schema check refuses (S103, the integer rule of
`toolkit.parsers.numbers`) and polars would take.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from toolkit.frames.base import DOC, PTR, finish, identified, raw_dtype, with_qualified_refs
from toolkit.model.model import Model


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


def integer_paths(model: Model) -> list[tuple[str, str | None, tuple[tuple[str, ...], ...]]]:
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


def polars_bundles(
    model: Model, lines: list[bytes], indices: list[int], files: list[str]
) -> dict[str, pl.DataFrame]:
    """The tables of valid bundles, from their JSON lines (UTF-8, checked by the reader)."""
    dtype = _json_dtype(model.bundle_schema, model.bundle_schema)
    text = pl.Series("b", lines, pl.Binary).cast(pl.String)
    decoded = text.str.json_decode(dtype).struct.unnest()
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
    out["sources"] = finish(table, sources)
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
        facts = identified(
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
        out[table.name] = finish(table, facts)
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
            out[part.name] = finish(part, with_qualified_refs(rows, part))
    return out
