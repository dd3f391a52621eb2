"""datapackage.json: a Frictionless Data Package (v2) describing the CSV files of an export.

Every field, type, description, closed value set and key comes from the model, so
`frictionless validate dist/datapackage.json` checks the CSV files against the
same contract the Parquet files were checked against. The descriptor holds no
timestamp; byte counts and hashes make it a pure function of the exported bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from toolkit.export.typed import allowed_values, vocabulary_versions
from toolkit.model.model import Model
from toolkit.model.tables import Column, Table

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
NAME = "factkit-dataset"
FILE_NAME = "datapackage.json"

_TYPES = {
    "string": "string",
    "enum": "string",
    "precision": "string",
    "vocabulary": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "string_list": "array",
    "vocabulary_list": "array",
}

FORMAT_NOTE = (
    'CSV: UTF-8 without BOM, RFC 4180 (comma, CRLF, fields quoted with " when needed). '
    "An empty cell is null. Dates are YYYY-MM-DD: a date given only to the month or year is "
    "its first day, and the <date>_precision column says day, month or year. List fields hold "
    "one JSON array of strings per cell ([] for an empty list)."
)
FORMULA_NOTE = (
    "Formula-safe export: every text cell that began with =, +, -, @, a TAB or a CR, or whose "
    "first character after leading whitespace or zero-width characters is =, +, -, @ or a "
    "compatibility form of one (full-width \uff1d \uff0b \uff0d \uff20, small, superscript, "
    "subscript), carries a leading apostrophe (') against spreadsheet formula injection "
    "(OWASP), so such cells differ from the data by that one character; the Parquet files keep "
    "the exact values."
)


PARTS_NOTE = (
    "The table's CSV is cut into parts by the publication year of each row's source, one "
    "file per year (published_year=YYYY in its path; the year is not a column); each part "
    "has the header row, and the parts together are the table."
)


@dataclass(frozen=True, slots=True)
class CsvFile:
    """What the descriptor records about one written CSV file."""

    table: str
    path: str | list[str]  # a list: a multipart resource, its parts in order
    size: int  # of the table's CSV as read (for a multipart one: see partitioned.py)
    sha256: str


def field_descriptor(col: Column, model: Model) -> dict[str, Any]:
    """A Table Schema field for one model column."""
    spec: dict[str, Any] = {"name": col.name, "type": _TYPES[col.kind]}
    spec["description"] = col.description
    values = list(allowed_values(col, model))
    if col.kind == "boolean":
        spec["trueValues"] = ["true"]
        spec["falseValues"] = ["false"]
    if spec["type"] == "array":
        item: dict[str, Any] = {"type": "string"}
        if values:
            item["constraints"] = {"enum": values}
        spec["arrayItem"] = item
    constraints: dict[str, Any] = {}
    if col.required:
        constraints["required"] = True
    if values and spec["type"] == "string":
        constraints["enum"] = values
    if constraints:
        spec["constraints"] = constraints
    return spec


def _foreign_keys(table: Table, model: Model) -> list[dict[str, Any]]:
    out = []
    for fk in table.foreign_keys:
        if table.column(fk.column).kind in ("string_list", "vocabulary_list"):
            continue  # a JSON-array cell cannot be a key
        resource = "" if fk.table == table.name else fk.table
        out.append(
            {"fields": [fk.column], "reference": {"resource": resource, "fields": [fk.target]}}
        )
    return out


def resource(table: Table, model: Model, file: CsvFile, *, formula_safe: bool) -> dict[str, Any]:
    """The resource for one table's CSV file."""
    description = f"{table.description} One row per {table.row}."
    if formula_safe:
        description += " " + FORMULA_NOTE
    if isinstance(file.path, list):
        description += " " + PARTS_NOTE
    return {
        "name": table.name,
        "type": "table",
        "path": file.path,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "description": description,
        "bytes": file.size,
        "hash": f"sha256:{file.sha256}",
        "schema": {
            "fields": [field_descriptor(col, model) for col in table.columns],
            "missingValues": [""],
            "primaryKey": list(table.primary_key),
            "foreignKeys": _foreign_keys(table, model),
        },
    }


def descriptor(
    model: Model,
    files: list[CsvFile],
    *,
    formula_safe: bool,
    toolkit_version: str,
    input_sha256: str,
) -> dict[str, Any]:
    """The whole package, with factkit's own keys beside the standard ones."""
    description = "Facts extracted from news articles, validated by factkit. " + FORMAT_NOTE
    if formula_safe:
        description += " " + FORMULA_NOTE
    package: dict[str, Any] = {
        "$schema": PROFILE,
        "name": NAME,
        "title": "factkit dataset",
        "description": description,
        "version": model.version,
    }
    package["factkit:toolkit_version"] = toolkit_version
    package["factkit:vocabularies"] = vocabulary_versions(model)
    package["factkit:input_sha256"] = input_sha256
    package["resources"] = [
        resource(model.tables[f.table], model, f, formula_safe=formula_safe) for f in files
    ]
    return package


def to_bytes(package: dict[str, Any]) -> bytes:
    """Stable JSON text: keys in the order built, two-space indent, final newline."""
    return (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
