"""Which facts a release export carries.

Left out, always: facts whose review is `rejected`. Left out by default: facts extracted
by a model (`model` or `assisted`) that nobody has reviewed yet; `include_unreviewed`
keeps them, and the `review` column marks them. A fact asserted by a statement that was
left out (any of its `asserted_by`, or a response's `statement`) goes too, so no row
points at a missing statement; a `same_as` link to a fact
that was left out is cleared, and a relation to an agreement that was left out is left out
(the export's foreign keys hold). Parts (parties, items, members, …) follow their fact. The
counts, per table and reason, go into the export summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from toolkit.frames import Frames
from toolkit.model.model import Model

MACHINE = ("model", "assisted")
REJECTED = "rejected"
UNREVIEWED = "unreviewed machine extraction"
ORPHANED = "asserted by a statement left out"
UNLINKED = "same_as link to a fact left out, cleared"
DANGLING = "relation to an agreement left out"


@dataclass(slots=True)
class Release:
    frames: Frames
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)  # table → reason → n
    policy: str = ""


def _reason(include_unreviewed: bool) -> pl.Expr:
    unreviewed = (pl.col("review") == "unreviewed") & pl.col("extraction_method").is_in(MACHINE)
    if include_unreviewed:
        unreviewed = pl.lit(False)
    return (
        pl.when(pl.col("review") == REJECTED)
        .then(pl.lit(REJECTED))
        .when(unreviewed)
        .then(pl.lit(UNREVIEWED))
        .otherwise(pl.lit(None, pl.String))
        .alias("_reason")
    )


def release(model: Model, frames: Frames, *, include_unreviewed: bool = False) -> Release:
    """The frames of a release export, with what was left out and why."""
    tables = dict(frames.tables)
    left_out: dict[str, dict[str, int]] = {}
    reasoned = {
        t.name: tables[t.name].with_columns(_reason(include_unreviewed)) for t in model.fact_tables
    }
    gone_statements = reasoned["statements"].filter(pl.col("_reason").is_not_null())["id"]
    gone_ids = gone_statements.implode()
    for table in model.fact_tables:
        frame = reasoned[table.name]
        cited = [
            pl.col(c.name).list.eval(pl.element().is_in(gone_ids)).list.any()
            if c.kind == "string_list"
            else pl.col(c.name).is_in(gone_ids)
            for c in table.columns
            if c.ref == "statement" and c.path and c.path[-1] != "same_as"
        ]
        if cited:
            frame = frame.with_columns(
                pl.when(pl.col("_reason").is_null() & pl.any_horizontal(cited).fill_null(False))
                .then(pl.lit(ORPHANED))
                .otherwise(pl.col("_reason"))
                .alias("_reason")
            )
        reasoned[table.name] = frame
    gone = pl.concat(
        [f.filter(pl.col("_reason").is_not_null()).select("id") for f in reasoned.values()]
    )["id"]
    for table in model.fact_tables:
        frame = reasoned[table.name]
        counts = frame.filter(pl.col("_reason").is_not_null()).group_by("_reason").len()
        # nothing left out (the common case): the rows as they are, not a copy of them
        whole = counts.is_empty()
        kept = (frame if whole else frame.filter(pl.col("_reason").is_null())).drop("_reason")
        if "same_as" in kept.columns and not gone.is_empty():
            unlinked = kept.filter(pl.col("same_as").is_in(gone.implode())).height
            if unlinked:
                counts = pl.concat(
                    [
                        counts,
                        pl.DataFrame(
                            {"_reason": [UNLINKED], "len": [unlinked]}, schema=counts.schema
                        ),
                    ]
                )
                kept = kept.with_columns(
                    pl.when(pl.col("same_as").is_in(gone.implode()))
                    .then(None)
                    .otherwise(pl.col("same_as"))
                    .alias("same_as")
                )
        if counts.height:
            left_out[table.name] = dict(sorted(counts.iter_rows()))
        tables[table.name] = kept
        for part in model.tables.values():
            if part.parent == table.name:
                parent_id = part.columns[0].name
                rows = tables[part.name]
                if not whole:
                    wanted = kept.select(pl.col("id").alias(parent_id))
                    rows = rows.join(wanted, on=parent_id, how="semi", maintain_order="left")
                for col in part.columns:  # a part naming another fact: it must be exported
                    if col.ref != "agreement" or not col.path or gone.is_empty():
                        continue
                    dangling = pl.col(col.name).is_in(gone.implode()).fill_null(False)
                    if n := rows.filter(dangling).height:
                        left_out.setdefault(part.name, {})[DANGLING] = n
                        rows = rows.filter(~dangling)
                tables[part.name] = rows
    policy = (
        "all facts except rejected ones"
        if include_unreviewed
        else "reviewed facts: rejected facts and unreviewed machine extractions left out"
    )
    return Release(Frames(tables=tables, documents=frames.documents), left_out, policy)
