"""The resolution family of checks: judgements name real records of one kind and do not
contradict each other or the clusters, and the reports of one thing agree (a warning
located at each report that disagrees, naming the other).

The joins and filters run on the run's engine; only failure cases are collected, and
file names, row labels and hints are added to them on the driver. The clusters are
found on the engine too (`toolkit.resolve.cluster`); the compared values of the records
in clusters of two or more are built once per run with polars and handed to the engine
as `derived` tables (see `_values` for why)."""

from __future__ import annotations

from functools import partial
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, with_hints
from toolkit.checks.suggest import did_you_mean
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR, table_rows
from toolkit.resolve.cluster import cluster_labels, clustered, records
from toolkit.resolve.disagree import conflicts, date_prefixes, read_tables, record_values
from toolkit.resolve.judgements import VERDICTS

LABELS = "resolve.labels"
LINKED = "resolve.linked"
VALUES = "resolve.values"
PREFIXES = "resolve.prefixes"
PAIR = ["_lo", "_hi"]
SLOTS = 4  # more than there are verdicts: `_doc` × SLOTS + a verdict's place is one number


def _labels(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    """`cluster.cluster_labels`, the rounds run once per run."""
    if LABELS not in ctx.cache:
        ctx.cache[LABELS] = cluster_labels(ctx)
    found = ctx.cache[LABELS]
    assert found is None or isinstance(found, nw.LazyFrame)
    return found


def _clusters(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """Every record of a cluster of two or more with its `cluster_id` and `members` on
    the engine (`cluster.clustered`)."""
    return clustered(ctx, _labels(ctx), several=True).rename({"component": "cluster_id"})


def clusters(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    """(`id`, `cluster_id`) of every id linked to another, one row per id (None: none
    is); any other id is a cluster of its own. A small table on the engine, so the
    engine plans the joins on it well (C531, the grounding family's G606); DuckDB
    mis-planned joins on `_clusters`, a plan over every record, and ran out of memory."""
    label = _labels(ctx)
    return None if label is None else label.rename({"component": "cluster_id"})


def _linked(ctx: CheckContext) -> pl.DataFrame:
    """The records in clusters of two or more, collected once per run: what the compared
    values (`_values`) are built from, with polars: the records linked to another or
    sharing their id with another, not every one."""
    found = ctx.cache.get(LINKED)
    if found is None:
        found = ctx.collect(_clusters(ctx))
        ctx.cache[LINKED] = found
    assert isinstance(found, pl.DataFrame)
    return found


def _judged(ctx: CheckContext) -> nw.LazyFrame[Any] | None:
    if not table_rows(ctx.frames.tables, "judgements"):
        return None
    return ctx.lazy("judgements")


def _at(ctx: CheckContext, frame: pl.DataFrame, doc: str, name: str) -> pl.DataFrame:
    """Collected failure cases with `name`: `file:line` of document `doc`."""
    where = ctx.doc_files.select(
        pl.col(DOC).cast(frame.schema[doc]).alias(doc),
        pl.format("{}:{}", "file", "line").alias(name),
    )
    return frame.join(where, on=doc, how="left", maintain_order="left")


def _rows(ctx: CheckContext) -> dict[str, str]:
    """Table → what one of its rows is called ('agreement')."""
    return {t.name: t.row for t in ctx.model.tables.values()}


def _article(row: pl.Expr) -> pl.Expr:
    vowel = row.str.slice(0, 1).is_in(list("aeiou"))
    return pl.when(vowel).then(pl.lit("an ")).otherwise(pl.lit("a ")) + row


def check_judged_records(ctx: CheckContext) -> list[Failures]:
    """Both sides of a judgement exist, differ, and are of one kind."""
    judged = _judged(ctx)
    if judged is None:
        return []
    ids = records(ctx).select("id", "table").unique()
    known = ids.select("id").unique()
    none = nw.lit(None, nw.String())

    def case(
        code: str, frame: nw.LazyFrame[Any], pointer: str, ref: Any, lt: Any, rt: Any
    ) -> nw.LazyFrame[Any]:
        return frame.select(
            nw.lit(code).alias("code"),
            nw.col(DOC).alias("_doc"),
            nw.lit(pointer).alias("pointer"),
            ref.alias("ref"),
            "left",
            "right",
            lt.alias("_lt"),
            rt.alias("_rt"),
        )

    same = judged.filter(nw.col("left") == nw.col("right"))
    cases = [case("I206", same, "/right", nw.col("left"), none, none)]
    for side in ("left", "right"):
        missing = judged.filter(~nw.col(side).is_null()).join(
            known, left_on=side, right_on="id", how="anti"
        )
        cases.append(case("R311", missing, f"/{side}", nw.col(side), none, none))
    kinds = (
        judged.join(ids.rename({"id": "left", "table": "_lt"}), on="left")
        .join(ids.rename({"id": "right", "table": "_rt"}), on="right")
        .filter(nw.col("_lt") != nw.col("_rt"))
    )
    cases.append(case("R312", kinds, "/right", none, nw.col("_lt"), nw.col("_rt")))
    found = ctx.collect(nw.concat(cases))
    if found.is_empty():
        return []
    out = failures("I206", found.filter(pl.col("code") == "I206").select("_doc", "pointer", "ref"))
    found_ids = ctx.collect(records(ctx).select("id", "_table", ROW))
    choices = found_ids.sort("_table", ROW)["id"].to_list()
    for side in ("left", "right"):
        bad = found.filter((pl.col("code") == "R311") & (pl.col("pointer") == f"/{side}"))
        bad = bad.select("_doc", "pointer", pl.col("ref").alias("value"))
        if bad.height:
            bad = with_hints(bad, partial(did_you_mean, choices=choices))
        out += failures("R311", bad.rename({"value": "ref"}))
    rows = _rows(ctx)
    crossed = found.filter(pl.col("code") == "R312")
    return out + failures(
        "R312",
        crossed.select(
            "_doc",
            "pointer",
            "left",
            "right",
            _article(pl.col("_lt").replace_strict(rows, return_dtype=pl.String)).alias("left_row"),
            _article(pl.col("_rt").replace_strict(rows, return_dtype=pl.String)).alias("right_row"),
        ),
    )


def check_judgement_conflicts(ctx: CheckContext) -> list[Failures]:
    """A pair judged twice: the same verdict is a warning, another verdict an error.

    The earlier judgement named is the first document judging the pair so; where a pair
    has two other verdicts, the earlier one (then the first in `VERDICTS`). Both are one
    number per row, `_doc` × `SLOTS` + the verdict's place, whose minimum the engine finds and
    the driver reads back."""
    judged = _judged(ctx)
    if judged is None:
        return []
    left, right = nw.col("left"), nw.col("right")
    pairs = judged.filter(
        ~left.is_null() & ~right.is_null() & nw.col("judgement").is_in(VERDICTS)
    ).select(
        DOC,
        "judgement",
        nw.when(left <= right).then(left).otherwise(right).alias("_lo"),
        nw.when(left <= right).then(right).otherwise(left).alias("_hi"),
    )
    first = pairs.group_by(*PAIR, "judgement").agg(nw.col(DOC).min().alias("_first_doc"))
    repeated = (
        pairs.join(first, on=[*PAIR, "judgement"])
        .filter(nw.col(DOC) != nw.col("_first_doc"))
        .select(nw.lit("I207").alias("code"), DOC, "judgement", _earlier("judgement").alias("_key"))
    )
    conflicting = (
        pairs.join(first.rename({"judgement": "_other"}), on=PAIR)
        .filter(nw.col("judgement") != nw.col("_other"))
        .group_by(DOC, "judgement")
        .agg(_earlier("_other").min().alias("_key"))
        .select(nw.lit("C530").alias("code"), DOC, "judgement", "_key")
    )
    found = ctx.collect(nw.concat([repeated, conflicting]))
    if found.is_empty():
        return []
    found = found.with_columns(
        pl.lit("/judgement").alias("pointer"),
        (pl.col("_key") // SLOTS).alias("_first_doc"),
        (pl.col("_key") % SLOTS)
        .replace_strict(list(range(len(VERDICTS))), list(VERDICTS), return_dtype=pl.String)
        .alias("other_judgement"),
    )
    found = _at(ctx, found, "_first_doc", "other")
    return failures(
        "I207",
        found.filter(pl.col("code") == "I207").select("_doc", "pointer", "judgement", "other"),
    ) + failures(
        "C530",
        found.filter(pl.col("code") == "C530").select(
            "_doc", "pointer", "judgement", "other_judgement", "other"
        ),
    )


def _earlier(verdict: str) -> nw.Expr:
    """`_first_doc` × `SLOTS` + the place of `verdict` in `VERDICTS`, as one Int64."""
    place = nw.lit(len(VERDICTS), nw.Int64())
    for i, name in reversed(list(enumerate(VERDICTS))):
        place = nw.when(nw.col(verdict) == name).then(nw.lit(i, nw.Int64())).otherwise(place)
    return nw.col("_first_doc").cast(nw.Int64()) * SLOTS + place


def check_different_in_cluster(ctx: CheckContext) -> list[Failures]:
    """A 'different' judgement between two records that the links join anyway."""
    judged = _judged(ctx)
    if judged is None:
        return []
    found = clusters(ctx)
    if found is None:  # a 'different' pair shares a cluster only through links
        return []
    split = (
        judged.filter(nw.col("judgement") == "different")
        .join(found.rename({"id": "left", "cluster_id": "_lc"}), on="left")
        .join(found.rename({"id": "right", "cluster_id": "_rc"}), on="right")
        .filter((nw.col("_lc") == nw.col("_rc")) & (nw.col("left") != nw.col("right")))
        .select(nw.col(DOC).alias("_doc"), "left", "right", nw.col("_lc").alias("cluster"))
    )
    return failures(
        "C531",
        ctx.collect(split).select(
            "_doc",
            pl.lit("/judgement").alias("pointer"),
            "left",
            "right",
            "cluster",
            pl.lit(
                "remove the same_as link or the 'same' judgement that joins them, "
                "or judge this pair again"
            ).alias("hint"),
        ),
    )


def _values(ctx: CheckContext) -> tuple[nw.LazyFrame[Any], nw.LazyFrame[Any]]:
    """The compared values of the records in clusters of two or more, and the prefixes of
    their dates, on the engine. Derived once with polars: a party set is a sorted, joined
    list and a step's field a name made of its parts, which the engines do not express
    alike (`disagree.record_values`); what disagrees with what is found on the engine."""
    built: dict[str, pl.DataFrame] = {}

    def values(tables: dict[str, pl.LazyFrame]) -> pl.DataFrame:
        # only the tables record_values reads, and of them the records in clusters of
        # two or more and the rows of their documents: what record_values joins to a
        # record (its parts, its source) is in its document
        linked = _linked(ctx)
        docs = linked[DOC].unique().cast(pl.Int64)
        places = linked.select(pl.col(DOC).cast(pl.Int64), PTR).lazy()
        own, parts = read_tables()
        held = {
            name: (
                frame.join(places, on=[DOC, PTR], how="semi")
                if name in own
                else frame.filter(pl.col(DOC).is_in(docs.implode()))
            ).collect()
            for name, frame in tables.items()
            if name in ctx.model.tables and name in own | parts
        }
        built[VALUES] = record_values(ctx.model, held, linked)
        return built[VALUES]

    found = ctx.derived(VALUES, values)
    prefixes = ctx.derived(
        PREFIXES, lambda tables: date_prefixes(built[VALUES] if built else values(tables))
    )
    return found, prefixes


def check_disagreements(ctx: CheckContext) -> list[Failures]:
    """Reports of one thing that disagree: a warning at each, naming the other."""
    if _linked(ctx).is_empty():
        return []
    found = ctx.collect(conflicts(*_values(ctx)))
    if found.is_empty():
        return []
    docs = ctx.frames.documents
    places = found.select("other_doc", "other_pointer").unique()
    where = {
        (d, p): f"{docs[d].file}:{docs[d].locate(p)[0]}"
        for d, p in places.iter_rows()  # one per holder, not per report
    }
    others = [where[d, p] for d, p in found.select("other_doc", "other_pointer").iter_rows()]
    rows = _rows(ctx)
    return failures(
        "C532",
        found.select(
            pl.col(DOC).cast(pl.UInt32).alias("_doc"),
            "pointer",
            "field",
            pl.format("'{}'", "value").alias("value"),
            pl.format("'{}'", "other_value").alias("other_value"),
            pl.Series("other", others, pl.String),
            pl.col("table").replace_strict(rows, return_dtype=pl.String).alias("row"),
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
