"""A SQLite database of the export, and the Datasette metadata that documents it.

`factkit export --format sqlite` writes `factkit.sqlite` (every table with its primary
and foreign keys, and an FTS5 full-text index over the statements' words and every
fact's evidence) and `metadata.json` (Datasette's descriptions of every table and
column, taken from the model like the codebook's), so that

    datasette dist/factkit.sqlite -m dist/metadata.json

opens a browsable, searchable dataset with no code. Values are the typed tables' own:
dates as ISO text, lists as JSON arrays, booleans as 0/1. The database is built in
memory and written as bytes, so identical input gives a byte-identical file.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl

from toolkit.errors import ExportError
from toolkit.model.model import Model
from toolkit.model.tables import Table

DATABASE = "factkit.sqlite"
METADATA = "metadata.json"
# Columns of a fact table worth searching, where the table has them.
SEARCHED = ("text", "title", "speaker_role", "evidence", "note")
LABELS = {"actor": "name", "vocabulary": "label"}  # what Datasette shows for a key


def _sql_type(dtype: pl.DataType) -> str:
    if dtype.is_integer() or dtype == pl.Boolean:
        return "INTEGER"
    if dtype.is_float():
        return "REAL"
    return "TEXT"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cell(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value


def _create(table: Table, frame: pl.DataFrame) -> str:
    columns = [f"{_quote(n)} {_sql_type(t)}" for n, t in frame.schema.items()]
    primary = ", ".join(_quote(k) for k in table.primary_key)
    columns.append(f"PRIMARY KEY ({primary})")
    keys: list[tuple[str, str | None, str]] = [
        (fk.column, fk.table, fk.target) for fk in table.foreign_keys
    ]
    # a coded column joins its vocabulary's table, so a browser shows the code's label
    keys += [(c.name, c.vocabulary, "code") for c in table.columns if c.kind == "vocabulary"]
    for column, target, key in dict.fromkeys(keys):
        if column in frame.columns and target is not None:
            columns.append(
                f"FOREIGN KEY ({_quote(column)}) REFERENCES {_quote(target)} ({_quote(key)})"
            )
    return f"CREATE TABLE {_quote(table.name)} (\n  " + ",\n  ".join(columns) + "\n)"


def _rows(frame: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    for row in frame.iter_rows():
        yield tuple(_cell(v) for v in row)


def searched(model: Model, tables: Mapping[str, pl.DataFrame]) -> dict[str, list[str]]:
    """Fact table → its columns indexed for full-text search."""
    return {
        t.name: [c for c in SEARCHED if c in tables[t.name].columns]
        for t in model.fact_tables
        if t.name in tables and any(c in tables[t.name].columns for c in SEARCHED)
    }


def database(model: Model, tables: Mapping[str, pl.DataFrame]) -> bytes:
    """The whole database as the bytes of a SQLite file."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("PRAGMA page_size = 4096")
        for name, frame in tables.items():
            table = model.tables[name]
            conn.execute(_create(table, frame))
            marks = ", ".join("?" * frame.width)
            conn.executemany(f"INSERT INTO {_quote(name)} VALUES ({marks})", _rows(frame))
        for name, columns in searched(model, tables).items():
            fts, cols = _quote(f"{name}_fts"), ", ".join(_quote(c) for c in columns)
            conn.execute(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content={_quote(name)}, "
                "content_rowid=rowid, tokenize='unicode61 remove_diacritics 2')"
            )
            source = _quote(name)
            conn.execute(f"INSERT INTO {fts} (rowid, {cols}) SELECT rowid, {cols} FROM {source}")
            conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
        conn.commit()
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, target, _ = broken[0]
            raise ExportError(f"sqlite: row {rowid} of {table} refers to no row of {target}")
        conn.execute("VACUUM")
        return conn.serialize()
    except sqlite3.Error as exc:
        raise ExportError(f"sqlite: {exc}") from exc
    finally:
        conn.close()


def metadata(
    model: Model, tables: Mapping[str, pl.DataFrame], *, toolkit_version: str
) -> dict[str, Any]:
    """Datasette metadata: the codebook's descriptions of every table and column."""
    described: dict[str, Any] = {}
    fts = searched(model, tables)
    for name in tables:
        table = model.tables[name]
        entry: dict[str, Any] = {
            "description": f"{table.description} One row per {table.row}.",
            "columns": {c.name: c.description for c in table.columns if c.name in tables[name]},
        }
        if table.kind in LABELS and LABELS[table.kind] in tables[name].columns:
            entry["label_column"] = LABELS[table.kind]
        if name in fts:
            entry["fts_table"] = f"{name}_fts"
            entry["fts_pk"] = "rowid"
        described[name] = entry
    return {
        "title": "factkit dataset",
        "description": (
            f"Facts extracted from news articles, exported by factkit {toolkit_version} "
            f"(schema {model.version}). Column meanings as in the codebook."
        ),
        "databases": {DATABASE.removesuffix(".sqlite"): {"tables": described}},
    }


def metadata_bytes(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()
