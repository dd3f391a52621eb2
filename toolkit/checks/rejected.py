"""One mistake, one report: values the schema rejected cause no follow-on problems.

A list where one speaker is expected is a schema error (S103). Flattened, the value is
missing, so every check that asks "is there a speaker?" would report it again: the
statement is unattributed (C507), a supply it asserts is attributed to no one (G608).
This module is the one place that prevents it, for every check:

1. `mark` puts an opaque stand-in where a rejected text value (or list of texts) was
   dropped, so checks see that the contributor gave a value there;
2. `without_follow_ons` drops the failure cases located at a rejected value or inside
   it: whatever a check finds wrong with the stand-in (or with a value of the right type
   whose form the schema refused) is the schema error again. Safety and identity
   problems of a value of the right type stay: they say something the schema did not.
"""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import Failures
from toolkit.codes import CODES
from toolkit.frames.base import DOC, PTR
from toolkit.model.model import Model

# Schema errors about a value itself: its type, its allowed values, its form, its range
# (a missing field or a failed condition is about the object around it, not a value).
VALUE = frozenset({"S103", "S104", "S105", "S106"})
REJECTED_SCHEMA = {"_doc": pl.UInt32, "pointer": pl.String}
_TEXT_KINDS = ("string", "enum", "vocabulary", "date")
_LIST_KINDS = ("string_list", "vocabulary_list")
_OWN = ("safety", "identity")
STAND_IN = "\x00rejected:"  # never a valid value: ids, codes and texts exclude U+0000


def rejected_frame(found: list[tuple[int, str]]) -> pl.DataFrame:
    """(document index, JSON pointer) of every schema error, as a frame."""
    docs, pointers = zip(*found, strict=True) if found else ((), ())
    return pl.DataFrame({"_doc": list(docs), "pointer": list(pointers)}, schema=REJECTED_SCHEMA)


def mark(model: Model, tables: dict[str, pl.DataFrame], rejected: pl.DataFrame) -> pl.DataFrame:
    """Fill each text cell that a schema error points at, and that flattening left
    empty, with a stand-in unique to the cell (so no two compare equal); returns the
    (_doc, pointer) of the cells filled."""
    filled: list[pl.DataFrame] = [pl.DataFrame(schema=REJECTED_SCHEMA)]
    if rejected.is_empty():
        return filled[0]
    docs = rejected["_doc"].unique()
    for table in [*model.record_tables, model.tables["actors"]]:
        frame = tables.get(table.name)
        if frame is None or frame.is_empty():
            continue
        rows = frame.with_row_index("_row").filter(pl.col(DOC).is_in(docs.implode()))
        if rows.is_empty():
            continue
        updates = []
        for col in table.columns:
            if not col.path or col.kind not in (*_TEXT_KINDS, *_LIST_KINDS):
                continue
            cells = rows.filter(pl.col(col.name).is_null()).select(
                "_row",
                pl.col(DOC).cast(pl.UInt32).alias("_doc"),
                (pl.col(PTR) + "/" + "/".join(col.path)).alias("pointer"),
            )
            hit = cells.join(rejected, on=["_doc", "pointer"], how="semi")
            if not hit.is_empty():
                updates.append((col, hit))
        for col, hit in updates:
            filled.append(hit.select("_doc", "pointer"))
            stand_in = pl.lit(STAND_IN) + pl.col("pointer")
            value = stand_in if col.kind in _TEXT_KINDS else pl.concat_list(stand_in)
            patch = hit.select("_row", value.alias("_value"))
            frame = (
                frame.with_row_index("_row")
                .join(patch, on="_row", how="left", maintain_order="left")
                .with_columns(pl.coalesce(col.name, "_value").alias(col.name))
                .drop("_row", "_value")
            )
        tables[table.name] = frame
    return pl.concat(filled)


def without_follow_ons(
    fails: Failures, rejected: pl.DataFrame, stand_ins: pl.DataFrame
) -> Failures:
    """The failure cases that are not at or inside a value the schema rejected.

    Safety and identity problems of a value of the right type are kept: an invisible
    character, an id that imitates another are concerns of their own, which a report
    never hides behind a form error. Only those about a stand-in are dropped.
    """
    frame = fails.frame
    if CODES[fails.code].family in _OWN:
        rejected = stand_ins
    if rejected.is_empty() or frame.is_empty():
        return fails
    at = (
        frame.with_row_index("_case")
        .select("_case", pl.col("_doc").cast(pl.UInt32), pl.col("pointer").alias("_at"))
        .join(rejected, on="_doc")
        .filter(
            (pl.col("_at") == pl.col("pointer"))
            | pl.col("_at").str.starts_with(pl.col("pointer") + "/")
        )
    )
    if at.is_empty():
        return fails
    keep = ~pl.int_range(pl.len(), dtype=pl.UInt32).is_in(at["_case"].implode())
    return Failures(fails.code, frame.filter(keep))
