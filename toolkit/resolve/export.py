"""What resolution adds to an export: `cluster_id` on every fact and registry actor, the
`clusters` table and the `disagreements` table.

Clusters are found over every record the run read, so a chain a—b—c stays one cluster
when the release leaves b out; the cluster's id is then the smallest id among the members
that are exported, so `cluster_id` always joins an exported row."""

from __future__ import annotations

import polars as pl

from toolkit.frames.base import Frames
from toolkit.model.model import Model
from toolkit.resolve.cluster import cluster_ids, component_of, record_ids
from toolkit.resolve.disagree import disagreements


def annotate(model: Model, everything: dict[str, pl.DataFrame], released: Frames) -> Frames:
    """The released frames with cluster ids and the two resolution tables."""
    if "clusters" not in model.tables:
        return released
    tables = dict(released.tables)
    component = component_of(cluster_ids(model, everything))
    members = (
        record_ids(model, tables)
        .join(component, on="id", how="left")
        .with_columns(pl.col("component").fill_null(pl.col("id")))
        .with_columns(
            pl.col("id").min().over("component").alias("cluster_id"),
            pl.len().over("component").cast(pl.Int64).alias("members"),
        )
    )
    cluster = members.select("id", "cluster_id").unique("id", maintain_order=True)
    for name in [*(t.name for t in model.fact_tables), "actors"]:
        if name in tables:
            tables[name] = tables[name].join(cluster, on="id", how="left", maintain_order="left")
    tables["clusters"] = members.select("cluster_id", "id", "table", "source_id", "members")
    found = disagreements(model, tables, members)
    tables["disagreements"] = found.select("cluster_id", "field", "id", "table", "value")
    return Frames(tables=tables, documents=released.documents)
