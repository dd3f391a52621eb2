"""What resolution adds to an export: `cluster_id` on every fact and registry actor, the
`clusters` table and the `disagreements` table.

Clusters are found over every record the run read, so a chain a—b—c stays one cluster
when the release leaves b out; the cluster's id is then the smallest id among the members
that are exported, so `cluster_id` always joins an exported row."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import polars as pl

from toolkit.frames.base import DOC
from toolkit.model.model import Model
from toolkit.resolve.cluster import linked, record_ids
from toolkit.resolve.disagree import disagreements, read_tables

# the released rows of some tables (names), of some documents (`_doc` values)
Documents = Callable[[list[int], Collection[str]], dict[str, pl.DataFrame]]


def with_cluster(frame: pl.LazyFrame, cluster: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """`frame` (a fact or actor table's rows) with `cluster_id`: from `cluster` (see
    `Resolution`), else the row's own id."""
    joined = frame.join(cluster.lazy(), on="id", how="left", maintain_order="left")
    return joined.with_columns(pl.coalesce("cluster_id", "id").alias("cluster_id"))


@dataclass(frozen=True, slots=True)
class Resolution:
    """`cluster` (`id`, `cluster_id`: a row for each exported record whose cluster is named
    by another id; every other record names its own, see `with_cluster`) and the two
    tables resolution adds."""

    cluster: pl.DataFrame
    clusters: pl.DataFrame
    disagreements: pl.DataFrame

    def table(self, name: str) -> pl.DataFrame:
        if name == "clusters":
            return self.clusters
        if name == "disagreements":
            return self.disagreements
        raise KeyError(name)


def resolve(
    model: Model,
    everything: Mapping[str, pl.DataFrame],
    released: Mapping[str, pl.DataFrame],
    documents: Documents,
) -> Resolution | None:
    """Clusters over `everything` the run read, named among the `released` records (both
    need only `id`, `source_id`, `same_as`, `_doc`, `_ptr` and the judgements); the values
    compared for disagreements come from `documents`, asked only for the documents that
    hold a member of a cluster of two or more. None when the model has no resolution."""
    if "clusters" not in model.tables:
        return None
    component = linked(model, dict(everything))  # the linked ids only: few
    members = (
        record_ids(model, dict(released))
        .join(component, on="id", how="left")
        .with_columns(pl.col("component").fill_null(pl.col("id")))
        .with_columns(
            pl.col("id").min().over("component").alias("cluster_id"),
            pl.len().over("component").cast(pl.Int64).alias("members"),
        )
    )
    cluster = (
        members.filter(pl.col("cluster_id") != pl.col("id"))
        .select("id", "cluster_id")
        .unique("id", maintain_order=True)
    )
    docs = members.filter(pl.col("members") > 1)[DOC].unique().sort().to_list()
    rows = dict(released)  # not read when no cluster has two members
    if docs:
        rows = documents(docs, set().union(*read_tables()))  # what the values come from
        for name in [*(t.name for t in model.fact_tables), "actors"]:
            if name in rows:
                rows[name] = with_cluster(rows[name].lazy(), cluster).collect()
    found = disagreements(model, rows, members)
    return Resolution(
        cluster=cluster,
        clusters=members.select("cluster_id", "id", "table", "source_id", "members"),
        disagreements=found.select("cluster_id", "field", "id", "table", "value"),
    )
