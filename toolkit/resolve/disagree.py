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

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.frames.base import DOC, PTR
from toolkit.model.model import Model
from toolkit.resolve.kinds import KINDS, PARTIES, STEPS, Kind, active, profiles

AS_OF_PUBLICATION = frozenset({"status"})  # fields that a later report may rightly change
KEY = "_key"  # the pointer of the record a value belongs to: with `_doc`, where it is

SCHEMA = {
    "cluster_id": pl.String,
    "field": pl.String,
    "id": pl.String,
    "table": pl.String,
    "value": pl.String,
    "other_id": pl.String,
    "other_value": pl.String,
    "conflict": pl.Boolean,
    DOC: pl.Int64,
    "pointer": pl.String,
    "other_doc": pl.Int64,
    "other_pointer": pl.String,
}

VALUES = {
    "cluster_id": pl.String,
    "field": pl.String,
    "id": pl.String,
    "table": pl.String,
    "value": pl.String,
    "_scope": pl.String,
    "_date": pl.Boolean,
    DOC: pl.Int64,
    "pointer": pl.String,
    "_holder": pl.Boolean,
}

PREFIXES = {"_scope": pl.String, "value": pl.String, "prefix": pl.String}


def _step_dates(
    model: Model, kind: Kind, frame: pl.DataFrame, tables: dict[str, pl.DataFrame]
) -> pl.DataFrame | None:
    """(`id`, `field`, `value`, `_doc`, `pointer`, `_key`) of every dated step of these
    records. A step belongs to the record whose pointer its own extends (`/agreements/0`
    for `/agreements/0/actions/1`), which stays true when ids repeat."""
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
        .with_columns(
            pl.col(DOC).cast(pl.Int64), pl.col(PTR).str.replace(r"/[^/]+/[^/]+$", "").alias(KEY)
        )
        .join(frame.select(DOC, pl.col(PTR).alias(KEY)), on=[DOC, KEY], how="semi")
        .filter(pl.col("date").is_not_null())
        .select(
            pl.col(parent).alias("id"),
            field.alias("field"),
            pl.col("date").cast(pl.String).alias("value"),
            DOC,
            (pl.col(PTR) + suffix).alias("pointer"),
            KEY,
        )
        .unique([DOC, KEY, "field"], keep="first", maintain_order=True)  # one row per key
    )


def _field_values(
    model: Model,
    kind: Kind,
    field: str,
    frame: pl.DataFrame,
    prof: pl.DataFrame,
    tables: dict[str, pl.DataFrame],
) -> tuple[pl.DataFrame, bool] | None:
    """(`id`, `field`, `value`, `_doc`, `pointer`, `_key`) of one field, and whether it is
    a date."""
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
            pl.col(DOC).cast(pl.Int64),
            (pl.col(PTR) + suffix).alias("pointer"),
            pl.col(PTR).alias(KEY),
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
        pl.col(PTR).alias(KEY),
    )
    return values, column.kind == "date"


def read_tables() -> tuple[set[str], set[str]]:
    """The tables `record_values` reads: the kinds' own (of which it reads only the
    records in clusters), and their parts and `sources` (rows of the records'
    documents)."""
    own = {kind.table for kind in KINDS}
    parts = {"sources"}
    for kind in KINDS:
        for part in (kind.name_part, kind.party_part, kind.steps):
            if part is not None:
                parts.add(part[0])
    return own, parts - own


def record_values(
    model: Model, tables: dict[str, pl.DataFrame], clusters: pl.DataFrame
) -> pl.DataFrame:
    """One row per compared value of every record in a cluster of two or more (`VALUES`):
    `_scope` is what it is compared within (table, cluster and field; and the day of
    publication for a status), `_date` whether it is compared as a date, `_holder` whether
    it is the first record (by id, then place) holding its value in its scope: the one a
    disagreeing report is pointed to, and one row per distinct value.

    Records are matched to their cluster by where they are (`_doc`, pointer) and to their
    source by their document, never by id: ids may repeat across bundles (I201, I202),
    and a join on a repeated id multiplies rows, as many times as the id repeats.

    Computed with polars (also as the engines' `derived` table): a party set is a sorted,
    joined list and a step's field a name made of its parts, which the engines do not
    express alike; what is compared with what is `conflicts`, on the engine."""
    multi = clusters.filter(pl.col("members") > 1).select(
        pl.col(DOC).cast(pl.Int64), pl.col(PTR).alias(KEY), "cluster_id"
    )
    if multi.is_empty():
        return pl.DataFrame(schema=VALUES)
    kinds = active(model, tables)
    subset = dict(tables)  # only members of clusters of two or more are looked at
    for kind in kinds:
        subset[kind.table] = (
            tables[kind.table]
            .with_columns(pl.col(DOC).cast(pl.Int64))
            .join(multi, left_on=[DOC, PTR], right_on=[DOC, KEY], how="semi")
        )
    prof = profiles(model, subset)
    published = tables["sources"].select(
        pl.col(DOC).cast(pl.Int64), pl.col("id").alias("source_id"), "published_on"
    )
    out: list[pl.DataFrame] = []
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
            values = values.join(multi, on=[DOC, KEY])
            scope = pl.format("{}|{}|{}", pl.lit(kind.table), "cluster_id", "field")
            if field in AS_OF_PUBLICATION:  # same cluster and same publication day
                day = frame.select(DOC, pl.col(PTR).alias(KEY), "source_id").join(
                    published, on=[DOC, "source_id"]
                )
                values = values.join(day.select(DOC, KEY, "published_on"), on=[DOC, KEY])
                scope = pl.format("{}@{}", scope, "published_on")
            out.append(
                values.select(
                    "cluster_id",
                    "field",
                    "id",
                    pl.lit(kind.table).alias("table"),
                    "value",
                    scope.alias("_scope"),
                    pl.lit(is_date).alias("_date"),
                    DOC,
                    "pointer",
                ).filter(pl.col("_scope").is_not_null())
            )
    if not out:
        return pl.DataFrame(schema=VALUES)
    every = pl.concat(out).sort("id", DOC, "pointer")
    holder = pl.struct("_scope", "value").is_first_distinct().alias("_holder")
    return every.with_columns(holder).select(*(pl.col(c).cast(t) for c, t in VALUES.items()))


def date_prefixes(values: pl.DataFrame) -> pl.DataFrame:
    """(`_scope`, `value`, `prefix`): every proper prefix of every date compared. Two
    dates agree when one is a prefix of the other; as rows, that is a join the engines
    all make alike (their string functions differ)."""
    dates = values.filter(pl.col("_date")).select("_scope", "value").unique()
    return (
        dates.with_columns(pl.int_ranges(1, pl.col("value").str.len_chars()).alias("_n"))
        .explode("_n")
        .filter(pl.col("_n").is_not_null())
        .select("_scope", "value", pl.col("value").str.slice(0, pl.col("_n")).alias("prefix"))
        .select(*(pl.col(c).cast(t) for c, t in PREFIXES.items()))
    )


def conflicts(
    values: nw.LazyFrame[Any], prefixes: nw.LazyFrame[Any], *, agreeing: bool = False
) -> nw.LazyFrame[Any]:
    """Every value that contradicts another of its scope (`SCHEMA`): the smallest value it
    contradicts (`other_value`) and where the first record holding that one is. With
    `agreeing`, also the values of those scopes that contradict none (`conflict` false,
    as '2024' beside '2024-06-19' and '2024-06-20'), as the export lists them.

    Only the distinct values of a scope are paired, so a value many records repeat costs
    one row, not one per pair of records."""
    holders = values.filter(nw.col("_holder"))
    distinct = holders.select("_scope", "value")
    pairs = (
        distinct.join(distinct.rename({"value": "_other"}), on="_scope")
        .filter(nw.col("value") != nw.col("_other"))
        .join(prefixes.rename({"prefix": "_other"}), on=["_scope", "value", "_other"], how="anti")
        .join(
            prefixes.rename({"value": "_other", "prefix": "value"}),
            on=["_scope", "value", "_other"],
            how="anti",
        )
    )
    against = pairs.group_by("_scope", "value").agg(nw.col("_other").min().alias("other_value"))
    holder = holders.select(
        "_scope",
        nw.col("value").alias("other_value"),
        nw.col("id").alias("other_id"),
        nw.col(DOC).alias("other_doc"),
        nw.col("pointer").alias("other_pointer"),
    )
    if agreeing:
        rows = values.join(pairs.select("_scope").unique(), on="_scope", how="semi").join(
            against, on=["_scope", "value"], how="left"
        )
    else:
        rows = values.join(against, on=["_scope", "value"])
    return rows.join(holder, on=["_scope", "other_value"], how="left").select(
        "cluster_id",
        "field",
        "id",
        "table",
        "value",
        "other_id",
        "other_value",
        (~nw.col("other_value").is_null()).alias("conflict"),
        DOC,
        "pointer",
        "other_doc",
        "other_pointer",
    )


def disagreements(
    model: Model, tables: dict[str, pl.DataFrame], clusters: pl.DataFrame
) -> pl.DataFrame:
    """One row per member and field of every cluster whose members disagree on that field:
    its value, and (`conflict`) whether it contradicts another member's, then which one
    and where (`other_doc`, `other_pointer`). With polars, for the export; the checks run
    `conflicts` on the run's engine."""
    values = record_values(model, tables, clusters)
    if values.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    prefixes = nw.from_native(date_prefixes(values).lazy())
    found = conflicts(nw.from_native(values.lazy()), prefixes, agreeing=True)
    out = found.collect(backend="polars").to_native()
    assert isinstance(out, pl.DataFrame)
    return out.select(*(pl.col(c).cast(t) for c, t in SCHEMA.items())).sort(
        "cluster_id", "field", "id", DOC, "pointer"
    )
