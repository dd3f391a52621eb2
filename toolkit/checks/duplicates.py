"""G606: the same fact entered from two sources (a quote by the same speakers, a supply,
an agreement), unless a link already joins them.

Runs on the run's engine: each fact's key is made there and hashed to an Int64
(`CheckContext.with_hash`; narwhals has no hash); among the facts whose hash another
shares, the first of each hash (the lowest `_row`) is found there, and the later ones
from other sources are the only rows collected, flagged when no cluster joins them to
it. The group-by, window and join hold the hash, not the key: a quote's key is its
whole text, and grouping on keys raised a 3M-fact run's peak memory by 575 MB, the most
of any stage (67-220 MB on hashes). Only the keys of the rows collected (and of the first
facts they name) are made again and compared; a hash two keys share (none seen in
practice) has its facts grouped again on their keys, so the report is the one keys give
(`_found`). A key compares texts in grounding's normal form
(`toolkit.grounding.normalize`: Unicode NFC, plain quotes and dashes, single spaces),
which Spark SQL cannot compute and DuckDB only in part: that form is computed by a
streaming polars query that keeps only the texts it changes, and handed to the engine as
a small `derived` table (`_normal_forms`), joined first where the keys are made (polars
then keeps the small table, not the facts, as a join's side in memory). A party or
category set is a sorted, joined list of values (`_joined`).
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, lowest
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR
from toolkit.grounding import normalize_expr
from toolkit.resolve.checks import clusters

NORMAL = "G606.normal"
QUOTES, SUPPLIES, AGREEMENTS = 0, 1, 2
WHAT = {QUOTES: "quote by the same speaker", SUPPLIES: "supply", AGREEMENTS: "agreement"}
SEP = "\x1f"  # between the parts of a key
HASH = "_hash"  # of the key (`CheckContext.with_hash`)
FACT = ["id", DOC, PTR, "source_id", ROW]
# a fact to report, and where the first of its key is
OUT_SCHEMA = {
    "_part": pl.Int64,
    DOC: pl.UInt32,
    PTR: pl.String,
    "_first_id": pl.String,
    "_first_doc": pl.Int64,
    "_first_ptr": pl.String,
}
OUT = list(OUT_SCHEMA)
HINT = "if it is the same fact, set same_as: {} (or judge the pair same: factkit xref --review)"


def _normal_forms(tables: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    """(`_part`, `_raw`, `_norm`): the normal form of each distinct quoted text (part
    `QUOTES`) and, lower-cased, of each distinct agreement title (`AGREEMENTS`), only
    where it is not the text itself (most quotes are already normal), so the key is
    `_norm` where there is one, else the text.

    Built with polars where the tables are staged, because the engines cannot normalise
    alike (Spark has no NFC): one streaming query that normalises each text as it passes
    and keeps the few that change, so it holds neither a column nor its distinct texts."""
    quotes = tables["statements"].filter(pl.col("mode") != "paraphrase").select("text")
    titles = tables["agreements"].select(pl.col("title").alias("text"))
    parts = []
    for part, values, lower in ((QUOTES, quotes, False), (AGREEMENTS, titles, True)):
        norm = normalize_expr(pl.col("_raw"))
        frame = values.select(pl.col("text").alias("_raw")).drop_nulls()
        frame = frame.with_columns((norm.str.to_lowercase() if lower else norm).alias("_norm"))
        parts.append(
            frame.filter(pl.col("_norm") != pl.col("_raw")).select(
                pl.lit(part, pl.Int64).alias("_part"), "_raw", "_norm"
            )
        )
    return pl.concat(parts).unique().collect()


def _normal(ctx: CheckContext, part: int, column: str) -> nw.LazyFrame[Any]:
    """`column` → `_norm` of one part of `_normal_forms`, on the engine."""
    return (
        ctx.derived(NORMAL, _normal_forms)
        .filter(nw.col("_part") == part)
        .select(nw.col("_raw").alias(column), "_norm")
    )


def _sets(ctx: CheckContext) -> dict[str, nw.LazyFrame[Any]]:
    """(group, `value`) of each set a key holds: the speakers of a statement (by `_row`,
    repeats kept), the distinct categories of a supply's items, the distinct actors
    among an agreement's parties."""
    return {
        ROW: ctx.items("statements", "speakers").select(ROW, "value"),
        "supply_id": ctx.lazy("supply_items")
        .filter(~nw.col("supply_id").is_null() & ~nw.col("category").is_null())
        .select("supply_id", nw.col("category").alias("value"))
        .unique(),
        "agreement_id": _parties(ctx)
        .filter(~nw.col("actor").is_null())
        .select("agreement_id", nw.col("actor").alias("value"))
        .unique(),
    }


def _parties(ctx: CheckContext) -> nw.LazyFrame[Any]:
    return ctx.lazy("agreement_parties").filter(
        (nw.col("role") == "party") & ~nw.col("agreement_id").is_null()
    )


def _widths(ctx: CheckContext, sets: dict[str, nw.LazyFrame[Any]]) -> dict[str, int]:
    """The most values a group of each set holds, in one query."""
    found = ctx.collect(
        nw.concat(
            [
                frame.group_by(by)
                .agg(nw.len().cast(nw.Int64()).alias("n"))
                .select(nw.col("n").max())
                .with_columns(nw.lit(i, nw.Int64()).alias("_i"))
                for i, (by, frame) in enumerate(sets.items())
            ]
        )
    )
    most = dict(zip(found["_i"].to_list(), found["n"].to_list(), strict=True))
    return {by: int(most.get(i) or 0) for i, by in enumerate(sets)}


def _joined(frame: nw.LazyFrame[Any], by: str, width: int) -> nw.LazyFrame[Any]:
    """(`by`, `_joined`): each group's values sorted and joined with ',', as polars'
    `list.sort().list.join(',')` makes them. The engines share no string aggregation, so
    each value takes its place in its group's order and the places become `width`
    columns, joined. A group of one or two values (most sets) needs no places: its
    smallest value, then its largest when there are two, in one group-by (places are a
    window, which holds every row)."""
    if width <= 2:
        two = nw.when(nw.col("_n") > 1).then(nw.col("_v1"))
        return (
            frame.group_by(by)
            .agg(
                nw.col("value").min().alias("_v0"),
                nw.col("value").max().alias("_v1"),
                nw.len().alias("_n"),
            )
            .select(
                by,
                nw.concat_str([nw.col("_v0"), two], separator=",", ignore_nulls=True).alias(
                    "_joined"
                ),
            )
        )
    places = [f"_v{i}" for i in range(width)]
    return (
        frame.with_columns(nw.col("value").rank("ordinal").over(by).alias("_at"))
        .with_columns(
            *(
                nw.when(nw.col("_at") == i + 1).then(nw.col("value")).alias(p)
                for i, p in enumerate(places)
            )
        )
        .group_by(by)
        .agg(*(nw.col(p).max() for p in places))
        .select(
            by,
            nw.concat_str([nw.col(p) for p in places], separator=",", ignore_nulls=True).alias(
                "_joined"
            ),
        )
    )


def _set_of(members: nw.LazyFrame[Any], by: str, joined: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """(`id`, `_set`): the joined set of each record `by` names in `members` (a supply's
    categories, an agreement's parties); '' for one whose members hold none of the values,
    so its key still forms."""
    return (
        members.select(by)
        .unique()
        .join(joined, on=by, how="left")
        .select(nw.col(by).alias("id"), nw.coalesce(nw.col("_joined"), nw.lit("")).alias("_set"))
    )


def _only(frame: nw.LazyFrame[Any], on: str, keep: nw.LazyFrame[Any] | None) -> nw.LazyFrame[Any]:
    """The rows of `frame` whose `on` is in `keep` (all of them: None)."""
    return frame if keep is None else frame.join(keep, on=on, how="semi")


def _keyed(
    ctx: CheckContext, part: int, widths: dict[str, int], rows: nw.LazyFrame[Any] | None = None
) -> nw.LazyFrame[Any]:
    """(`_part`, `_key`, `id`, `_doc`, `_ptr`, `source_id`, `_row`) of every fact of `part`
    with a key: quotes by speakers and normal text, supplies by supplier, recipient,
    polarity and categories, agreements by lower-cased normal title and parties. A set is
    '' for a record with none of its values, and the key null (no key) for one without the
    set. `rows` (`_row`): only those facts, their sets made of their own members alone."""
    sets = _sets(ctx)
    if part == QUOTES:
        speakers = nw.col("speakers").list.len()
        frame = (
            _only(ctx.lazy("statements").filter(nw.col("mode") != "paraphrase"), ROW, rows)
            .join(_normal(ctx, QUOTES, "text"), on="text", how="left")
            .join(_joined(_only(sets[ROW], ROW, rows), ROW, widths[ROW]), on=ROW, how="left")
        )
        parts = [
            nw.when(~speakers.is_null()).then(nw.coalesce(nw.col("_joined"), nw.lit(""))),
            nw.coalesce(nw.col("_norm"), nw.col("text")),
        ]
    else:
        table, by = (
            ("supplies", "supply_id") if part == SUPPLIES else ("agreements", "agreement_id")
        )
        frame = _only(ctx.lazy(table), ROW, rows)
        ids = None if rows is None else frame.select(nw.col("id").alias(by)).unique()
        members = (
            ctx.lazy("supply_items").filter(~nw.col("supply_id").is_null())
            if part == SUPPLIES
            else _parties(ctx)
        )
        joined = _joined(_only(sets[by], by, ids), by, widths[by])
        frame = frame.join(_set_of(_only(members, by, ids), by, joined), on="id", how="left")
        if part == SUPPLIES:
            parts = [nw.col(c) for c in ("supplier", "recipient", "polarity", "_set")]
        else:
            frame = frame.join(_normal(ctx, AGREEMENTS, "title"), on="title", how="left")
            parts = [nw.coalesce(nw.col("_norm"), nw.col("title")), nw.col("_set")]
    return (
        frame.with_columns(nw.concat_str(parts, separator=SEP).alias("_key"))
        .filter(~nw.col("_key").is_null())
        .select(nw.lit(part, nw.Int64()).alias("_part"), "_key", *FACT)
    )


def _pairs(facts: nw.LazyFrame[Any], by: str) -> nw.LazyFrame[Any]:
    """The facts from another source than the first (lowest `_row`) of their `by` group
    (`_hash`, or `_key` where hashes collide), with where that first fact is."""
    first = lowest(facts, ["_part", by], ROW).select(
        "_part",
        by,
        nw.col(ROW).alias("_first_row"),
        nw.col("id").alias("_first_id"),
        nw.col(DOC).alias("_first_doc"),
        nw.col(PTR).alias("_first_ptr"),
        nw.col("source_id").alias("_first_src"),
    )
    return facts.join(first, on=["_part", by]).filter(nw.col("source_id") != nw.col("_first_src"))


def _flagged(ctx: CheckContext, pairs: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """`pairs` with `_report`: no cluster joins the fact to the first of its group (an id
    no link joins to another is a cluster of its own)."""
    ours, theirs = nw.col("id"), nw.col("_first_id")
    cluster = clusters(ctx)
    if cluster is not None:
        pairs = pairs.join(cluster, on="id", how="left").join(
            cluster.rename({"id": "_first_id", "cluster_id": "_first_cluster"}),
            on="_first_id",
            how="left",
        )
        ours = nw.coalesce(nw.col("cluster_id"), ours)
        theirs = nw.coalesce(nw.col("_first_cluster"), theirs)
    return pairs.with_columns((ours.is_null() | (ours != theirs)).alias("_report"))


def _found(ctx: CheckContext, part: int, widths: dict[str, int]) -> pl.DataFrame:
    """The facts of `part` to report, with where the first of their key is (`OUT`).

    Grouped on a hash of the key (`ctx.with_hash`), so that no group-by, window or join
    holds every fact's key (a quote's is its whole text): the hashes two facts or more
    share (a group-by of integers, the only step over every fact), then among their facts
    alone the first of each hash and the later copies from other sources. The keys of
    those pairs are then made again, for their rows alone, and compared: a hash two keys
    share has its facts grouped again on the keys, so the report is the one keys give."""
    hashed = ctx.with_hash(_keyed(ctx, part, widths), "_key", HASH)
    shared = ctx.collect(
        hashed.group_by("_part", HASH).agg(nw.len().alias("_n")).filter(nw.col("_n") > 1)
    )
    if shared.is_empty():
        return pl.DataFrame(schema=OUT_SCHEMA)
    facts = hashed.join(ctx.small(shared.select("_part", HASH)), on=["_part", HASH], how="semi")
    pairs = ctx.collect(
        _flagged(ctx, _pairs(facts.select("_part", HASH, *FACT), HASH)).select(
            HASH, ROW, "_first_row", "_report", *OUT
        )
    )
    if pairs.is_empty():
        return pairs.select(OUT)
    rows = pl.concat([pairs[ROW], pairs["_first_row"]]).unique().to_frame(ROW)
    keys = ctx.collect(_keyed(ctx, part, widths, ctx.small(rows)).select(ROW, "_key"))
    collided = (
        pairs.join(keys, on=ROW)
        .join(keys.rename({ROW: "_first_row", "_key": "_first_key"}), on="_first_row")
        .filter(pl.col("_key") != pl.col("_first_key"))[HASH]
        .unique()
        .to_list()
    )
    found = pairs.filter(pl.col("_report") & ~pl.col(HASH).is_in(collided)).select(OUT)
    if not collided:
        return found
    facts = hashed.filter(nw.col(HASH).is_in(collided)).select("_part", "_key", *FACT)
    exact = ctx.collect(_flagged(ctx, _pairs(facts, "_key")).filter(nw.col("_report")).select(OUT))
    return pl.concat([found, exact], how="vertical_relaxed")


def check_duplicates(ctx: CheckContext) -> list[Failures]:
    """Facts from different sources sharing a key, each reported once, at every copy from
    another source than the first of its key, unless one cluster already holds both (a
    same_as link, a chain of them, or a 'same' judgement).

    One query per kind of fact (keys of two kinds never meet), one after the other: in
    one query, polars held the joins and windows of the three kinds at once."""
    sets = _sets(ctx)
    widths = _widths(ctx, sets)
    found = pl.concat([_found(ctx, part, widths) for part in WHAT], how="vertical_relaxed")
    if found.is_empty():
        return []
    docs = ctx.frames.documents
    others = [
        f"{docs[d].file}:{docs[d].locate(p)[0]}"
        for d, p in found.select("_first_doc", "_first_ptr").iter_rows()
    ]
    found = found.with_columns(pl.Series("other", others, pl.String))
    out: list[Failures] = []
    for part, what in WHAT.items():
        out += failures(
            "G606",
            found.filter(pl.col("_part") == part).select(
                pl.col(DOC).alias("_doc"),
                pl.col(PTR).alias("pointer"),
                pl.lit(what).alias("what"),
                "other",
                pl.format(HINT, pl.col("_first_id")).alias("hint"),
            ),
        )
    return out
