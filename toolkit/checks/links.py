"""Links between facts and the words of dates: `same_as` that loops or stays inside one
source (C511, C512), and a weekday in a date's words that is not the date's (C514)."""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC, PTR
from toolkit.model.dates import first_day

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = r"(?i)\b(" + "|".join(WEEKDAYS) + r")\b"


def _same_as_links(ctx: CheckContext) -> pl.DataFrame:
    """Every `same_as` of every fact table: `_doc`, `_ptr`, `id`, `source_id`, `same_as`."""
    parts = [
        ctx.table(t.name)
        .filter(pl.col("same_as").is_not_null() & pl.col("id").is_not_null())
        .select(DOC, PTR, "id", "source_id", "same_as")
        for t in ctx.model.fact_tables
        if "same_as" in ctx.table(t.name).columns
    ]
    return pl.concat(parts) if parts else pl.DataFrame()


def check_same_as(ctx: CheckContext) -> list[Failures]:
    """C512 `same_as` to a fact of the same source (it cannot report one fact twice);
    C511 a chain of `same_as` that returns to where it started.

    Each fact has at most one `same_as`, so the links form a functional graph: after as
    many steps as there are links, every walk is on its cycle, and the facts reached are
    exactly those on a cycle. The steps are taken by pointer doubling: log2(n) joins."""
    links = _same_as_links(ctx)
    if links.is_empty():
        return []
    own = links.filter(
        pl.col("source_id").is_not_null()
        & pl.col("same_as").str.starts_with(pl.col("source_id") + "/")
        & (pl.col("same_as") != pl.col("id"))
    )
    out = failures(
        "C512",
        own.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/same_as").alias("pointer"),
            pl.col("same_as").alias("ref"),
            hint=pl.lit("same_as links one fact reported by different sources; merge the two"),
        ),
    )
    step = (
        links.filter(pl.col("same_as") != pl.col("id"))
        .select(pl.col("id").alias("_from"), pl.col("same_as").alias("_to"))
        .unique("_from", keep="first", maintain_order=True)
    )
    jump = step
    reach = 1
    while reach < step.height:
        jump = jump.join(
            jump.rename({"_from": "_to", "_to": "_next"}), on="_to", how="inner"
        ).select("_from", pl.col("_next").alias("_to"))
        reach *= 2
    on_cycle = jump.select(pl.col("_to").alias("id")).unique()
    looped = links.join(on_cycle, on="id", how="semi").filter(pl.col("same_as") != pl.col("id"))
    out += failures(
        "C511",
        looped.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/same_as").alias("pointer"),
            pl.col("same_as").alias("ref"),
            hint=pl.lit("point every report of the fact at one of them, not at each other"),
        ),
    )
    return out


def check_weekdays(ctx: CheckContext) -> list[Failures]:
    """C514: a weekday named in a date's words ('on Monday') is the weekday of the date
    the contributor resolved it to (day-precision dates only)."""
    out: list[Failures] = []
    for table in ctx.model.record_tables:
        names = set(table.names)
        for col in table.columns:
            words = f"{col.name}_words"
            if col.kind != "date" or words not in names:
                continue
            path = "/".join(col.path)
            frame = (
                ctx.table(table.name)
                .filter(pl.col(words).is_not_null() & (pl.col(col.name).str.len_bytes() == 10))
                .with_columns(
                    pl.col(words).str.extract(_WEEKDAY, 1).str.to_lowercase().alias("_named"),
                    first_day(pl.col(col.name)).dt.weekday().alias("_day"),
                )
                .filter(pl.col("_named").is_not_null() & pl.col("_day").is_not_null())
                .with_columns(
                    pl.col("_day")
                    .replace_strict(list(range(1, 8)), list(WEEKDAYS), return_dtype=pl.String)
                    .alias("_weekday")
                )
                .filter(pl.col("_named") != pl.col("_weekday"))
            )
            out += failures(
                "C514",
                frame.select(
                    pl.col(DOC).alias("_doc"),
                    (pl.col(PTR) + f"/{path}").alias("pointer"),
                    pl.col(words).alias("words"),
                    pl.col("_named").str.to_titlecase().alias("named"),
                    pl.col(col.name).alias("value"),
                    pl.col("_weekday").str.to_titlecase().alias("weekday"),
                    hint=pl.lit("resolve the weekday from the report's date, and check the week"),
                ),
            )
    return out


CHECKS = (check_same_as, check_weekdays)
