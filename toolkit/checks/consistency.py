"""Consistency family: facts that contradict themselves or their source, over whole tables."""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC, PTR
from toolkit.model.dates import first_day, last_day

_PAST_STATUSES = {
    # a date field reports the past when the fact's status says it has happened
    ("agreements", "signed_on"): ("signed", "ratified", "in_force", "suspended", "terminated"),
    ("agreements", "in_force_on"): ("in_force", "suspended", "terminated"),
}
_ALWAYS_PAST = {("statements", "said_on")}


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
    anonymous = statements.filter(pl.col("speaker").is_null() & pl.col("speaker_role").is_null())
    out += failures(
        "C507",
        anonymous.select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
            pl.lit(
                "when the source does not name the speaker, give 'speaker_role' as reported"
            ).alias("hint"),
        ),
    )
    return out


def check_dates_before_publication(ctx: CheckContext) -> list[Failures]:
    published = (
        ctx.table("sources")
        .select(pl.col(DOC), pl.col("published_on").alias("_published"))
        .filter(pl.col("_published").is_not_null())
    )
    out: list[Failures] = []
    fields = [*_ALWAYS_PAST, *_PAST_STATUSES]
    for table, field in fields:
        frame = ctx.table(table).join(published, on=DOC)
        if (table, field) in _PAST_STATUSES:
            frame = frame.filter(pl.col("status").is_in(_PAST_STATUSES[(table, field)]))
        late = frame.filter(first_day(pl.col(field)) > last_day(pl.col("_published")))
        out += failures(
            "C503",
            late.select(
                pl.col(DOC).alias("_doc"),
                (pl.col(PTR) + f"/{field}").alias("pointer"),
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
