"""The codebook: every exported table, column and code, rendered from the model.

It is generated, never written by hand, so it cannot disagree with the exports:
column types come from the same function that types the tables, and the
vocabulary sections from the same vocabulary files the checks use. The Example
column shows real values: the first non-null value of each column of the shipped
dataset's export (tables in primary-key order), so an example is never one the
checks would reject. A pure function of the model and those examples (no clock),
so a test can regenerate it and fail when the committed docs/codebook.md is stale.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from toolkit.export.typed import allowed_values, column_dtype
from toolkit.model.model import Model
from toolkit.model.tables import Column, Table
from toolkit.model.vocab import Vocabulary

_REF_NOTES = {
    "language": "ISO 639-1 code",
}


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(text.split()).replace("|", "\\|")


def _code(value: str) -> str:
    return f"`{value}`"


def dtype_name(dtype: pl.DataType) -> str:
    """The exported type as an analyst sees it in polars (Enum without its categories)."""
    if isinstance(dtype, pl.Enum):
        return "Enum"
    return str(dtype)


def _link(table: str) -> str:
    return f"[{_code(table)}](#{table})"


def _allowed(col: Column, table: Table, model: Model) -> str:
    if col.vocabulary:
        kind = "codes" if col.kind == "vocabulary_list" else "a code"
        return f"{kind} of {_link(col.vocabulary)}"
    fks = {fk.column: fk for fk in table.foreign_keys}
    if col.name in fks:
        fk = fks[col.name]
        return f"{_code(fk.target)} of {_link(fk.table)}"
    if col.kind == "string_list" and col.ref in ("actor", "country"):
        return f"{_code('id')}s of {_link('actors')}"
    if col.kind == "string_list" and col.ref == "statement":
        return f"{_code('id')}s of {_link('statements')} (dataset-wide)"
    if col.ref == "fact":
        ids = "ids" if col.kind == "string_list" else "id"
        return f"dataset-wide {ids} of facts of any table"
    values = allowed_values(col, model)
    if values:
        return ", ".join(_code(v) for v in values)
    return _REF_NOTES.get(col.ref or "", "")


Examples = Mapping[tuple[str, str], str]
_EXAMPLE_LENGTH = 60  # characters of an example shown before it is cut with '…'


def _example_text(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= _EXAMPLE_LENGTH else text[: _EXAMPLE_LENGTH - 1] + "…"


def examples_from(tables: Mapping[str, pl.DataFrame]) -> dict[tuple[str, str], str]:
    """(table, column) → the first non-null value of the column as text; lists count only
    when they are not empty. The tables come sorted by primary key, so this is stable."""
    out: dict[tuple[str, str], str] = {}
    for name, frame in tables.items():
        for column in frame.columns:
            series = frame[column].drop_nulls()
            if isinstance(series.dtype, pl.List):
                series = series.filter(series.list.len() > 0)
            if series.len():
                out[(name, column)] = _example_text(series.head(1).to_list()[0])
    return out


def dataset_examples(paths: Sequence[str | os.PathLike[str]]) -> dict[tuple[str, str], str]:
    """The examples of the dataset under `paths`, from the tables an export writes.

    Raises UsageError when the data has errors: examples come from valid data only.
    """
    from toolkit import checker
    from toolkit.errors import UsageError
    from toolkit.export import assemble

    run = checker.run([os.fspath(p) for p in paths])
    if not run.report.ok:
        raise UsageError(
            f"the data the examples come from has {run.report.errors} errors; "
            "run `factkit validate` on it first"
        )
    # as the export makes them, unreviewed facts included
    return examples_from(assemble.tables(run.model, run.frames, include_unreviewed=True))


def _column_rows(table: Table, model: Model, examples: Examples | None) -> list[str]:
    rows = [
        "| Column | Type | Required | Meaning | Allowed values | Example |",
        "|---|---|---|---|---|---|",
    ]
    for col in table.columns:
        found = (examples or {}).get((table.name, col.name))
        if found is None and col.example is not None:  # the schema's own, where data has none
            found = _example_text(col.example)
        example = _code(_cell(found)) if found is not None else ""
        rows.append(
            f"| {_code(col.name)} | {dtype_name(column_dtype(col, model))} "
            f"| {'yes' if col.required else 'no'} | {_cell(col.description)} "
            f"| {_allowed(col, table, model)} | {example} |"
        )
    return rows


def _keys(table: Table) -> list[str]:
    lines = [f"- Primary key: {', '.join(_code(k) for k in table.primary_key)}"]
    if table.foreign_keys:
        refs = "; ".join(
            f"{_code(fk.column)} → {_link(fk.table)}.{_code(fk.target)}"
            for fk in table.foreign_keys
        )
        lines.append(f"- Foreign keys: {refs}")
    return lines


def _table_section(table: Table, model: Model, examples: Examples | None) -> list[str]:
    lines = [f"### {table.name}", "", f"{_cell(table.description)} One row per {table.row}."]
    if table.name == "actors":
        lines[-1] += (
            " Besides the registry, every ISO 3166-1 alpha-3 code the data refers to is a row"
            " (origin `iso3166`, kind `state`, named as ISO 3166-1 names it), so every actor"
            " reference joins."
        )
    return [*lines, "", *_keys(table), "", *_column_rows(table, model, examples), ""]


def _synonyms(code: Mapping[str, Any]) -> str:
    words = code.get("synonyms") or []
    return f" Synonyms: {', '.join(words)}." if words else ""


def _vocabulary_section(vocab: Vocabulary, table: Table, model: Model) -> list[str]:
    closed = (
        "Closed: a value outside these codes is an error."
        if vocab.closed
        else "Open: other values are accepted."
    )
    lines = [
        f"### {vocab.name}",
        "",
        f"**{_cell(vocab.title)}** (version {vocab.version}). {_cell(vocab.description)}",
        "",
        closed,
        "",
        *_keys(table),
        "",
    ]
    extra = list(vocab.fields)
    if extra:
        lines.append("Extra columns:")
        lines.append("")
        for name, spec in vocab.fields.items():
            kind = dtype_name(column_dtype(table.column(name), model))
            lines.append(f"- {_code(name)} ({kind}): {_cell(spec['description'])}")
        lines.append("")
    header = ["Code", "Label", "Parent", "Description", *extra]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for code in vocab.codes:
        cells = [
            _code(code["code"]),
            _cell(code["label"]),
            _code(code["parent"]) if code.get("parent") else "",
            _cell(code["description"] + _synonyms(code)),
            *(_cell(code.get(name)) for name in extra),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


FILE_FORMATS = """\
## File formats

`factkit export` writes one file per table and format into the output folder
(`dist/` by default), replacing the previous export as a whole.

- **Parquet** (`<table>.parquet`): the types above exactly (Date, Enum,
  List(String), Int64, Float64, Boolean), zstd-compressed with statistics. Each
  file's key-value metadata holds `factkit:schema_version`,
  `factkit:toolkit_version`, `factkit:vocabularies` (JSON: vocabulary →
  version), `factkit:table`, `factkit:rows` and `factkit:input_sha256` (SHA-256
  over the sorted lines `<sha256 of file>  <path relative to the data folder>` of
  every input file).
- **CSV** (`<table>.csv`) with `datapackage.json`, a Frictionless Data Package
  (v2) that gives every column's type, description, required flag, allowed
  values, primary and foreign keys. UTF-8 without byte-order mark, RFC 4180:
  comma separator, CRLF line ends, a header row, fields quoted with `"` when they
  hold a comma, quote, CR or LF (a quote inside is doubled). An empty cell is
  null. Dates are `YYYY-MM-DD`, booleans `true`/`false`, numbers in the shortest
  form that reads back as the same value. A list cell holds one JSON array of
  strings (`["RUS","PRK"]`; `[]` is an empty list, an empty cell is null).
- **Dates and precision**: sources give dates as `2024`, `2024-06` or
  `2024-06-20`. A date column holds the first day of what the source gives
  (`2024-06` → 2024-06-01) and the `<column>_precision` column right after it
  says `day`, `month` or `year`. Filter on precision before comparing days.
- **Formula-safe CSV** (`factkit export --formula-safe`, off by default): every
  text cell that starts with `=`, `+`, `-`, `@`, TAB or CR gets a leading `'`, as
  OWASP advises against CSV injection when files are opened in spreadsheet
  software. So does every cell whose first character after leading whitespace or
  zero-width characters is `=`, `+`, `-`, `@` or a form that Unicode
  compatibility folding (NFKC) turns into one (full-width `＝`, `＋`, `－`, `＠`,
  and the small, superscript and subscript forms): spreadsheet software may trim
  the one and fold the other. Those cells then differ from the data by that
  character, and each resource's description in datapackage.json says so; the
  Parquet files are never changed. Without the option every CSV value reads back
  exactly.
- **Loading**: `toolkit.load("dist")` returns the tables as polars DataFrames
  with these types (`ds["statements"]`, `ds.to_pandas()`, `ds.metadata`).
"""


def render(model: Model, examples: Examples | None = None) -> str:
    """The whole codebook as Markdown; `examples` from `dataset_examples` fill the Example
    column (else the schema's `examples`, where a field has one)."""
    data_tables = [t for t in model.tables.values() if t.kind != "vocabulary"]
    vocab_tables = [t for t in model.tables.values() if t.kind == "vocabulary"]
    lines = [
        "# factkit codebook",
        "",
        "<!-- Generated by `factkit codebook` (make docs) from schemas/; do not edit. -->",
        "",
        f"Schema version {model.version}. Tables: "
        + ", ".join(_link(t.name) for t in data_tables)
        + ". Vocabularies: "
        + ", ".join(_link(t.name) for t in vocab_tables)
        + ". See also "
        "[file formats](#file-formats).",
        "",
        "## Tables",
        "",
    ]
    for table in data_tables:
        lines += _table_section(table, model, examples)
    lines += [
        "## Vocabularies",
        "",
        "Each vocabulary is also exported as a table of its own, one row per code.",
        "",
    ]
    for table in vocab_tables:
        lines += _vocabulary_section(model.vocabularies[table.name], table, model)
    return "\n".join(lines) + "\n" + FILE_FORMATS
