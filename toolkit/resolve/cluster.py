"""Clusters: `same_as` links and 'same' judgements are edges of one graph, and a cluster is
a connected component of it, named by its smallest id.

One definition, written with narwhals, serves the checks on the run's engine and the
export and the review with polars (`cluster_ids`, `components`): the edges are built on
the engine from the staged tables, and the labels propagate there in rounds of joins and
a group-by min, with pointer doubling (as C511 follows `same_as` chains in
`toolkit.checks.links`), until a round changes none (`labels`). Only records with an edge
take part; the others are their own cluster."""

from __future__ import annotations

from typing import Any, Protocol

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext
from toolkit.checks.links import doubled, same_as_links
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR, Frames, table_rows
from toolkit.model.model import Model


class Where(Protocol):
    """Where the rounds run: a run's `CheckContext`, or an `Engine` itself."""

    def small(self, frame: pl.DataFrame) -> nw.LazyFrame[Any]: ...

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame: ...


def edges(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    """Every `same_as` link and every 'same' judgement, as (`left`, `right`), on the
    engine; None when the run has neither."""
    found: list[nw.LazyFrame[Any]] = []
    links = same_as_links(ctx)
    if links is not None:
        found.append(links.select(nw.col("id").alias("left"), nw.col("same_as").alias("right")))
    if table_rows(ctx.frames.tables, "judgements"):
        found.append(
            ctx.lazy("judgements")
            .filter(
                (nw.col("judgement") == "same")
                & ~nw.col("left").is_null()
                & ~nw.col("right").is_null()
            )
            .select("left", "right")
        )
    return nw.concat(found) if found else None


def records(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """(`id`, `table`, `source_id`, `_doc`, `_ptr`, `_table`, `_row`) of every fact and
    registry actor with an id, on the engine; `_table` (the table's place, actors last)
    and `_row` give the order in which the staged tables hold them.

    A record is keyed by where it is (`_doc`, `_ptr`), not by its id: ids may repeat
    across bundles (I201 and I202 report it), and a join on a repeated id multiplies rows."""
    tables = ctx.frames.tables
    parts = [
        ctx.lazy(t.name).select(
            "id",
            nw.lit(t.name).alias("table"),
            "source_id",
            DOC,
            PTR,
            nw.lit(i, nw.Int64()).alias("_table"),
            ROW,
        )
        for i, t in enumerate(ctx.model.fact_tables)
        if t.name in tables
    ]
    parts.append(
        ctx.lazy("actors").select(
            "id",
            nw.lit("actors").alias("table"),
            nw.lit(None, nw.String()).alias("source_id"),
            DOC,
            PTR,
            nw.lit(len(ctx.model.fact_tables), nw.Int64()).alias("_table"),
            ROW,
        )
    )
    return nw.concat(parts).filter(~nw.col("id").is_null())


def labels(
    where: Where, ids: nw.LazyFrame[Any], links: nw.LazyFrame[Any]
) -> nw.LazyFrame[Any] | None:
    """(`id`, `component`) of every id with a link to another id: the smallest id
    connected to it. Links to ids not in `ids` are ignored (the reference checks report
    them); None when no link joins two of them.

    Every label is an id no greater than its own (a label only ever takes a smaller
    one), so the label of one's label is never greater than one's label. A round either
    hooks or doubles. A hook moves whole trees: the ids that share a label all take the
    smallest label found across the links of any of them (themselves included), then the
    label of that label (`doubled`); after a hook that changed labels, rounds only
    double until none changes, so that every label names its tree's root again. A hook
    that changes no label ends the rounds: each label is then the smallest id of its
    component. (Hooking each id alone, a chain lost one id a round to its neighbour.)

    The edges of the linked ids are handed to the engine once, and each round's labels
    with whether they changed are collected and handed back (as C511 restages its jumps):
    only the labels of linked ids pass through the driver, the round's joins and group-by
    run on the engine, and no plan holds more than one round, so that neither the rounds
    nor the checks that join the clusters recompute earlier rounds."""
    # the ids at either end of a link (few) are collected first, so that the join that
    # finds which of them are known holds them, not every id
    ends = nw.concat([links.select(nw.col(side).alias("id")) for side in ("left", "right")]).filter(
        ~nw.col("id").is_null()
    )
    known = ids.select("id").join(where.small(where.collect(ends.unique())), on="id", how="semi")
    known = known.unique()
    linked = links.join(known.rename({"id": "left"}), on="left", how="semi").join(
        known.rename({"id": "right"}), on="right", how="semi"
    )
    pairs = nw.concat(
        [linked, linked.select(nw.col("right").alias("left"), nw.col("left").alias("right"))]
    )
    both = where.collect(pairs.filter(nw.col("left") != nw.col("right")).unique())
    if both.is_empty():
        return None
    selves = both.select("left").unique().with_columns(pl.col("left").alias("right"))
    graph = where.small(pl.concat([both, selves]))
    label = graph.select(nw.col("left").alias("_from"), nw.col("left").alias("_to")).unique()
    hook = True
    while True:
        step = label
        if hook:
            hooked = (
                graph.join(label.rename({"_from": "left", "_to": "_at"}), on="left")
                .join(label.rename({"_from": "right"}), on="right")
                .group_by("_at")
                .agg(nw.col("_to").min())
            )
            step = label.rename({"_to": "_at"}).join(hooked, on="_at").select("_from", "_to")
        after = label.rename({"_to": "_old"}).join(doubled(step), on="_from")
        found = where.collect(after.with_columns((nw.col("_to") != nw.col("_old")).alias("_new")))
        changed = int(found["_new"].sum())
        if hook and not changed:
            break
        label = where.small(found.select("_from", "_to"))
        hook = not changed
    return label.select(nw.col("_from").alias("id"), nw.col("_to").alias("component"))


def cluster_labels(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    """`labels` of the run's records: (`id`, `component`) of every id linked to another
    (a small table the rounds handed to the engine); None when nothing links two."""
    links = edges(ctx)
    return None if links is None else labels(ctx, records(ctx), links)


def clustered(
    ctx: CheckContext, label: nw.LazyFrame[Any] | None, *, several: bool = False
) -> nw.LazyFrame[Any]:
    """`records` with `component` (the smallest id of the record's cluster, from
    `cluster_labels`) and `members` (how many records the cluster has), on the engine:
    one row per record, so an id that records repeat is there as often (join on `_doc`
    and `_ptr`, or on the distinct `id` and `component`).

    `several`: only the records of clusters of two or more, which are the records of a
    linked id (its cluster holds another id) and those of an id records repeat (a
    cluster holds only linked ids, or one id): narrowed to them before the clusters are
    sized, so that no join holds every record."""
    found = records(ctx)
    if several:
        repeated = (
            found.group_by("id").agg(nw.len().alias("_n")).filter(nw.col("_n") > 1).select("id")
        )
        shared = repeated if label is None else nw.concat([repeated, label.select("id")])
        found = found.join(shared.unique(), on="id", how="semi")
    if label is None:
        joined = found.with_columns(nw.col("id").alias("component"))
    else:
        joined = found.join(label, on="id", how="left").with_columns(
            nw.coalesce(nw.col("component"), nw.col("id")).alias("component")
        )
    sizes = joined.group_by("component").agg(nw.len().cast(nw.Int64()).alias("members"))
    if several:
        sizes = sizes.filter(nw.col("members") > 1)
    return joined.join(sizes, on="component")


def _on_polars(model: Model, tables: dict[str, pl.DataFrame]) -> CheckContext:
    return CheckContext(model, Frames(tables=tables, documents=[]))


def record_ids(model: Model, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """`records` with polars, in the tables' order: (`id`, `table`, `source_id`, `_doc`,
    `_ptr`)."""
    ctx = _on_polars(model, tables)
    found = ctx.collect(records(ctx)).sort("_table", ROW)
    return found.select("id", "table", "source_id", pl.col(DOC).cast(pl.Int64), PTR)


def linked(model: Model, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """`cluster_labels` with polars over the run's tables: (`id`, `component`) of the ids
    linked to another, every other id being its own component. For a consumer that needs
    clusters by id (the export), without `cluster_ids`' row for every record."""
    ctx = _on_polars(model, tables)
    label = cluster_labels(ctx)
    if label is None:
        return pl.DataFrame(schema={"id": pl.String(), "component": pl.String()})
    return ctx.collect(label)


def cluster_ids(model: Model, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """`clustered` with polars over the run's tables, in their order: (`id`, `table`,
    `source_id`, `_doc`, `_ptr`, `component`, `members`), for the export and the review."""
    ctx = _on_polars(model, tables)
    return (
        ctx.collect(clustered(ctx, cluster_labels(ctx)))
        .sort("_table", ROW)
        .select(
            "id",
            "table",
            "source_id",
            pl.col(DOC).cast(pl.Int64),
            PTR,
            "component",
            pl.col("members").cast(pl.UInt32),
        )
    )


def components(nodes: pl.Series, links: pl.DataFrame) -> pl.DataFrame:
    """(`id`, `component`) for every node, with polars (`labels`): the smallest id
    connected to it; a node without links is its own."""
    from toolkit.engines.polars_engine import PolarsEngine

    engine = PolarsEngine()
    ids = nodes.drop_nulls().unique().alias("id").to_frame()
    found = labels(engine, engine.small(ids), engine.small(links.select("left", "right")))
    if found is None:
        return ids.with_columns(pl.col("id").alias("component"))
    return ids.join(engine.collect(found), on="id", how="left").with_columns(
        pl.col("component").fill_null(pl.col("id"))
    )


def component_of(clusters: pl.DataFrame) -> pl.DataFrame:
    """(`id`, `component`), one row per id: what joins on an id without multiplying rows."""
    return clusters.select("id", "component").unique("id", maintain_order=True)
