"""Consistency family: facts that contradict themselves or their source, over whole tables."""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC, PTR
from toolkit.model.dates import first_day, last_day
from toolkit.model.tables import Column, Table


def check_supplier_recipient(ctx: CheckContext) -> list[Failures]:
    bad = ctx.table("supplies").filter(pl.col("supplier") == pl.col("recipient"))
    return failures(
        "C501",
        bad.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/recipient").alias("pointer"),
            pl.col("supplier").alias("actor"),
        ),
    )


def check_quotes(ctx: CheckContext) -> list[Failures]:
    statements = ctx.table("statements")
    quotes = statements.filter(
        pl.col("mode").is_in(["direct_quote", "partial_quote"]) & pl.col("text").is_null()
    )
    out = failures(
        "C502",
        quotes.select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
            pl.col("mode").str.replace("_", " ").alias("mode"),
            pl.lit("copy the quoted words verbatim into 'text', or use mode: paraphrase").alias(
                "hint"
            ),
        ),
    )
    anonymous = statements.filter(
        (pl.col("speakers").list.len().fill_null(0) == 0)
        & pl.col("speaker_role").is_null()
        & pl.col("speaker_group").is_null()
    )
    out += failures(
        "C507",
        anonymous.select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
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


def check_dates_before_publication(ctx: CheckContext) -> list[Failures]:
    """C503: no fact is dated after its source was published (a report cannot tell
    what happened after it), for every date column of every fact and part table."""
    published = (
        ctx.table("sources")
        .select(pl.col(DOC), pl.col("published_on").alias("_published"))
        .filter(pl.col("_published").is_not_null())
    )
    out: list[Failures] = []
    for table, col in fact_date_columns(ctx):
        field = col.name
        frame = ctx.table(table.name).filter(pl.col(field).is_not_null()).join(published, on=DOC)
        late = frame.filter(first_day(pl.col(field)) > last_day(pl.col("_published")))
        out += failures(
            "C503",
            late.select(
                pl.col(DOC).alias("_doc"),
                (pl.col(PTR) + "/" + "/".join(col.path)).alias("pointer"),
                pl.lit(field).alias("field"),
                pl.col(field).alias("value"),
                pl.col("_published").alias("published"),
                pl.lit("a date the source does not give is left out, never guessed").alias("hint"),
            ),
        )
    return out


def _parent(ptr: pl.Expr) -> pl.Expr:
    """Pointer of the record holding a list entry: '/agreements/0/parties/2' → its fact."""
    return ptr.str.replace(r"/[^/]+/[0-9]+$", "")


def check_signatories(ctx: CheckContext) -> list[Failures]:
    parties = ctx.table("agreement_parties").with_columns(_parent(pl.col(PTR)).alias("_agr"))
    bound = parties.filter(pl.col("role") == "party").select(
        DOC, "_agr", pl.col("actor").alias("_party")
    )
    signatories = parties.filter(pl.col("role") == "signatory")
    ok_self = signatories.join(
        bound, left_on=[DOC, "_agr", "actor"], right_on=[DOC, "_agr", "_party"], how="semi"
    )
    ok_behalf = signatories.join(
        bound, left_on=[DOC, "_agr", "on_behalf_of"], right_on=[DOC, "_agr", "_party"], how="semi"
    )
    ok = pl.concat([ok_self, ok_behalf]).select(DOC, PTR).unique()
    bad = signatories.join(ok, on=[DOC, PTR], how="anti").sort(DOC, PTR)
    return failures(
        "C504",
        bad.select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
            "actor",
            pl.lit("list the state it signs for as a party and set 'on_behalf_of' to it").alias(
                "hint"
            ),
        ),
    )


def check_listed_twice(ctx: CheckContext) -> list[Failures]:
    out: list[Failures] = []
    for table, keys, field in (
        ("agreement_parties", ["actor", "role"], "parties"),
        ("alignment_members", ["actor"], "members"),
        ("supply_items", ["category"], "items"),
    ):
        frame = ctx.table(table).with_columns(_parent(pl.col(PTR)).alias("_rec"))
        frame = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        twice = frame.filter(
            pl.col("position") != pl.col("position").min().over(DOC, "_rec", *keys)
        )
        out += failures(
            "C505",
            twice.select(
                pl.col(DOC).alias("_doc"),
                pl.col(PTR).alias("pointer"),
                pl.col(keys[0]).alias("actor"),
                pl.lit(field).alias("field"),
            ),
        )
    return out


def check_sizes(ctx: CheckContext) -> list[Failures]:
    members = ctx.table("alignment_members").with_columns(_parent(pl.col(PTR)).alias(PTR))
    counts = members.group_by(DOC, PTR).agg(pl.len().alias("members"))
    small = (
        ctx.table("alignments")
        .join(counts, on=[DOC, PTR])
        .filter((pl.col("size_value") < pl.col("members")) & pl.col("size_approximate").not_())
    )
    return failures(
        "C506",
        small.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/size/value").alias("pointer"),
            pl.col("size_value").alias("size"),
            "members",
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
