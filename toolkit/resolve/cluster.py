"""Clusters: `same_as` links and 'same' judgements are edges of one graph, and a cluster is
a connected component of it. Components are found in polars by propagating the smallest
id along the edges with pointer jumping until nothing changes (a handful of joins over the
records that have an edge; the others are their own cluster)."""

from __future__ import annotations

import polars as pl

from toolkit.frames.base import DOC, PTR
from toolkit.model.model import Model

EDGE_SCHEMA = {"left": pl.String, "right": pl.String}


def edges(model: Model, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Every `same_as` link and every 'same' judgement, as (left, right)."""
    found = [
        tables[t.name]
        .filter(pl.col("same_as").is_not_null() & pl.col("id").is_not_null())
        .select(pl.col("id").alias("left"), pl.col("same_as").alias("right"))
        for t in model.fact_tables
        if t.name in tables and "same_as" in tables[t.name].columns
    ]
    judged = tables.get("judgements")
    if judged is not None and judged.height:
        found.append(
            judged.filter(
                (pl.col("judgement") == "same")
                & pl.col("left").is_not_null()
                & pl.col("right").is_not_null()
            ).select("left", "right")
        )
    if not found:
        return pl.DataFrame(schema=EDGE_SCHEMA)
    return pl.concat(found).unique()


def components(nodes: pl.Series, links: pl.DataFrame) -> pl.DataFrame:
    """(`id`, `component`) for every node: the smallest id connected to it. Links to ids
    that are not nodes are ignored (the reference checks report them)."""
    ids = nodes.drop_nulls().unique().alias("id").to_frame()
    known = links.join(ids.rename({"id": "left"}), on="left", how="semi").join(
        ids.rename({"id": "right"}), on="right", how="semi"
    )
    both = pl.concat(
        [known, known.select(pl.col("right").alias("left"), pl.col("left").alias("right"))]
    ).unique()
    label = (
        both.select(pl.col("left").alias("id"))
        .unique()
        .with_columns(pl.col("id").alias("component"))
    )
    while True:
        neighbour = (
            both.join(label, left_on="right", right_on="id")
            .group_by("left")
            .agg(pl.col("component").min().alias("_n"))
        )
        step = label.join(neighbour, left_on="id", right_on="left", how="left").select(
            "id", pl.min_horizontal("component", "_n").alias("component")
        )
        # pointer jumping: take the label of one's label, halving chain lengths each round
        step = step.join(
            step.rename({"id": "component", "component": "_j"}), on="component", how="left"
        ).select("id", pl.min_horizontal("component", "_j").alias("component"))
        if step.sort("id").equals(label.sort("id")):
            break
        label = step
    return ids.join(label, on="id", how="left").with_columns(
        pl.col("component").fill_null(pl.col("id"))
    )


def record_ids(model: Model, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """(`id`, `table`, `source_id`, `_doc`, `_ptr`) of every fact and registry actor.

    A record is keyed by where it is (`_doc`, `_ptr`), not by its id: ids may repeat
    across bundles (I201 and I202 report it), and a join on a repeated id multiplies rows."""
    parts = [
        tables[t.name].select(
            "id", pl.lit(t.name).alias("table"), "source_id", pl.col(DOC).cast(pl.Int64), PTR
        )
        for t in model.fact_tables
        if t.name in tables
    ]
    parts.append(
        tables["actors"].select(
            "id",
            pl.lit("actors").alias("table"),
            pl.lit(None, pl.String).alias("source_id"),
            pl.col(DOC).cast(pl.Int64),
            PTR,
        )
    )
    return pl.concat(parts).filter(pl.col("id").is_not_null())


def cluster_ids(model: Model, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """(`id`, `table`, `source_id`, `_doc`, `_ptr`, `component`, `members`): one row per
    record; `component` is the smallest id of its cluster, `members` how many records it
    has. An id repeated by several records gives one row per record, so join on the
    record's place, or on `id` after `unique("id")` (`component_of`)."""
    records = record_ids(model, tables)
    found = components(records["id"], edges(model, tables))
    return records.join(found, on="id", how="left").with_columns(
        pl.len().over("component").alias("members")
    )


def component_of(clusters: pl.DataFrame) -> pl.DataFrame:
    """(`id`, `component`), one row per id: what joins on an id without multiplying rows."""
    return clusters.select("id", "component").unique("id", maintain_order=True)
