"""Links between facts and the words of dates: `same_as` that loops or stays inside one
source (C511, C512), and a weekday in a date's words that is not the date's (C514).

The joins run on the run's engine; only failure cases (and, while cycles are looked
for, one count per round) are collected."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, lowest
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR, read_columns
from toolkit.model.dates import first_day, is_calendar_date, iso_weekday

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = r"(?i)\b(" + "|".join(WEEKDAYS) + r")\b"
# Rounds of pointer doubling after which the jumps are handed to the engine afresh: a
# plan that joins the links with themselves k times holds 2**k copies of them.
_RESTAGE = 4


def _given(ctx: CheckContext, table: str, column: str) -> bool:
    """Whether any row of the staged table has the column: columns nobody filled in stay
    out of the engine's plans (a null count is known without a scan; of staged parts, only
    the column is read)."""
    frame = read_columns(ctx.frames.tables, {table: (column,)}).get(table)
    if frame is None or column not in frame.columns:
        return False
    return frame[column].null_count() < frame.height


def same_as_links(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    """Every `same_as` of every fact table: `_doc`, `_ptr`, `_row`, `_table` (its order
    among the fact tables), `id`, `source_id`, `same_as`."""
    parts = [
        ctx.lazy(t.name)
        .filter(~nw.col("same_as").is_null() & ~nw.col("id").is_null())
        .select(DOC, PTR, ROW, nw.lit(i, nw.Int64()).alias("_table"), "id", "source_id", "same_as")
        for i, t in enumerate(ctx.model.fact_tables)
        if _given(ctx, t.name, "same_as")
    ]
    return nw.concat(parts) if parts else None


def _cases(links: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    return links.select(
        nw.col(DOC).alias("_doc"),
        nw.concat_str([nw.col(PTR), nw.lit("/same_as")]).alias("pointer"),
        nw.col("same_as").alias("ref"),
    )


def _sizes(
    ctx: CheckContext, cases: nw.LazyFrame[Any] | None, *jumps: nw.LazyFrame[Any]
) -> tuple[pl.DataFrame, list[int]]:
    """Failure cases (`_cases`) and how many facts each set of jumps reaches, in one
    query: a Spark job costs more than these few rows (DuckDB counts none as null)."""
    none = (nw.lit(None, nw.Int64()), nw.lit(None, nw.String()), nw.lit(None, nw.String()))
    parts = [
        jump.select(
            nw.lit(i, nw.Int64()).alias("_i"),
            nw.col("_to").n_unique().cast(nw.Int64()).alias("n"),
            *(
                expr.alias(name)
                for expr, name in zip(none, ("_doc", "pointer", "ref"), strict=True)
            ),
        )
        for i, jump in enumerate(jumps)
    ]
    if cases is not None:
        parts.append(
            cases.select(
                nw.lit(-1, nw.Int64()).alias("_i"),
                nw.lit(None, nw.Int64()).alias("n"),
                "_doc",
                "pointer",
                "ref",
            )
        )
    found = ctx.collect(nw.concat(parts))
    sizes = [int(n or 0) for n in found.filter(pl.col("_i") >= 0).sort("_i")["n"]]
    return found.filter(pl.col("_i") < 0).drop("_i", "n"), sizes


def doubled(jump: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Two jumps in one: where `_from` arrives after twice as many steps."""
    onward = jump.select(nw.col("_from").alias("_to"), nw.col("_to").alias("_next"))
    return jump.join(onward, on="_to", how="inner").select("_from", nw.col("_next").alias("_to"))


def _on_cycles(
    ctx: CheckContext, links: nw.LazyFrame[Any], cases: nw.LazyFrame[Any]
) -> tuple[pl.DataFrame, nw.LazyFrame[Any] | None]:
    """The failure `cases` (collected with the first round) and the facts on a `same_as`
    cycle, or None when there are none.

    Each fact has at most one `same_as` (the first of an id, in table order), so the links
    form a functional graph f (less the links into facts that link nowhere: those are on
    no cycle). The facts reached after m steps, image(f^m), shrink as m grows, and stop
    shrinking exactly when they are the facts on cycles: if doubling m reaches as many
    facts, f^m maps them onto themselves, so each lies on a cycle. Pointer doubling
    (m = 1, 2, 4, …) gets there in log2 of the longest path into a cycle rounds, each
    collecting one count."""
    linking = links.filter(nw.col("same_as") != nw.col("id"))
    step = lowest(linking, ["id"], "_table", ROW)
    step = step.select(nw.col("id").alias("_from"), nw.col("same_as").alias("_to"))
    jump = step.join(linking.select(nw.col("id").alias("_to")), on="_to", how="semi")
    longer = doubled(jump)
    found, (size, after) = _sizes(ctx, cases, jump, longer)
    rounds = 1
    while after != size and after:
        jump, size, rounds = longer, after, rounds + 1
        if rounds % _RESTAGE == 0:
            jump = ctx.small(ctx.collect(jump))
        longer = doubled(jump)
        (after,) = _sizes(ctx, None, longer)[1]
    if not after:
        return found, None
    return found, longer.select(nw.col("_to").alias("id")).unique()


def check_same_as(ctx: CheckContext) -> list[Failures]:
    """C512 `same_as` to a fact of the same source (it cannot report one fact twice);
    C511 a chain of `same_as` that returns to where it started."""
    links = same_as_links(ctx)
    if links is None:
        return []
    own = links.filter(
        ~nw.col("source_id").is_null()
        & nw.col("same_as").str.starts_with(nw.concat_str([nw.col("source_id"), nw.lit("/")]))
        & (nw.col("same_as") != nw.col("id"))
    )
    found, on_cycle = _on_cycles(ctx, links, _cases(own))
    hint = "same_as links one fact reported by different sources; merge the two"
    out = failures("C512", found.with_columns(hint=pl.lit(hint)))
    if on_cycle is None:
        return out
    looped = links.join(on_cycle, on="id", how="semi").filter(nw.col("same_as") != nw.col("id"))
    hint = "point every report of the fact at one of them, not at each other"
    return out + failures("C511", ctx.collect(_cases(looped)).with_columns(hint=pl.lit(hint)))


def _weekday_candidates(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    """Day-precision dates whose words name a weekday other than the date's (anywhere in
    the words, in lower case: a superset of what the exact reading on the driver finds),
    from every date column with words, as `_doc`, `pointer`, `words`, `value`."""
    parts = [
        ctx.lazy(table.name)
        .filter(~nw.col(f"{col.name}_words").is_null())
        .select(
            DOC,
            nw.concat_str([nw.col(PTR), nw.lit("/" + "/".join(col.path))]).alias("pointer"),
            nw.col(f"{col.name}_words").alias("words"),
            nw.col(col.name).alias("value"),
        )
        for table in ctx.model.record_tables
        for col in table.columns
        if col.kind == "date" and _given(ctx, table.name, f"{col.name}_words")
    ]
    if not parts:
        return None
    date = nw.col("value")
    full = is_calendar_date(date) & (date.str.len_chars() == 10)
    # `ſ` is an `s` to the case-insensitive pattern the driver reads the words with
    lower = nw.col("words").str.to_lowercase().str.replace_all("ſ", "s", literal=True)
    others = ctx.small(
        pl.DataFrame(
            {
                "_day": list(range(1, 8)),
                "_others": ["|".join(w for w in WEEKDAYS if w != day) for day in WEEKDAYS],
            },
            schema={"_day": pl.Int64, "_others": pl.String},
        )
    )
    return (
        nw.concat(parts)
        .with_columns(nw.when(full).then(date).alias("_date"))
        .filter(~nw.col("_date").is_null())
        .with_columns(iso_weekday(nw.col("_date")).alias("_day"))
        .join(others, on="_day", how="inner")
        .filter(lower.str.contains(nw.col("_others")))
        .select(nw.col(DOC).alias("_doc"), "pointer", "words", "value")
    )


def check_weekdays(ctx: CheckContext) -> list[Failures]:
    """C514: a weekday named in a date's words ('on Monday') is the weekday of the date
    the contributor resolved it to (day-precision dates only). The engine narrows the
    dates to those naming another weekday; the first weekday named is read here."""
    candidates = _weekday_candidates(ctx)
    if candidates is None:
        return []
    frame = (
        ctx.collect(candidates)
        .with_columns(
            pl.col("words").str.extract(_WEEKDAY, 1).str.to_lowercase().alias("_named"),
            first_day(pl.col("value")).dt.weekday().alias("_day"),
        )
        .filter(pl.col("_named").is_not_null() & pl.col("_day").is_not_null())
        .with_columns(
            pl.col("_day")
            .replace_strict(list(range(1, 8)), list(WEEKDAYS), return_dtype=pl.String)
            .alias("_weekday")
        )
        .filter(pl.col("_named") != pl.col("_weekday"))
    )
    return failures(
        "C514",
        frame.select(
            "_doc",
            "pointer",
            "words",
            pl.col("_named").str.to_titlecase().alias("named"),
            "value",
            pl.col("_weekday").str.to_titlecase().alias("weekday"),
            hint=pl.lit("resolve the weekday from the report's date, and check the week"),
        ),
    )


CHECKS = (check_same_as, check_weekdays)
