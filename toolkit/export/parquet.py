"""Parquet output: polars' own writer, zstd, statistics, and factkit's key-value metadata.

polars 2.x writes file-level key-value metadata itself (`metadata=`), so no
pyarrow round trip is needed; its Arrow schema also records Enum categories, so
polars reads the file back with the exact dtypes. The writer puts no timestamp
in the file, which keeps identical input byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from toolkit.export.typed import vocabulary_versions
from toolkit.model.model import Model

PREFIX = "factkit:"
# Rows per row group, fixed: left to polars, the groups follow the frame's chunks, which
# depend on how the query that made it ran, and identical input gave different bytes.
ROW_GROUP_ROWS = 512**2


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file a run read: its path relative to its data folder and the file itself."""

    relative: str
    path: str | Path
    sha256: str | None = None  # the digest of its bytes, when the run already computed it


def input_sha256(files: Iterable[InputFile]) -> str:
    """SHA-256 over the sorted lines '<sha256 of bytes>  <relative path>' (sha256sum style).

    Relative paths make the hash independent of where the data folder sits.
    """
    lines = []
    for item in files:
        known = item.sha256
        if known is None:
            digest = hashlib.sha256()
            with open(item.path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            known = digest.hexdigest()
        lines.append(f"{known}  {item.relative.replace(os.sep, '/')}\n")
    return hashlib.sha256("".join(sorted(lines)).encode("utf-8")).hexdigest()


def common_metadata(model: Model, toolkit_version: str, input_hash: str) -> dict[str, str]:
    """The key-value pairs every Parquet file of one export shares."""
    vocabularies = vocabulary_versions(model)
    return {
        f"{PREFIX}schema_version": model.version,
        f"{PREFIX}toolkit_version": toolkit_version,
        f"{PREFIX}vocabularies": json.dumps(vocabularies, sort_keys=True, separators=(",", ":")),
        f"{PREFIX}input_sha256": input_hash,
    }


def write_table(frame: pl.DataFrame, name: str, common: dict[str, str], handle: BinaryIO) -> None:
    """Write one typed table to an open binary file."""
    metadata = {**common, f"{PREFIX}table": name, f"{PREFIX}rows": str(frame.height)}
    frame.write_parquet(
        handle,
        compression="zstd",
        statistics=True,
        metadata=metadata,
        row_group_size=ROW_GROUP_ROWS,
    )
