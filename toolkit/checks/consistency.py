"""Consistency family: facts that contradict themselves or their source, on the run's
engine; only the failure cases are collected."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC, PTR
from toolkit.model.dates import first_day, last_day
from toolkit.model.tables import Column, Table


def _split(found: pl.DataFrame, part: int) -> pl.DataFrame:
    """The cases of one part (`_t`) of a query that unions several."""
    return found.filter(pl.col("_t") == part).drop("_t")


def _part(i: int) -> nw.Expr:
    return nw.lit(i, nw.Int64()).alias("_t")


def check_supplier_recipient(ctx: CheckContext) -> list[Failures]:
    bad = ctx.lazy("supplies").filter(nw.col("supplier") == nw.col("recipient"))
    return failures(
        "C501",
        ctx.collect(
            bad.select(
                DOC,
                nw.concat_str([nw.col(PTR), nw.lit("/recipient")]).alias("pointer"),
                nw.col("supplier").alias("actor"),
            )
        ),
    )


def check_quotes(ctx: CheckContext) -> list[Failures]:
    """C502 (a quote without its words) and C507 (a statement nobody made), in one query."""
    statements = ctx.lazy("statements")
    quotes = statements.filter(
        nw.col("mode").is_in(["direct_quote", "partial_quote"]) & nw.col("text").is_null()
    ).select(DOC, nw.col(PTR).alias("pointer"), "mode", _part(0))
    speakers = nw.col("speakers")
    anonymous = statements.filter(
        (speakers.is_null() | (speakers.list.len() == 0))
        & nw.col("speaker_role").is_null()
        & nw.col("speaker_group").is_null()
    ).select(DOC, nw.col(PTR).alias("pointer"), "mode", _part(1))
    found = ctx.collect(nw.concat([quotes, anonymous], how="vertical"))
    out = failures(
        "C502",
        _split(found, 0).with_columns(
            pl.col("mode").str.replace("_", " "),
            pl.lit("copy the quoted words verbatim into 'text', or use mode: paraphrase").alias(
                "hint"
            ),
        ),
    )
    out += failures(
        "C507",
        _split(found, 1).select(
            "_doc",
            "pointer",
            pl.lit(
                "when the source names no speaker, give 'speaker_role' or 'speaker_group' as"
                " reported"
            ).alias("hint"),
        ),
    )
    return out


def fact_date_columns(ctx: CheckContext) -> list[tuple[Table, Column]]:
    """Every date column of the fact tables and their parts (a source's own dates aside)."""
    return [
        (table, col)
        for table in ctx.model.record_tables
        if table.kind in ("fact", "part")
        for col in table.columns
        if col.kind == "date"
    ]


_DATE_SHAPE = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"


def _maybe_after(day: nw.Expr, published: nw.Expr) -> nw.Expr:
    """A superset of `first_day(day) > last_day(published)`, in string operations every
    engine does alike (probed): two date prefixes ('2024', '2024-06', '2024-06-20') are
    calendar intervals that nest or are disjoint, so one lies wholly after the other
    exactly when its first `n` characters sort after the other's, `n` the shorter
    length. Values of another shape are kept for the exact test on the driver."""
    n_day, n_pub = day.str.len_chars(), published.str.len_chars()
    shaped = (
        n_day.is_in([4, 7, 10])
        & n_pub.is_in([4, 7, 10])
        & day.str.contains(_DATE_SHAPE)
        & published.str.contains(_DATE_SHAPE)
    )
    year = (n_day == 4) | (n_pub == 4)
    month = ~year & ((n_day == 7) | (n_pub == 7))
    after = (
        (year & (day.str.slice(0, 4) > published.str.slice(0, 4)))
        | (month & (day.str.slice(0, 7) > published.str.slice(0, 7)))
        | (~year & ~month & (day > published))
    )
    return ~shaped | after


def check_dates_before_publication(ctx: CheckContext) -> list[Failures]:
    """C503: no fact is dated after its source was published (a report cannot tell
    what happened after it), for every date column of every fact and part table.

    One engine query finds the candidates (`_maybe_after`); the exact calendar test
    (which also drops dates that are no calendar day) runs on those few on the driver."""
    columns = fact_date_columns(ctx)
    if not columns:
        return []
    published = (
        ctx.lazy("sources")
        .filter(~nw.col("published_on").is_null())
        .select(DOC, nw.col("published_on").alias("published"))
    )
    dates = nw.concat(
        [
            ctx.lazy(table.name)
            .filter(~nw.col(col.name).is_null())
            .select(
                DOC,
                PTR,
                nw.col(col.name).alias("value"),
                nw.lit("/" + "/".join(col.path)).alias("_path"),
                _part(i),
            )
            for i, (table, col) in enumerate(columns)
        ],
        how="vertical",
    )
    candidates = (
        dates.join(published, on=DOC)
        .filter(_maybe_after(nw.col("value"), nw.col("published")))
        .select(
            DOC,
            nw.concat_str([nw.col(PTR), nw.col("_path")]).alias("pointer"),
            "value",
            "published",
            "_t",
        )
    )
    late = ctx.collect(candidates).filter(
        first_day(pl.col("value")) > last_day(pl.col("published"))
    )
    out: list[Failures] = []
    for i, (_, col) in enumerate(columns):
        out += failures(
            "C503",
            _split(late, i).select(
                "_doc",
                "pointer",
                pl.lit(col.name).alias("field"),
                "value",
                "published",
                pl.lit("a date the source does not give is left out, never guessed").alias("hint"),
            ),
        )
    return out


def _parent(ptr: nw.Expr) -> nw.Expr:
    """Pointer of the record holding a list entry: '/agreements/0/parties/2' → its fact
    (the same on every engine: probed)."""
    return ptr.str.replace_all(r"/[^/]+/[0-9]+$", "")


def check_signatories(ctx: CheckContext) -> list[Failures]:
    """C504: a signatory is a party itself or signs on behalf of one (of its agreement)."""
    parties = ctx.lazy("agreement_parties").with_columns(_parent(nw.col(PTR)).alias("_agr"))
    bound = parties.filter((nw.col("role") == "party") & ~nw.col("actor").is_null()).select(
        DOC, "_agr", nw.col("actor").alias("_party")
    )
    bad = (
        parties.filter(nw.col("role") == "signatory")
        .join(bound, left_on=[DOC, "_agr", "actor"], right_on=[DOC, "_agr", "_party"], how="anti")
        .join(
            bound,
            left_on=[DOC, "_agr", "on_behalf_of"],
            right_on=[DOC, "_agr", "_party"],
            how="anti",
        )
    )
    found = ctx.collect(bad.select(DOC, nw.col(PTR).alias("pointer"), "actor"))
    return failures(
        "C504",
        found.with_columns(
            pl.lit("list the state it signs for as a party and set 'on_behalf_of' to it").alias(
                "hint"
            )
        ),
    )


_LISTS = (
    ("agreement_parties", ["actor", "role"], "parties"),
    ("alignment_members", ["actor"], "members"),
    ("supply_items", ["category"], "items"),
)


def check_listed_twice(ctx: CheckContext) -> list[Failures]:
    """C505: an entry repeats an earlier one of the same list (lowest position first)."""
    parts: list[nw.LazyFrame[Any]] = []
    for i, (table, keys, field) in enumerate(_LISTS):
        frame = (
            ctx.lazy(table)
            .with_columns(_parent(nw.col(PTR)).alias("_rec"))
            .filter(*(~nw.col(k).is_null() for k in keys))
        )
        first = nw.col("position").min().over(DOC, "_rec", *keys)
        parts.append(
            frame.with_columns(first.alias("_first"))
            .filter(nw.col("position") != nw.col("_first"))
            .select(
                DOC,
                nw.col(PTR).alias("pointer"),
                nw.col(keys[0]).alias("actor"),
                nw.lit(field).alias("field"),
                _part(i),
            )
        )
    found = ctx.collect(nw.concat(parts, how="vertical"))
    out: list[Failures] = []
    for i in range(len(_LISTS)):
        out += failures("C505", _split(found, i))
    return out


def check_sizes(ctx: CheckContext) -> list[Failures]:
    """C506: an alignment's exact size is not below the members it lists."""
    members = ctx.lazy("alignment_members").select(DOC, _parent(nw.col(PTR)).alias(PTR))
    counts = members.group_by(DOC, PTR).agg(nw.len().alias("members"))
    small = (
        ctx.lazy("alignments")
        .join(counts, on=[DOC, PTR])
        .filter((nw.col("size_value") < nw.col("members")) & ~nw.col("size_approximate"))
    )
    return failures(
        "C506",
        ctx.collect(
            small.select(
                DOC,
                nw.concat_str([nw.col(PTR), nw.lit("/size/value")]).alias("pointer"),
                nw.col("size_value").alias("size"),
                "members",
            )
        ),
    )


CHECKS = (
    check_supplier_recipient,
    check_quotes,
    check_dates_before_publication,
    check_signatories,
    check_listed_twice,
    check_sizes,
)
