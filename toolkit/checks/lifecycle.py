"""Agreement lifecycle: the steps of an agreement in their order, its relations to older
agreements, and a status its own steps do not contradict (C508–C510, C513).

Dates are prefixes of different precision: a step is "before" another only when it is
before for certain (its last possible day precedes the other's first), so "2024" and
"2024-06-19" never contradict each other. The comparisons are string operations on the
run's engine (`toolkit.model.dates`); only the failure cases are collected.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, lowest
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR
from toolkit.model.dates import ends_before, is_calendar_date, starts_key

# Steps that follow a party's signature (accession takes the place of signature).
AFTER_SIGNATURE = (
    "chamber_approval",
    "ratification_law_signed",
    "ratification",
    "acceptance",
    "approval",
    "exchange_of_instruments",
    "deposit_of_instrument",
)
INSTRUMENTS = ("exchange_of_instruments", "deposit_of_instrument")
# A status the source states, and the recorded actions that say the agreement is past it.
CONTRADICTIONS: dict[str, tuple[str, ...]] = {
    "announced": ("signature", "entry_into_force"),
    "signed": ("ratification", "acceptance", "approval", "accession", "entry_into_force"),
    "ratified": ("entry_into_force",),
    "in_force": ("termination",),
}


def _dated_steps(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """Steps of a known agreement with a calendar date, and `_first`, its first day."""
    date = nw.col("date")
    return (
        ctx.lazy("agreement_steps")
        .filter(~nw.col("agreement_id").is_null() & is_calendar_date(date))
        .with_columns(starts_key(date).alias("_first"))
    )


def _earliest(steps: nw.LazyFrame[Any], by: list[str], tag: str) -> nw.LazyFrame[Any]:
    """The earliest step per group (by first day, then table order): its date and action."""
    first = lowest(steps, by, "_first", ROW)
    return first.select(
        *by, nw.col("date").alias(f"_{tag}_date"), nw.col("action").alias(f"_{tag}_action")
    )


# Which earlier steps each later step is compared with: (later action, earlier set, tag).
_ORDER = [
    ("entry_into_force", "signature", "C508"),
    *((action, "signature", "signed") for action in AFTER_SIGNATURE),
    ("entry_into_force", "instruments", "instruments"),
]


def _out_of_order(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """Steps dated before the earliest step of their earlier set (a signature; the
    exchange or deposit of instruments) for the same party, or (where the party has
    none, or the step has no party) for the agreement as a whole; tagged by `_ORDER`."""
    steps = _dated_steps(ctx)
    sets = steps.filter(nw.col("action").is_in(["signature", *INSTRUMENTS])).with_columns(
        nw.when(nw.col("action") == "signature")
        .then(nw.lit("signature"))
        .otherwise(nw.lit("instruments"))
        .alias("_set")
    )
    own = _earliest(sets.filter(~nw.col("party").is_null()), ["_set", "agreement_id", "party"], "p")
    whole = _earliest(sets, ["_set", "agreement_id"], "a")
    order = ctx.small(pl.DataFrame(_ORDER, schema=["action", "_set", "_tag"], orient="row"))
    return (
        steps.filter(nw.col("action").is_in([action for action, _, _ in _ORDER]))
        .join(order, on="action", how="inner")
        .join(own, on=["_set", "agreement_id", "party"], how="left")
        .join(whole, on=["_set", "agreement_id"], how="left")
        .with_columns(
            nw.coalesce("_p_date", "_a_date").alias("_ref_date"),
            nw.coalesce("_p_action", "_a_action").alias("_ref_action"),
        )
        .filter(ends_before(nw.col("date"), nw.col("_ref_date")))
        .select(
            "_tag",
            nw.col(DOC).alias("_doc"),
            nw.concat_str([nw.col(PTR), nw.lit("/date")]).alias("pointer"),
            "action",
            nw.col("date").alias("value"),
            "_ref_date",
            "_ref_action",
        )
    )


def _spaced(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all("_", " ")


def check_step_order(ctx: CheckContext) -> list[Failures]:
    """C508 entry into force before signature; C509 a party's steps before its signature,
    entry into force before the instruments are exchanged or deposited (one query)."""
    found = ctx.collect(_out_of_order(ctx))
    out = failures(
        "C508",
        found.filter(pl.col("_tag") == "C508").select(
            "_doc",
            "pointer",
            "value",
            pl.col("_ref_date").alias("signed"),
            hint=pl.lit("check both dates against the source; leave out a date it does not give"),
        ),
    )
    for tag in ("signed", "instruments"):
        out += failures(
            "C509",
            found.filter(pl.col("_tag") == tag).select(
                "_doc",
                "pointer",
                _spaced("action"),
                "value",
                _spaced("_ref_action").alias("earlier"),
                pl.col("_ref_date").alias("earlier_date"),
                hint=pl.lit("a party's steps follow its signature; check the dates and parties"),
            ),
        )
    return out


def check_supersedes(ctx: CheckContext) -> list[Failures]:
    """C510: an agreement that supersedes or terminates another is not older than it
    (by earliest signature; the other agreement may be in any bundle)."""
    signatures = _dated_steps(ctx).filter(nw.col("action") == "signature")
    signed = _earliest(signatures, ["agreement_id"], "s")
    mine = signed.select("agreement_id", nw.col("_s_date").alias("_mine_date"))
    theirs = signed.select(
        nw.col("agreement_id").alias("agreement"), nw.col("_s_date").alias("_theirs_date")
    )
    bad = (
        ctx.lazy("agreement_relations")
        .filter(nw.col("relation").is_in(["supersedes", "terminates"]))
        .join(mine, on="agreement_id", how="inner")
        .join(theirs, on="agreement", how="inner")
        .filter(ends_before(nw.col("_mine_date"), nw.col("_theirs_date")))
    )
    found = ctx.collect(
        bad.select(
            nw.col(DOC).alias("_doc"),
            nw.concat_str([nw.col(PTR), nw.lit("/agreement")]).alias("pointer"),
            nw.col("_mine_date").alias("value"),
            "relation",
            nw.col("agreement").alias("ref"),
            nw.col("_theirs_date").alias("other_date"),
        )
    )
    hint = "the newer agreement supersedes the older one: check the direction"
    return failures("C510", found.with_columns(hint=pl.lit(hint)))


def check_status(ctx: CheckContext) -> list[Failures]:
    """C513: the status the source states is not one the agreement's recorded actions
    have passed (one report per agreement, naming the first such action)."""
    rules = ctx.small(
        pl.DataFrame(
            [(status, action) for status, actions in CONTRADICTIONS.items() for action in actions],
            schema={"status": pl.String, "action": pl.String},
            orient="row",
        )
    )
    steps = ctx.lazy("agreement_steps").select(
        nw.col("agreement_id").alias("id"), "position", "action", nw.col(ROW).alias("_step")
    )
    agreements = ctx.lazy("agreements").filter(nw.col("status").is_in(list(CONTRADICTIONS)))
    passed = (
        agreements.select(DOC, PTR, "id", "status")
        .join(steps, on="id", how="inner")
        .join(rules, on=["status", "action"], how="semi")
    )
    bad = lowest(passed, [DOC, PTR], "position", "_step")
    found = ctx.collect(
        bad.select(
            nw.col(DOC).alias("_doc"),
            nw.concat_str([nw.col(PTR), nw.lit("/status")]).alias("pointer"),
            "status",
            "action",
        )
    )
    return failures(
        "C513",
        found.with_columns(
            _spaced("action"),
            hint=pl.lit("give the status the source states at publication, or leave it out"),
        ),
    )


CHECKS = (check_step_order, check_supersedes, check_status)
