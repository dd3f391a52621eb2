"""Where the reports of one thing disagree: a date, a party set, a status, a count.

For every kind and compared field, the distinct values each cluster's members report are
paired with each other inside the cluster (clusters are small; only clusters of two or
more members are looked at). Two dates disagree only when neither is a prefix of the
other: '2024-06' and '2024-06-19' agree, '2024-06-19' and '2024-06-20' do not. A status
changes as a story goes on ('signed' in June, 'in_force' in December), so two statuses are
compared only between reports published on the same day. The steps of an agreement are
compared step by step, a step being its action, party and actor as far as the report gives
them ('signature date', 'chamber_approval date of RUS by russia-state-duma'), each located
at the step's date."""

from __future__ import annotations

import polars as pl

from toolkit.frames.base import DOC, PTR
from toolkit.model.model import Model
from toolkit.resolve.kinds import PARTIES, STEPS, Kind, active, profiles

AS_OF_PUBLICATION = frozenset({"status"})  # fields that a later report may rightly change

SCHEMA = {
    "cluster_id": pl.String,
    "field": pl.String,
    "id": pl.String,
    "table": pl.String,
    "value": pl.String,
    "other_id": pl.String,
    "other_value": pl.String,
    "conflict": pl.Boolean,
    DOC: pl.UInt32,
    "pointer": pl.String,
}


def _step_dates(
    model: Model, kind: Kind, frame: pl.DataFrame, tables: dict[str, pl.DataFrame]
) -> pl.DataFrame | None:
    """(`id`, `field`, `value`, `_doc`, `pointer`) of every dated step of these records."""
    if kind.steps is None or kind.steps[0] not in tables:
        return None
    name, parent = kind.steps
    suffix = "/" + "/".join(model.tables[name].column("date").path)
    field = pl.concat_str(  # a part the step leaves out is left out of its name
        pl.col("action"),
        pl.lit(" date"),
        pl.lit(" of ") + pl.col("party"),
        pl.lit(" by ") + pl.col("actor"),
        ignore_nulls=True,
    )
    return (
        tables[name]
        .join(frame.select("id"), left_on=parent, right_on="id", how="semi")
        .filter(pl.col("date").is_not_null())
        .select(
            pl.col(parent).alias("id"),
            field.alias("field"),
            pl.col("date").cast(pl.String).alias("value"),
            DOC,
            (pl.col(PTR) + suffix).alias("pointer"),
        )
        .unique(["id", "field"], keep="first", maintain_order=True)  # one row per key
    )


def _field_values(
    model: Model,
    kind: Kind,
    field: str,
    frame: pl.DataFrame,
    prof: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
) -> tuple[pl.DataFrame, bool] | None:
    """(`id`, `field`, `value`, `_doc`, `pointer`) of one field, and whether it is a date."""
    table = model.tables[kind.table]
    if field == STEPS:
        steps = _step_dates(model, kind, frame, tables)
        return None if steps is None else (steps, True)
    if field == PARTIES:
        if kind.party_part is not None:
            suffix = "/" + model.tables[kind.party_part[0]].record_path[0]
        elif kind.parties:
            suffix = "/" + "/".join(table.column(kind.parties[0]).path)
        else:
            return None
        joiner = " → " if kind.directed else ", "
        values = prof.filter(pl.col("parties").list.len() > 0).select(
            "id", pl.col("parties").list.join(joiner).alias("value"), DOC, PTR
        )
        return values.select(
            "id",
            pl.lit(field).alias("field"),
            "value",
            DOC,
            (pl.col(PTR) + suffix).alias("pointer"),
        ), False
    if field not in frame.columns or field not in table.names:
        return None
    column = table.column(field)
    suffix = "/" + "/".join(column.path)
    values = frame.filter(pl.col(field).is_not_null() & pl.col("id").is_not_null()).select(
        "id",
        pl.lit(field).alias("field"),
        pl.col(field).cast(pl.String).alias("value"),
        DOC,
        (pl.col(PTR) + suffix).alias("pointer"),
    )
    return values, column.kind == "date"


def disagreements(
    model: Model, tables: dict[str, pl.DataFrame], clusters: pl.DataFrame
) -> pl.DataFrame:
    """One row per member and field of every cluster whose members disagree on that field:
    its value, and (`conflict`) whether it contradicts another member's, then which one."""
    multi = clusters.filter(pl.col("members") > 1).select("id", "cluster_id")
    out: list[pl.DataFrame] = []
    if multi.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    kinds = active(model, tables)
    subset = dict(tables)  # only members of clusters of two or more are looked at
    for kind in kinds:
        subset[kind.table] = tables[kind.table].join(multi, on="id", how="semi")
    prof = profiles(model, subset)
    published = tables["sources"].select(pl.col("id").alias("source_id"), "published_on")
    for kind in kinds:
        frame = subset[kind.table]
        if frame.is_empty():
            continue
        for field in kind.compared:
            found = _field_values(
                model, kind, field, frame, prof.filter(pl.col("table") == kind.table), subset
            )
            if found is None:
                continue
            values, is_date = found
            values = values.join(multi, on="id")
            if field in AS_OF_PUBLICATION:  # same cluster and same publication day
                day = frame.select("id", "source_id").join(published, on="source_id")
                scope = pl.format("{}|{}@{}", "cluster_id", "field", "published_on")
                values = values.join(day.select("id", "published_on"), on="id").select(
                    pl.exclude("published_on"), scope.alias("_scope")
                )
            else:
                values = values.with_columns(
                    pl.format("{}|{}", "cluster_id", "field").alias("_scope")
                )
            distinct = values.select("_scope", "value").unique()
            pairs = distinct.join(distinct, on="_scope", suffix="_o").filter(
                pl.col("value") != pl.col("value_o")
            )
            if is_date:
                a, b = pl.col("value"), pl.col("value_o")
                pairs = pairs.filter(~(a.str.starts_with(b) | b.str.starts_with(a)))
            if pairs.is_empty():
                continue
            against = pairs.group_by("_scope", "value").agg(
                pl.col("value_o").min().alias("other_value")
            )
            holder = values.group_by("_scope", "value").agg(pl.col("id").min().alias("other_id"))
            rows = (
                values.join(pairs.select("_scope").unique(), on="_scope", how="semi")
                .join(against, on=["_scope", "value"], how="left")
                .join(
                    holder.rename({"value": "other_value"}),
                    on=["_scope", "other_value"],
                    how="left",
                )
                .select(
                    "cluster_id",
                    "field",
                    "id",
                    pl.lit(kind.table).alias("table"),
                    "value",
                    "other_id",
                    "other_value",
                    pl.col("other_value").is_not_null().alias("conflict"),
                    pl.col(DOC).cast(pl.UInt32),
                    "pointer",
                )
            )
            out.append(rows)
    if not out:
        return pl.DataFrame(schema=SCHEMA)
    return pl.concat(out).sort("cluster_id", "field", "id")
