"""The partitioned layout (`--layout partitioned`): large fact tables as hive-partitioned data.

Each fact table and each of its part tables (an agreement's parties, steps, obligations
and relations, a supply's items, an alignment's members) is written as a dataset folder
partitioned by the publication year of the row's source, which polars and DuckDB read as
one table (tests/test_export_layout.py), as Spark does its own:

    statements/published_year=2024/00000000.parquet
    csv/statements/published_year=2024/00000000.csv

A part row carries the `source_id` of its fact, so it lands in its fact's partition. The
Parquet files are written by polars' own partitioned sink, one file per year, rows in
primary-key order inside it; the key is in the folder name only (`include_key=False`),
so every file holds exactly the table's columns. A table without rows is one empty file
at the dataset's root, so the dataset still exists and has its schema. The other tables
(sources, actors, vocabularies) stay one file each, as in the default layout, and so do
the resolution tables (clusters, disagreements, judgements): they are dataset-wide, and
although a `clusters` row names its fact's source, a cluster joins reports of different
years, so cutting it by year would scatter the one thing a reader of it wants whole.

The CSV parts go to a tree of their own under `csv/`: a reader pointed at a table's
Parquet folder must find Parquet only. Each part is a complete CSV file with its header;
the Data Package lists a table's parts as one multipart resource, whose `bytes` and
`hash` are those of the table as Frictionless reads it (the parts concatenated, the
header of every part after the first left out).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import polars as pl

from toolkit.export import atomic, csv_writer, parquet
from toolkit.model.model import Model

LAYOUTS = ("files", "partitioned")
KEY = "published_year"
CSV_ROOT = "csv"
PART = "00000000"  # the name polars' sink gives the first file of a partition
# Metadata of every file of a partitioned table (besides the keys of parquet.py).
LAYOUT_KEY = f"{parquet.PREFIX}layout"
ORDER_KEY = f"{parquet.PREFIX}primary_key"


def partitioned_tables(model: Model) -> set[str]:
    """The tables this layout partitions: the fact tables and their part tables (not the
    derived resolution tables, which stay one file each)."""
    return {t.name for t in model.tables.values() if t.kind in ("fact", "part")}


def source_years(sources: pl.DataFrame) -> dict[str, int]:
    """Source id → the year it was published (the typed `published_on` is a Date)."""
    years = sources.select("id", pl.col("published_on").dt.year())
    return dict(years.iter_rows())


def year_column(frame: pl.DataFrame, years: dict[str, int]) -> pl.Series:
    """Each row's partition: the publication year of its source."""
    return frame["source_id"].replace_strict(years, return_dtype=pl.Int32).alias(KEY)


def part_name(name: str, year: int | None, suffix: str) -> str:
    """Where a table's part for `year` goes (None: the empty table's one file)."""
    folder = name if suffix == ".parquet" else f"{CSV_ROOT}/{name}"
    if year is None:
        return f"{folder}/{PART}{suffix}"
    return f"{folder}/{KEY}={year}/{PART}{suffix}"


def metadata(common: dict[str, str], name: str, rows: int, key: Sequence[str]) -> dict[str, str]:
    """What every file of a partitioned table says: the export's keys, the table, its total
    rows (a reader that finds fewer in the parts knows one is missing) and its key."""
    return {
        **common,
        f"{parquet.PREFIX}table": name,
        f"{parquet.PREFIX}rows": str(rows),
        LAYOUT_KEY: "partitioned",
        ORDER_KEY: json.dumps(list(key)),
    }


def write_parquet(
    staging: atomic.Staging,
    name: str,
    frame: pl.DataFrame,
    years: pl.Series,
    meta: dict[str, str],
) -> list[str]:
    """Write table `name` as a dataset folder; returns its files, by year."""
    if frame.is_empty():
        empty = part_name(name, None, ".parquet")
        staging.write(
            empty,
            lambda handle: frame.write_parquet(
                handle,
                compression="zstd",
                statistics=True,
                metadata=meta,
                row_group_size=parquet.ROW_GROUP_ROWS,
            ),
        )
        return [empty]
    root = staging.path / name
    written: list[str] = []

    def sinked(args: pl.io.partition.SinkedPathsCallbackArgs) -> None:
        written.extend(os.path.relpath(p.path, staging.path) for p in args.paths)

    frame.with_columns(years).lazy().sink_parquet(
        pl.PartitionBy(str(root), key=KEY, include_key=False, approximate_bytes_per_file=None),
        compression="zstd",
        statistics=True,
        row_group_size=parquet.ROW_GROUP_ROWS,
        metadata=meta,
        maintain_order=True,
        sync_on_close="all",
        mkdir=True,
        sinked_paths_callback=sinked,
    )
    files = sorted(written, key=_year_order)
    staging.adopt(files)
    return files


def _year_order(path: str) -> tuple[int, str]:
    """Sort parts by year as a number (`=988` before `=2024`), then by name."""
    folder = Path(path).parent.name
    value = folder.removeprefix(f"{KEY}=")
    return (int(value) if value.lstrip("-").isdigit() else 0, path)


def csv_parts(name: str, frame: pl.DataFrame, years: pl.Series) -> list[tuple[str, pl.DataFrame]]:
    """The table split as the Parquet dataset is: (file name, rows), by year."""
    if frame.is_empty():
        return [(part_name(name, None, ".csv"), frame)]
    groups = frame.with_columns(years).partition_by(KEY, as_dict=True, maintain_order=True)
    return [
        (part_name(name, int(year), ".csv"), rows.drop(KEY))
        for (year,), rows in sorted(groups.items(), key=lambda item: int(item[0][0]))
    ]


def multipart_digest(parts: Iterable[bytes]) -> tuple[int, str]:
    """Size and SHA-256 of a multipart CSV resource as Frictionless reads it: the parts
    one after the other, each header after the first one left out."""
    digest = csv_writer.digest_parts([data] for data in parts)
    return digest.size, digest.hexdigest()
