"""Read an export back as typed polars tables: `toolkit.load("dist")`.

Parquet is the primary format because it carries the dtypes (Date, Enum,
List(String)) itself. An export written as CSV only is read through its
datapackage.json, which records every column's type and closed values, so both
paths give the same frames. polars is imported on first use, not at
`import toolkit`, so the command line starts fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

DATAPACKAGE = "datapackage.json"
META_PREFIX = "factkit:"


@dataclass(frozen=True, eq=False)
class Dataset(Mapping[str, "pl.DataFrame"]):
    """The tables of one export by name, plus what the export says about itself.

    `metadata` holds `format` ('parquet' or 'csv'), `schema_version`,
    `toolkit_version`, `vocabularies` (name → version), `input_sha256` and
    `rows` (table → row count).
    """

    path: Path
    tables: dict[str, pl.DataFrame]
    metadata: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; tables: {', '.join(self.tables)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={frame.height}" for name, frame in self.tables.items())
        return f"Dataset({os.fspath(self.path)!r}: {rows})"

    def to_pandas(self) -> dict[str, pd.DataFrame]:
        """Each table as pandas with pyarrow-backed dtypes, so nulls, dates and lists survive."""
        return {
            name: frame.to_pandas(use_pyarrow_extension_array=True)
            for name, frame in self.tables.items()
        }


def _decode_meta(raw: Mapping[str, Any]) -> dict[str, Any]:
    """factkit's own metadata keys, with the JSON-valued one decoded."""
    out: dict[str, Any] = {}
    for key in ("schema_version", "toolkit_version", "input_sha256"):
        if f"{META_PREFIX}{key}" in raw:
            out[key] = raw[f"{META_PREFIX}{key}"]
    vocabularies = raw.get(f"{META_PREFIX}vocabularies")
    if isinstance(vocabularies, str):
        vocabularies = json.loads(vocabularies)
    if vocabularies is not None:
        out["vocabularies"] = vocabularies
    return out


def _load_parquet(folder: Path, files: list[Path]) -> Dataset:
    import polars as pl

    tables: dict[str, pl.DataFrame] = {}
    metadata: dict[str, Any] = {"format": "parquet"}
    for path in files:
        meta = pl.read_parquet_metadata(path)
        name = meta.get(f"{META_PREFIX}table", path.stem)
        tables[name] = pl.read_parquet(path)
        if len(metadata) == 1:
            metadata.update(_decode_meta(meta))
    metadata["rows"] = {name: frame.height for name, frame in tables.items()}
    return Dataset(folder, tables, metadata)


def _load_csv(folder: Path, descriptor: dict[str, Any]) -> Dataset:
    from toolkit.export.csv_writer import read_csv

    tables = {}
    for resource in descriptor.get("resources", []):
        path = folder / resource["path"]
        tables[resource["name"]] = read_csv(path, resource["schema"]["fields"])
    metadata: dict[str, Any] = {"format": "csv"}
    if "version" in descriptor:
        metadata["schema_version"] = descriptor["version"]
    metadata.update(_decode_meta(descriptor))
    metadata["rows"] = {name: frame.height for name, frame in tables.items()}
    return Dataset(folder, tables, metadata)


def load(path: str | os.PathLike[str] = "dist") -> Dataset:
    """Read the export in folder `path` (or its datapackage.json) into a Dataset.

    Raises UsageError when `path` holds no export.
    """
    folder = Path(path)
    if folder.name == DATAPACKAGE and folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"{os.fspath(path)}: no such export folder")
    descriptor = _descriptor(folder / DATAPACKAGE)
    parquet = sorted(folder.glob("*.parquet"))
    if parquet:
        # Tables in the package's order (the model's) when there is one, else by name.
        order = {r["name"]: i for i, r in enumerate((descriptor or {}).get("resources", []))}
        parquet.sort(key=lambda p: (order.get(p.stem, len(order)), p.stem))
        return _load_parquet(folder, parquet)
    if descriptor is not None:
        return _load_csv(folder, descriptor)
    raise UsageError(f"{os.fspath(path)}: no Parquet files and no {DATAPACKAGE}")


def _descriptor(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"{path}: not a data package descriptor")
    return value
