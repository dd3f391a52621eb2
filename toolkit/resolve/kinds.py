"""The kinds of record xref resolves, one entry each: what names it, who takes part, when,
where, and which fields its reports must agree on. A kind whose table the model lacks is
skipped, so adding a kind is adding an entry.

An agreement has no date or place columns in format 2: they are its steps' (table
`agreement_steps`). Its signature gives the date and place it is matched on, and the
dates of its steps are compared step by step (`STEPS`: same action, same party)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from toolkit.frames.base import DOC, PTR
from toolkit.model.model import Model
from toolkit.resolve.normalise import normalise

PARTIES = "parties"  # the pseudo-field of a record's party set, compared like a column
STEPS = "steps"  # the pseudo-field of a record's dated steps, compared per action and party


@dataclass(frozen=True, slots=True)
class Kind:
    table: str
    names: tuple[str, ...]  # columns (text or lists of text) that name the record
    name_part: tuple[str, str, str] | None = None  # (part table, parent column, label column)
    parties: tuple[str, ...] = ()  # actor columns of the row (text or lists)
    party_part: tuple[str, str, str] | None = None  # (part table, parent column, actor column)
    party_role: str | None = None  # keep only part rows with this role
    directed: bool = False  # parties in order: supplier → recipient, sender → host
    strict: bool = False  # every name token must match (people), not only the shorter's
    date: str | None = None
    place: tuple[str, ...] = ()  # place columns, the first non-null is compared
    steps: tuple[str, str] | None = None  # (step table, parent column) with action, party, date
    dated_by: str | None = None  # the step whose date and place are the record's
    kind: str | None = None  # records of different kinds score lower
    compared: tuple[str, ...] = ()  # fields whose disagreement in a cluster is reported


KINDS: tuple[Kind, ...] = (
    Kind(
        "agreements",
        names=("title",),
        party_part=("agreement_parties", "agreement_id", "actor"),
        party_role="party",
        date="date",
        place=("place_country", "place_name"),
        kind="kind",
        steps=("agreement_steps", "agreement_id"),
        dated_by="signature",
        compared=("status", "kind", STEPS, PARTIES),
    ),
    Kind(
        "events",
        names=("title",),
        parties=("participants",),
        date="date",
        place=("place_country", "place_name"),
        kind="kind",
        compared=("kind", "date", "place_country"),
    ),
    Kind(
        "supplies",
        names=(),
        name_part=("supply_items", "supply_id", "category"),
        parties=("supplier", "recipient"),
        directed=True,
        compared=("polarity", "status", PARTIES),
    ),
    Kind(
        "deployments",
        names=("personnel", "purpose"),
        parties=("sender", "host"),
        directed=True,
        date="date",
        place=("place_country", "place_name"),
        compared=("polarity", "status", "size_value", "date", PARTIES),
    ),
    Kind(
        "actors",
        names=("name", "aliases"),
        strict=True,
        kind="kind",
        compared=("kind", "country"),
    ),
)


def active(model: Model, tables: dict[str, pl.DataFrame]) -> list[Kind]:
    """The kinds whose table this model and these tables have."""
    return [k for k in KINDS if k.table in model.tables and k.table in tables]


def _text_list(frame: pl.DataFrame, names: tuple[str, ...]) -> pl.Expr:
    parts = [
        pl.col(n).fill_null(pl.lit([], pl.List(pl.String)))
        if frame.schema[n] == pl.List(pl.String)
        else pl.concat_list(pl.col(n))
        for n in names
        if n in frame.columns
    ]
    if not parts:
        return pl.lit(None, pl.List(pl.String))
    return pl.concat_list(parts).list.drop_nulls()


def _dated_by(rows: pl.DataFrame, parent: str, action: str | None) -> pl.DataFrame:
    """Per record, the earliest date and the first place of its `action` steps (a
    signature recorded per party has several rows)."""
    rows = rows.filter(pl.col("action") == action)
    return rows.group_by(parent).agg(
        pl.col("date").drop_nulls().min(),
        pl.col("place_name").drop_nulls().first(),
        pl.col("place_country").drop_nulls().first(),
    )


def _from_part(
    tables: dict[str, pl.DataFrame], part: tuple[str, str, str], role: str | None, alias: str
) -> pl.DataFrame:
    table, parent, column = part
    rows = tables[table]
    if role is not None and "role" in rows.columns:
        rows = rows.filter(pl.col("role") == role)
    return rows.group_by(parent).agg(pl.col(column).drop_nulls().unique().sort().alias(alias))


def profiles(
    model: Model, tables: dict[str, pl.DataFrame], same: dict[str, str] | None = None
) -> pl.DataFrame:
    """One row per resolvable record: id, table, source_id, kind, normalised names, parties,
    date, place and where it is (`_doc`, `_ptr`). Everything in polars, no loop per row.

    `same` maps an actor to its cluster, so that reports naming Kim Jong-un by two
    registry entries judged the same have the same parties."""
    out: list[pl.DataFrame] = []
    for k in active(model, tables):
        frame = tables[k.table]
        if k.name_part is not None:
            frame = frame.join(
                _from_part(tables, k.name_part, None, "_labels"),
                left_on="id",
                right_on=k.name_part[1],
                how="left",
            )
        if k.steps is not None and k.steps[0] in tables:
            frame = frame.join(
                _dated_by(tables[k.steps[0]], k.steps[1], k.dated_by),
                left_on="id",
                right_on=k.steps[1],
                how="left",
            )
        if k.party_part is not None:
            frame = frame.join(
                _from_part(tables, k.party_part, k.party_role, "_parties"),
                left_on="id",
                right_on=k.party_part[1],
                how="left",
            )
        names = _text_list(frame, k.names)
        if k.name_part is not None:
            names = pl.col("_labels").list.sort().list.join(" ").cast(pl.String)
            names = pl.concat_list(names).list.drop_nulls()
        parties = pl.col("_parties") if k.party_part is not None else _text_list(frame, k.parties)
        if same:
            parties = parties.list.eval(pl.element().replace(same))
        if not k.directed:
            parties = parties.list.unique().list.sort()
        place = [pl.col(c) for c in k.place if c in frame.columns]
        out.append(
            frame.select(
                pl.col("id"),
                pl.lit(k.table).alias("table"),
                (pl.col("source_id") if "source_id" in frame.columns else pl.lit(None))
                .cast(pl.String)
                .alias("source_id"),
                (pl.col(k.kind) if k.kind and k.kind in frame.columns else pl.lit(None))
                .cast(pl.String)
                .alias("kind"),
                names.list.eval(normalise(pl.element())).alias("names"),
                parties.fill_null(pl.lit([], pl.List(pl.String))).alias("parties"),
                (pl.col(k.date) if k.date and k.date in frame.columns else pl.lit(None))
                .cast(pl.String)
                .alias("date"),
                (normalise(pl.coalesce(place)) if place else pl.lit(None, pl.String)).alias(
                    "place"
                ),
                pl.col(DOC),
                pl.col(PTR),
            ).filter(pl.col("id").is_not_null())
        )
    if not out:
        return pl.DataFrame(
            schema={
                "id": pl.String,
                "table": pl.String,
                "source_id": pl.String,
                "kind": pl.String,
                "names": pl.List(pl.String),
                "parties": pl.List(pl.String),
                "date": pl.String,
                "place": pl.String,
                DOC: pl.UInt32,
                PTR: pl.String,
            }
        )
    return pl.concat(out, how="vertical_relaxed")
