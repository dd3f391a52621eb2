"""Nothing lost, nothing invented: generated valid datasets validate, export, and read back
through polars, pandas, DuckDB and the CSV decoding with every fact exactly once and every
value identical to what was generated."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pycountry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FACT_KEYS, _source_text, datasets, write_dataset

from toolkit.checker import validate
from toolkit.export import csv_writer, export
from toolkit.model.model import load_model
from toolkit.model.tables import Column, Table

Row = dict[str, Any]
RECORD_KINDS = ("source", "fact", "part")
_PRECISION = {4: "year", 7: "month", 10: "day"}
ISO_NAMES = {country.alpha_3: country.name for country in pycountry.countries}


def _get(record: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def _date(value: str | None) -> tuple[dt.date | None, str | None]:
    if value is None:
        return None, None
    first = value + {4: "-01-01", 7: "-01", 10: ""}[len(value)]
    return dt.date.fromisoformat(first), _PRECISION[len(value)]


def _row(table: Table, record: Any, derived: Row) -> Row:
    """The exported row of `record` as the export promises it, computed from the input."""
    row: Row = {}
    for col in table.columns:
        if col.kind == "precision":
            continue
        value = derived[col.name] if col.name in derived else _get(record, col.path)
        if col.kind == "date":
            row[col.name], row[f"{col.name}_precision"] = _date(value)
        elif col.kind == "number" and value is not None:
            row[col.name] = float(value)
        else:
            row[col.name] = value
    return row


MACHINE = ("model", "assisted")


def released(dataset: dict[str, Any]) -> dict[str, Any]:
    """The facts a release export carries (see toolkit.export.release), from the dict alone:
    no rejected facts, no unreviewed machine extractions, none asserted by a dropped one."""
    out = copy.deepcopy(dataset)
    dropped: set[str] = set()
    for bundle in out["bundles"]:
        sid, extraction = bundle["source"]["id"], bundle["extraction"]
        for key in FACT_KEYS:
            kept = []
            for fact in bundle.get(key, ()):
                review = fact.get("review", extraction["review"])
                cited = [*fact.get("asserted_by", ()), *filter(None, [fact.get("statement")])]
                cited = [ref if "/" in ref else f"{sid}/{ref}" for ref in cited]
                if (
                    review == "rejected"
                    or (review == "unreviewed" and extraction["method"] in MACHINE)
                    or any(ref in dropped for ref in cited)
                ):
                    dropped.add(f"{sid}/{fact['id']}")
                else:
                    kept.append(fact)
            if key in bundle:
                bundle[key] = kept
    for bundle in out["bundles"]:
        sid = bundle["source"]["id"]
        for key in FACT_KEYS:
            for fact in bundle.get(key, ()):
                if fact.get("same_as") in dropped:
                    del fact["same_as"]
                if "relations" in fact:  # a relation to a dropped agreement goes too
                    fact["relations"] = [
                        r
                        for r in fact["relations"]
                        if (r["agreement"] if "/" in r["agreement"] else f"{sid}/{r['agreement']}")
                        not in dropped
                    ]
    return out


def _offsets(text: str | None, evidence: str | None) -> tuple[int | None, int | None]:
    if text is None or evidence is None:
        return None, None
    start = text.index(evidence)
    return start, start + len(evidence)


def _dataset_wide(table: Table, record: dict[str, Any], sid: str) -> Row:
    """Local references to statements, agreements and facts become dataset-wide."""
    out: Row = {}
    for col in table.columns:
        value = _get(record, col.path) if col.path else None
        if col.ref not in ("statement", "agreement", "fact") or value is None:
            continue
        if col.path[-1] == "same_as":
            continue
        if isinstance(value, list):
            out[col.name] = [v if "/" in v else f"{sid}/{v}" for v in value]
        else:
            out[col.name] = value if "/" in value else f"{sid}/{value}"
    return out


def expected_tables(dataset: dict[str, Any], fmt: str) -> dict[str, list[Row]]:
    """Every record table plus actors, derived from the generated dict alone."""
    model = load_model()
    texts = {
        b["source"]["id"]: _source_text(b) if "text" in b["source"] else None
        for b in dataset["bundles"]
    }
    full, dataset = dataset, released(dataset)
    kept = {
        f"{b['source']['id']}/{f['id']}": (key, b["source"]["id"])
        for b in dataset["bundles"]
        for key in FACT_KEYS
        for f in b.get(key, ())
    }
    cluster = _cluster_ids(full, [*kept, *(a["id"] for a in dataset["actors"])])
    out: dict[str, list[Row]] = {
        t.name: [] for t in model.tables.values() if t.kind in RECORD_KINDS
    }
    ext = "jsonl" if fmt == "jsonl" else fmt
    for bundle in dataset["bundles"]:
        sid = bundle["source"]["id"]
        extraction = bundle["extraction"]
        name = "bundles" if fmt == "jsonl" else sid
        out["sources"].append(
            _row(model.tables["sources"], bundle, {"bundle_file": f"sources/{name}.{ext}"})
        )
        for table in model.fact_tables:
            for fact in bundle.get(table.record_path[0], ()):
                fid = f"{sid}/{fact['id']}"
                derived = {
                    "id": fid,
                    "source_id": sid,
                    "review": fact.get("review", extraction["review"]),
                    "extraction_method": extraction["method"],
                    "extraction_model": extraction.get("model"),
                    "cluster_id": cluster[fid],
                }
                derived["evidence_start"], derived["evidence_end"] = _offsets(
                    texts[sid], fact.get("evidence")
                )
                derived.update(_dataset_wide(table, fact, sid))
                out[table.name].append(_row(table, fact, derived))
                for part in (t for t in model.tables.values() if t.parent == table.name):
                    for position, entry in enumerate(fact.get(part.record_path[0], ()), 1):
                        derived = {
                            part.columns[0].name: fid,
                            "source_id": sid,
                            "position": position,
                            **_dataset_wide(part, entry, sid),
                        }
                        out[part.name].append(_row(part, entry, derived))
    actors = model.tables["actors"]
    out["actors"] = [
        _row(actors, a, {"origin": "registry", "cluster_id": cluster[a["id"]]})
        for a in dataset["actors"]
    ]
    for code in sorted(_states(dataset)):
        name = ISO_NAMES[code]
        out["actors"].append(
            _row(
                actors,
                {},
                {
                    "id": code,
                    "kind": "state",
                    "name": name,
                    "country": code,
                    "origin": "iso3166",
                    "cluster_id": code,
                },
            )
        )
    judged = model.tables["judgements"]
    out["judgements"] = [
        _row(
            judged,
            j,
            {
                "file": "judgements/judgements.jsonl"
                if fmt == "jsonl"
                else f"judgements/j{n}.{ext}",
                "line": n if fmt == "jsonl" else 1,
            },
        )
        for n, j in enumerate(full.get("judgements", []), start=1)
    ]
    sizes: dict[str, int] = {}
    for member in cluster.values():
        sizes[member] = sizes.get(member, 0) + 1
    out["clusters"] = [
        {
            "cluster_id": cluster[rid],
            "id": rid,
            "table": kept[rid][0] if rid in kept else "actors",
            "source_id": kept[rid][1] if rid in kept else None,
            "members": sizes[cluster[rid]],
        }
        for rid in cluster
    ]
    return out


def _cluster_ids(dataset: dict[str, Any], kept: list[str]) -> dict[str, str]:
    """Each exported record's cluster, by a plain union-find over every same_as link and
    'same' judgement of the whole dataset (left-out facts still connect); a cluster is
    named after its smallest exported member."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for bundle in dataset["bundles"]:
        for key in FACT_KEYS:
            for fact in bundle.get(key, ()):
                if fact.get("same_as"):
                    union(f"{bundle['source']['id']}/{fact['id']}", fact["same_as"])
    for judgement in dataset.get("judgements", []):
        if judgement["judgement"] == "same":
            union(judgement["left"], judgement["right"])
    smallest: dict[str, str] = {}
    for rid in kept:
        root = find(rid)
        smallest[root] = min(smallest.get(root, rid), rid)
    return {rid: smallest[find(rid)] for rid in kept}


def _states(dataset: dict[str, Any]) -> set[str]:
    """ISO codes the dataset refers to: the strategies draw registry ids in lower case."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in (
                    "speakers",
                    "on_behalf_of",
                    "party",
                    "sender",
                    "host",
                    "actor",
                    "supplier",
                    "recipient",
                    "grouping",
                    "led_by",
                    "country",
                    "about",
                    "participants",
                ) or (key == "by" and isinstance(item, list)):  # a response's, not extraction's
                    items = item if isinstance(item, list) else [item]
                    found.update(v for v in items if v.isupper())
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(released(dataset)["bundles"])
    walk(dataset["actors"])
    registry = {a["id"] for a in dataset["actors"]}
    return found - registry


# --- readers: each gives {table: [row dict]} with plain Python values --------------------------


def read_polars(out: Path, name: str) -> list[Row]:
    return pl.read_parquet(out / f"{name}.parquet").to_dicts()


def read_pandas(out: Path, name: str) -> list[Row]:
    frame = pd.read_parquet(out / f"{name}.parquet", engine="pyarrow", dtype_backend="pyarrow")
    rows: list[Row] = frame.to_dict("records")
    return [{k: None if v is pd.NA else v for k, v in row.items()} for row in rows]


def read_duckdb(out: Path, name: str) -> list[Row]:
    with duckdb.connect() as con:
        cursor = con.execute("SELECT * FROM read_parquet(?)", [str(out / f"{name}.parquet")])
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def _cell(col: Column, text: str) -> Any:
    """The documented CSV decoding, with the standard library only."""
    if text == "":
        return None
    if col.kind == "date":
        return dt.date.fromisoformat(text)
    if col.kind == "integer":
        return int(text)
    if col.kind == "number":
        return float(text)
    if col.kind == "boolean":
        return {"true": True, "false": False}[text]
    if col.kind in ("string_list", "vocabulary_list"):
        return json.loads(text)
    return text


def read_csv(out: Path, name: str) -> list[Row]:
    table = load_model().tables[name]
    text = (out / f"{name}.csv").read_bytes().decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = next(reader)
    assert header == table.names
    return [
        {col.name: _cell(col, cell) for col, cell in zip(table.columns, cells, strict=True)}
        for cells in reader
    ]


READERS: dict[str, Callable[[Path, str], list[Row]]] = {
    "polars": read_polars,
    "pandas": read_pandas,
    "duckdb": read_duckdb,
    "csv": read_csv,
}


def _key(table: Table) -> Callable[[Row], tuple[Any, ...]]:
    return lambda row: tuple(row[k] for k in table.primary_key)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(dataset=datasets(), fmt=st.sampled_from(("yaml", "json", "jsonl")))
def test_generated_datasets_round_trip(dataset: dict[str, Any], fmt: str) -> None:
    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp), dataset, fmt)
        report = validate([str(root)])
        assert report.errors == 0, [p.to_dict() for p in report.problems]
        out = Path(tmp) / "dist"
        result = export([str(root)], out)
        assert result.written
        expected = expected_tables(dataset, fmt)
        facts = sum(len(b.get(k, ())) for b in released(dataset)["bundles"] for k in FACT_KEYS)
        assert facts == sum(len(expected[t.name]) for t in model.fact_tables)
        for name, rows in expected.items():
            table = model.tables[name]
            want = sorted(rows, key=_key(table))
            assert result.tables[name] == len(want), name
            for reader, read in READERS.items():
                got = sorted(read(out, name), key=_key(table))
                assert got == want, (reader, name)
        package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
        for resource in package["resources"]:  # the library's own CSV decoding too
            decoded = csv_writer.read_csv(out / resource["path"], resource["schema"]["fields"])
            assert decoded.equals(pl.read_parquet(out / f"{resource['name']}.parquet"))


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(dataset=datasets())
def test_frictionless_accepts_generated_exports(dataset: dict[str, Any]) -> None:
    """The Data Package holds for awkward values too, not just for the seed."""
    from frictionless import validate as frictionless_validate

    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp), dataset, "json")
        out = Path(tmp) / "dist"
        assert export([str(root)], out, formula_safe=True).written
        report = frictionless_validate(str(out / "datapackage.json"))
        assert report.valid, report.flatten(["resourceName", "fieldName", "type", "note"])[:5]
