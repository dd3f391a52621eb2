"""Candidate pairs for review: blocked, scored, and not yet decided.

A pair is proposed when its two records are not already one cluster (through `same_as` or
a 'same' judgement) and nobody has judged it yet (whatever the verdict: an 'unsure' is
not asked again)."""

from __future__ import annotations

import polars as pl

from toolkit.model.model import Model
from toolkit.resolve.blocking import MAX_BLOCK, block
from toolkit.resolve.cluster import cluster_ids, component_of
from toolkit.resolve.kinds import active, profiles
from toolkit.resolve.scoring import score

MIN_SCORE = 0.6


def ordered(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame's `left`/`right` columns made an unordered pair (the smaller id left)."""
    return frame.with_columns(
        pl.min_horizontal("left", "right").alias("left"),
        pl.max_horizontal("left", "right").alias("right"),
    )


def candidates(
    model: Model,
    tables: dict[str, pl.DataFrame],
    *,
    min_score: float = MIN_SCORE,
    max_block: int = MAX_BLOCK,
) -> pl.DataFrame:
    """Undecided pairs scoring at least `min_score`, best first: `left`, `right`, `table`,
    each feature (name, parties, date, place) and `score`."""
    component = component_of(cluster_ids(model, tables))
    actors = clusters_of_actors(component, tables)
    found = profiles(model, tables, actors)
    pairs = block(found, max_block)
    pairs = _clustered(pairs, component).filter(pl.col("_lc") != pl.col("_rc"))
    judged = tables.get("judgements")
    if judged is not None and judged.height:  # decided for one member: decided for the cluster
        decided = _clustered(judged.select("left", "right").drop_nulls(), component)
        decided = decided.select(
            pl.min_horizontal("_lc", "_rc").alias("_lc"),
            pl.max_horizontal("_lc", "_rc").alias("_rc"),
        )
        pairs = pairs.join(decided, on=["_lc", "_rc"], how="anti")
    kinds = active(model, tables)
    directed = {k.table for k in kinds if k.directed}
    strict = {k.table for k in kinds if k.strict}
    scored = score(pairs.drop("_lc", "_rc"), found, directed, strict)
    # one proposal per pair of clusters: its best-scoring pair of members
    best = (
        _clustered(scored, component)
        .with_columns(
            pl.min_horizontal("_lc", "_rc").alias("_a"), pl.max_horizontal("_lc", "_rc").alias("_b")
        )
        .unique(["_a", "_b"], keep="first", maintain_order=True)
        .drop("_lc", "_rc", "_a", "_b")
    )
    return best.filter(pl.col("score") >= min_score)


def clusters_of_actors(component: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Registry actor → its cluster, for actors that share one with another actor."""
    joined = component.join(tables["actors"].select("id"), on="id", how="semi").filter(
        pl.col("id") != pl.col("component")
    )
    return dict(joined.iter_rows())


def _clustered(pairs: pl.DataFrame, component: pl.DataFrame) -> pl.DataFrame:
    """`pairs` with the cluster of each side (`_lc`, `_rc`; an unknown id is its own)."""
    return (
        pairs.join(component.rename({"id": "left", "component": "_lc"}), on="left", how="left")
        .join(component.rename({"id": "right", "component": "_rc"}), on="right", how="left")
        .with_columns(
            pl.col("_lc").fill_null(pl.col("left")), pl.col("_rc").fill_null(pl.col("right"))
        )
    )
