"""Agreement lifecycle: the steps of an agreement in their order, its relations to older
agreements, and a status its own steps do not contradict (C508–C510, C513).

Dates are prefixes of different precision: a step is "before" another only when it is
before for certain (its last possible day precedes the other's first), so "2024" and
"2024-06-19" never contradict each other.
"""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.base import DOC, PTR
from toolkit.model.dates import first_day, last_day

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


def _dated_steps(ctx: CheckContext) -> pl.DataFrame:
    return (
        ctx.table("agreement_steps")
        .filter(pl.col("date").is_not_null() & pl.col("agreement_id").is_not_null())
        .with_columns(
            first_day(pl.col("date")).alias("_first"), last_day(pl.col("date")).alias("_last")
        )
        .filter(pl.col("_first").is_not_null())
    )


def _earliest(
    steps: pl.DataFrame, actions: tuple[str, ...], by: list[str], tag: str
) -> pl.DataFrame:
    """The earliest of `actions` per group: its first day, date and action code."""
    return (
        steps.filter(pl.col("action").is_in(actions))
        .sort("_first", maintain_order=True)
        .group_by(by, maintain_order=True)
        .agg(
            pl.col("_first").first().alias(f"_{tag}_first"),
            pl.col("date").first().alias(f"_{tag}_date"),
            pl.col("action").first().alias(f"_{tag}_action"),
        )
    )


def _before(steps: pl.DataFrame, which: tuple[str, ...], earlier: tuple[str, ...]) -> pl.DataFrame:
    """Steps of `which` dated before the earliest of `earlier` for the same party, or
    (where the party has none, or the step has no party) for the agreement as a whole."""
    own = _earliest(
        steps.filter(pl.col("party").is_not_null()), earlier, ["agreement_id", "party"], "p"
    )
    whole = _earliest(steps, earlier, ["agreement_id"], "a")
    found = (
        steps.filter(pl.col("action").is_in(which))
        .join(own, on=["agreement_id", "party"], how="left", maintain_order="left")
        .join(whole, on="agreement_id", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_p_first", "_a_first").alias("_ref_first"),
            pl.coalesce("_p_date", "_a_date").alias("_ref_date"),
            pl.coalesce("_p_action", "_a_action").alias("_ref_action"),
        )
    )
    return found.filter(pl.col("_last") < pl.col("_ref_first"))


def check_step_order(ctx: CheckContext) -> list[Failures]:
    """C508 entry into force before signature; C509 a party's steps before its signature,
    entry into force before the instruments are exchanged or deposited."""
    steps = _dated_steps(ctx)
    if steps.is_empty():
        return []
    early = _before(steps, ("entry_into_force",), ("signature",))
    out = failures(
        "C508",
        early.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/date").alias("pointer"),
            pl.col("date").alias("value"),
            pl.col("_ref_date").alias("signed"),
            hint=pl.lit("check both dates against the source; leave out a date it does not give"),
        ),
    )
    for which, earlier in ((AFTER_SIGNATURE, ("signature",)), (("entry_into_force",), INSTRUMENTS)):
        bad = _before(steps, which, earlier)
        out += failures(
            "C509",
            bad.select(
                pl.col(DOC).alias("_doc"),
                (pl.col(PTR) + "/date").alias("pointer"),
                pl.col("action").str.replace_all("_", " "),
                pl.col("date").alias("value"),
                pl.col("_ref_action").str.replace_all("_", " ").alias("earlier"),
                pl.col("_ref_date").alias("earlier_date"),
                hint=pl.lit("a party's steps follow its signature; check the dates and parties"),
            ),
        )
    return out


def check_supersedes(ctx: CheckContext) -> list[Failures]:
    """C510: an agreement that supersedes or terminates another is not older than it
    (by earliest signature; the other agreement may be in any bundle)."""
    signed = _earliest(_dated_steps(ctx), ("signature",), ["agreement_id"], "s")
    if signed.is_empty():
        return []
    mine = signed.select(
        "agreement_id", pl.col("_s_first").alias("_mine"), pl.col("_s_date").alias("_mine_date")
    )
    theirs = signed.select(
        pl.col("agreement_id").alias("agreement"),
        pl.col("_s_first").alias("_theirs"),
        pl.col("_s_date").alias("_theirs_date"),
    )
    relations = (
        ctx.table("agreement_relations")
        .filter(pl.col("relation").is_in(["supersedes", "terminates"]))
        .join(mine, on="agreement_id", how="inner", maintain_order="left")
        .join(theirs, on="agreement", how="inner", maintain_order="left")
    )
    bad = relations.filter(last_day(pl.col("_mine_date")) < pl.col("_theirs"))
    return failures(
        "C510",
        bad.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/agreement").alias("pointer"),
            pl.col("_mine_date").alias("value"),
            "relation",
            pl.col("agreement").alias("ref"),
            pl.col("_theirs_date").alias("other_date"),
            hint=pl.lit("the newer agreement supersedes the older one: check the direction"),
        ),
    )


def check_status(ctx: CheckContext) -> list[Failures]:
    """C513: the status the source states is not one the agreement's recorded actions
    have passed (one report per agreement, naming the first such action)."""
    rules = pl.DataFrame(
        [(status, action) for status, actions in CONTRADICTIONS.items() for action in actions],
        schema={"status": pl.String, "action": pl.String},
        orient="row",
    )
    steps = ctx.table("agreement_steps").select("agreement_id", "position", "action")
    agreements = ctx.table("agreements").filter(pl.col("status").is_in(list(CONTRADICTIONS)))
    bad = (
        agreements.select(DOC, PTR, "id", "status")
        .join(steps, left_on="id", right_on="agreement_id", how="inner")
        .join(rules, on=["status", "action"], how="semi")
        .sort(DOC, PTR, "position")
        .group_by(DOC, PTR, maintain_order=True)
        .agg(pl.col("status").first(), pl.col("action").first())
    )
    return failures(
        "C513",
        bad.select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/status").alias("pointer"),
            "status",
            pl.col("action").str.replace_all("_", " ").alias("action"),
            hint=pl.lit("give the status the source states at publication, or leave it out"),
        ),
    )


CHECKS = (check_step_order, check_supersedes, check_status)
