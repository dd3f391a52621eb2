"""What factkit is compared with: the floor (polars alone, no checks) and the naive pipeline.

Run one as a script so `bench/run.py` can time it in its own process (and read its peak
memory): `python bench/baselines.py floor|naive BUNDLES.jsonl OUT_DIR`.

* floor: polars reads the JSONL (the lines, then its JSON decoder with the bundle's type,
  which on this data is faster than `read_ndjson`), flattens it into the same tables as
  factkit's export (sources, the five fact tables and their parts) with explode/unnest,
  and writes each as Parquet (zstd) and CSV. No check of any kind.
* naive: what a researcher writes first: `json.loads` per line, the reference `jsonschema`
  validator per record, Python loops into row dicts, pandas DataFrames written to Parquet
  and CSV.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

FACTS = ("statements", "agreements", "supplies", "deployments", "alignments", "events", "responses")
PARTS = {
    "agreements": ("parties", "actions", "provisions", "relations"),
    "supplies": ("items",),
    "alignments": ("members",),
}
PART_TABLES = {
    "parties": "agreement_parties",
    "actions": "agreement_steps",
    "provisions": "agreement_obligations",
    "relations": "agreement_relations",
    "items": "supply_items",
    "members": "alignment_members",
}


def _dtype(schema: dict[str, Any], node: dict[str, Any]) -> pl.DataType:
    """The polars type of a JSON Schema node (enough of it for the bundle schema)."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return _dtype(schema, schema["$defs"][name])
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return pl.Struct(
            {k: _dtype(schema, v) for k, v in node.get("properties", {}).items() if k != "$schema"}
        )
    if kind == "array":
        return pl.List(_dtype(schema, node["items"]))
    if kind == "integer":
        return pl.Int64()
    if kind == "number":
        return pl.Float64()
    if kind == "boolean":
        return pl.Boolean()
    return pl.String()


def bundle_dtype() -> pl.Struct:
    from toolkit.model.model import load_model

    schema = load_model().bundle_schema
    dtype = _dtype(schema, schema)
    assert isinstance(dtype, pl.Struct)
    return dtype


def _flat(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested structs as prefixed columns (place → place_name, place_country)."""
    while True:
        structs = [n for n, t in frame.schema.items() if isinstance(t, pl.Struct)]
        if not structs:
            return frame
        frame = frame.with_columns(
            pl.col(n).name.map_fields(lambda f, n=n: f"{n}_{f}") for n in structs
        ).unnest(structs)


def _csv(frame: pl.DataFrame, path: Path) -> None:
    lists = [n for n, t in frame.schema.items() if isinstance(t, pl.List)]
    if lists:
        frame = frame.with_columns(
            pl.struct(n).struct.json_encode().str.slice(len(n) + 4).str.strip_suffix("}").alias(n)
            for n in lists
        )
    frame.write_csv(path)


def floor(path: Path, out: Path) -> int:
    """Read, flatten, write; returns the number of facts."""
    out.mkdir(parents=True, exist_ok=True)
    lines = pl.read_csv(
        path,
        has_header=False,
        separator="\x01",
        quote_char=None,
        schema={"line": pl.String},
    )
    bundles = lines.select(pl.col("line").str.json_decode(bundle_dtype()).alias("b")).unnest("b")
    del lines
    tables: dict[str, pl.DataFrame] = {}
    tables["sources"] = _flat(bundles.select("source", "extraction"))
    facts = 0
    for key in FACTS:
        rows = (
            bundles.select(pl.col("source").struct.field("id").alias("source_id"), key)
            .explode(key)
            .drop_nulls(key)
            .unnest(key)
            .with_columns(pl.concat_str("source_id", pl.lit("/"), "id").alias("id"))
        )
        facts += rows.height
        for part in PARTS.get(key, ()):
            tables[PART_TABLES[part]] = (
                rows.select(pl.col("id").alias("parent_id"), "source_id", part)
                .with_columns(pl.int_ranges(1, pl.col(part).list.len() + 1).alias("position"))
                .explode(part, "position")
                .drop_nulls(part)
                .unnest(part)
                .pipe(_flat)
            )
            rows = rows.drop(part)
        tables[key] = _flat(rows)
    del bundles
    for name, frame in tables.items():
        frame.write_parquet(out / f"{name}.parquet", compression="zstd")
        _csv(frame, out / f"{name}.csv")
    return facts


def naive(path: Path, out: Path) -> int:
    """json + jsonschema per record + pandas; returns the number of facts."""
    import jsonschema
    import pandas as pd

    from toolkit.model.model import load_model

    out.mkdir(parents=True, exist_ok=True)
    validator = jsonschema.Draft202012Validator(load_model().bundle_schema)
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in ("sources", *FACTS)}
    rows.update({name: [] for name in PART_TABLES.values()})
    errors = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            bundle = json.loads(line)
            errors += sum(1 for _ in validator.iter_errors(bundle))
            source = bundle["source"]
            rows["sources"].append(
                {**source, **{f"extraction_{k}": v for k, v in bundle["extraction"].items()}}
            )
            for key in FACTS:
                for fact in bundle.get(key, ()):
                    fid = f"{source['id']}/{fact['id']}"
                    row = {"id": fid, "source_id": source["id"]}
                    for field, value in fact.items():
                        if field in PART_TABLES:
                            for i, entry in enumerate(value, 1):
                                part = {"parent_id": fid, "source_id": source["id"], "position": i}
                                part.update(_flatten_dict(entry))
                                rows[PART_TABLES[field]].append(part)
                        else:
                            row.update(_flatten_dict({field: value}))
                    rows[key].append(row)
    facts = sum(len(rows[key]) for key in FACTS)
    for name, records in rows.items():
        frame = pd.DataFrame.from_records(records)
        for column in frame.columns:
            if frame[column].map(lambda v: isinstance(v, list)).any():
                frame[column] = frame[column].map(
                    lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v
                )
        frame.to_parquet(out / f"{name}.parquet", compression="zstd", index=False)
        frame.to_csv(out / f"{name}.csv", index=False)
    print(f"naive: {errors} schema errors", file=sys.stderr)
    return facts


def _flatten_dict(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out.update(_flatten_dict(item, f"{prefix}{key}_"))
        else:
            out[f"{prefix}{key}"] = item
    return out


def main(argv: list[str]) -> int:
    kind, path, out = argv
    facts = {"floor": floor, "naive": naive}[kind](Path(path), Path(out))
    print(json.dumps({"facts": facts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
