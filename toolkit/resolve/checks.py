"""The resolution family of checks: judgements name real records of one kind and do not
contradict each other or the clusters, and the reports of one thing agree (a warning
located at each report that disagrees, naming the other).

Clusters are computed once per run and kept in the context's cache for the checks that
follow."""

from __future__ import annotations

from functools import partial

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, with_hints
from toolkit.checks.suggest import did_you_mean
from toolkit.frames.base import DOC
from toolkit.resolve.candidates import ordered
from toolkit.resolve.cluster import cluster_ids
from toolkit.resolve.disagree import disagreements
from toolkit.resolve.judgements import VERDICTS

CLUSTERS = "resolve.clusters"


def clusters(ctx: CheckContext) -> pl.DataFrame:
    """(`id`, `table`, `source_id`, `cluster_id`, `members`) of every record, once per run."""
    found = ctx.cache.get(CLUSTERS)
    if found is None:
        found = cluster_ids(ctx.model, ctx.frames.tables).rename({"component": "cluster_id"})
        ctx.cache[CLUSTERS] = found
    return found


def _judged(ctx: CheckContext) -> pl.DataFrame | None:
    frame = ctx.frames.tables.get("judgements")
    if frame is None or frame.is_empty():
        return None
    where = ctx.doc_files.select(DOC, pl.format("{}:{}", "file", "line").alias("_at"))
    return frame.join(where, on=DOC, how="left")


def _article(row: pl.Expr) -> pl.Expr:
    vowel = row.str.slice(0, 1).is_in(list("aeiou"))
    return pl.when(vowel).then(pl.lit("an ")).otherwise(pl.lit("a ")) + row


def check_judged_records(ctx: CheckContext) -> list[Failures]:
    """Both sides of a judgement exist, differ, and are of one kind."""
    judged = _judged(ctx)
    if judged is None:
        return []
    records = clusters(ctx).select("id", "table").unique()
    rows = pl.DataFrame(
        {
            "table": [t.name for t in ctx.model.tables.values()],
            "row": [t.row for t in ctx.model.tables.values()],
        }
    )
    out = failures(
        "I206",
        judged.filter(pl.col("left") == pl.col("right")).select(
            pl.col(DOC).alias("_doc"),
            pl.lit("/right").alias("pointer"),
            pl.col("left").alias("ref"),
        ),
    )
    for side in ("left", "right"):
        missing = judged.filter(pl.col(side).is_not_null()).join(
            records, left_on=side, right_on="id", how="anti"
        )
        missing = missing.select(
            pl.col(DOC).alias("_doc"),
            pl.lit(f"/{side}").alias("pointer"),
            pl.col(side).alias("value"),
        )
        if missing.height:
            known = records["id"].to_list()
            missing = with_hints(missing, partial(did_you_mean, choices=known))
        out += failures("R311", missing.rename({"value": "ref"}))
    kinds = (
        judged.join(records.rename({"id": "left", "table": "_lt"}), on="left")
        .join(records.rename({"id": "right", "table": "_rt"}), on="right")
        .filter(pl.col("_lt") != pl.col("_rt"))
        .join(rows.rename({"table": "_lt", "row": "_lrow"}), on="_lt")
        .join(rows.rename({"table": "_rt", "row": "_rrow"}), on="_rt")
    )
    out += failures(
        "R312",
        kinds.select(
            pl.col(DOC).alias("_doc"),
            pl.lit("/right").alias("pointer"),
            "left",
            "right",
            _article(pl.col("_lrow")).alias("left_row"),
            _article(pl.col("_rrow")).alias("right_row"),
        ),
    )
    return out


def check_judgement_conflicts(ctx: CheckContext) -> list[Failures]:
    """A pair judged twice: the same verdict is a warning, another verdict an error."""
    judged = _judged(ctx)
    if judged is None:
        return []
    pairs = ordered(judged.filter(pl.col("left").is_not_null() & pl.col("right").is_not_null()))
    pairs = pairs.filter(pl.col("judgement").is_in(VERDICTS)).sort(DOC, "line")
    first = pairs.group_by("left", "right", "judgement").agg(
        pl.col("_at").first().alias("_first"), pl.col(DOC).first().alias("_first_doc")
    )
    with_first = pairs.join(first, on=["left", "right", "judgement"])
    repeated = with_first.filter(pl.col(DOC) != pl.col("_first_doc"))
    out = failures(
        "I207",
        repeated.select(
            pl.col(DOC).alias("_doc"),
            pl.lit("/judgement").alias("pointer"),
            "judgement",
            pl.col("_first").alias("other"),
        ),
    )
    others = first.rename({"judgement": "other_judgement", "_first": "other"})
    conflicting = (
        pairs.join(others, on=["left", "right"])
        .filter(pl.col("judgement") != pl.col("other_judgement"))
        .group_by(DOC, "judgement", maintain_order=True)
        .agg(pl.col("other_judgement").first(), pl.col("other").first())
    )
    out += failures(
        "C530",
        conflicting.select(
            pl.col(DOC).alias("_doc"),
            pl.lit("/judgement").alias("pointer"),
            "judgement",
            "other_judgement",
            "other",
        ),
    )
    return out


def check_different_in_cluster(ctx: CheckContext) -> list[Failures]:
    """A 'different' judgement between two records that the links join anyway."""
    judged = _judged(ctx)
    if judged is None:
        return []
    found = clusters(ctx).select("id", "cluster_id").unique("id")
    split = (
        judged.filter(pl.col("judgement") == "different")
        .join(found.rename({"id": "left", "cluster_id": "_lc"}), on="left")
        .join(found.rename({"id": "right", "cluster_id": "_rc"}), on="right")
        .filter((pl.col("_lc") == pl.col("_rc")) & (pl.col("left") != pl.col("right")))
    )
    return failures(
        "C531",
        split.select(
            pl.col(DOC).alias("_doc"),
            pl.lit("/judgement").alias("pointer"),
            "left",
            "right",
            pl.col("_lc").alias("cluster"),
            pl.lit(
                "remove the same_as link or the 'same' judgement that joins them, "
                "or judge this pair again"
            ).alias("hint"),
        ),
    )


def check_disagreements(ctx: CheckContext) -> list[Failures]:
    """Reports of one thing that disagree: a warning at each, naming the other."""
    found = disagreements(ctx.model, ctx.frames.tables, clusters(ctx))
    conflicts = found.filter(pl.col("conflict"))
    if conflicts.is_empty():
        return []
    docs = ctx.frames.documents
    others = [
        f"{docs[d].file}:{docs[d].locate(p)[0]}"
        for d, p in conflicts.select("other_doc", "other_pointer").iter_rows()
    ]
    rows = pl.DataFrame(
        {
            "table": [t.name for t in ctx.model.tables.values()],
            "row": [t.row for t in ctx.model.tables.values()],
        }
    )
    return failures(
        "C532",
        conflicts.join(rows, on="table", how="left", maintain_order="left").select(
            pl.col(DOC).cast(pl.UInt32).alias("_doc"),
            "pointer",
            "field",
            pl.format("'{}'", "value").alias("value"),
            pl.format("'{}'", "other_value").alias("other_value"),
            pl.Series("other", others, pl.String),
            "row",
            pl.col("cluster_id").alias("cluster"),
            pl.format(
                "the reports disagree; record both (the export lists each in 'disagreements'),"
                " or judge '{}' and '{}' different if they are two things",
                "id",
                "other_id",
            ).alias("hint"),
        ),
    )


CHECKS = (
    check_judged_records,
    check_judgement_conflicts,
    check_different_in_cluster,
    check_disagreements,
)
