"""Grounding family: facts tied to the words they came from.

Evidence spans and quoted words must occur in the source's text copy (after the
normalisation in `toolkit.grounding`); machine extractions must show their work;
attributions stay within their source; the same fact entered twice is flagged.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.checks.texts import load_texts
from toolkit.frames.base import DOC, PTR
from toolkit.grounding import closest_passage, normalize_expr, original_span
from toolkit.resolve.checks import clusters as resolution_clusters

OFFSETS = "evidence_offsets"
MACHINE = ("model", "assisted")


def _spans(ctx: CheckContext) -> pl.DataFrame:
    """Every evidence span and every quote's words, with where they sit."""
    parts = []
    for table in ctx.model.fact_tables:
        frame = ctx.table(table.name).filter(pl.col("evidence").is_not_null())
        parts.append(
            frame.select(
                pl.lit(table.name).alias("table"),
                pl.col(DOC),
                pl.col(PTR),
                (pl.col(PTR) + "/evidence").alias("pointer"),
                pl.lit("G601").alias("code"),
                pl.col("evidence").alias("span"),
            )
        )
    quotes = ctx.table("statements").filter(
        pl.col("mode").is_in(["direct_quote", "partial_quote"]) & pl.col("text").is_not_null()
    )
    parts.append(
        quotes.select(
            pl.lit("statements").alias("table"),
            pl.col(DOC),
            pl.col(PTR),
            (pl.col(PTR) + "/text").alias("pointer"),
            pl.lit("G602").alias("code"),
            pl.col("text").alias("span"),
        )
    )
    return pl.concat(parts)


SPANS_AT_ONCE = 100_000  # each span is joined to its text: bounds the copies in memory


def _exact_offsets(spans: pl.DataFrame) -> pl.DataFrame:
    """Character offsets of spans found verbatim (`_byte` is where str.find found them)."""
    text, span = pl.col("source_text"), pl.col("span")
    return spans.with_columns(
        # str.find counts bytes; offsets are in characters, as Python and Arrow slice strings
        text.cast(pl.Binary)
        .bin.head(pl.col("_byte"))
        .cast(pl.String)
        .str.len_chars()
        .cast(pl.Int64)
        .alias("evidence_start"),
    ).with_columns((pl.col("evidence_start") + span.str.len_chars()).alias("evidence_end"))


def _ground(spans: pl.DataFrame, texts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(spans found verbatim with their offsets, spans not found with their text)."""
    spans = spans.join(texts, on=DOC, how="inner", maintain_order="left")
    spans = spans.with_columns(
        pl.col("source_text").str.find(pl.col("span"), literal=True).alias("_byte")
    )
    exact = _exact_offsets(spans.filter(pl.col("_byte").is_not_null())).drop("source_text")
    return exact, spans.filter(pl.col("_byte").is_null())


def check_grounding(ctx: CheckContext) -> list[Failures]:
    """Spans are joined to their texts a slice at a time, and only those not found as
    written are normalised: at a million facts the joined texts alone would be
    gigabytes, and normalising every text for the few that need it most of the time."""
    texts, _ = load_texts(ctx)
    spans = _spans(ctx)
    starts = range(0, max(spans.height, 1), SPANS_AT_ONCE)
    # two slices at a time: polars runs each slice's string search on one core, and
    # the other core is idle while the checks run (1M facts: 2.4 -> 1.4 s, +70 MB)
    with ThreadPoolExecutor(min(2, os.cpu_count() or 1), "factkit-ground") as pool:
        found = list(pool.map(lambda at: _ground(spans.slice(at, SPANS_AT_ONCE), texts), starts))
    exact = pl.concat([f[0] for f in found])
    rest = pl.concat([f[1] for f in found])
    text, span = pl.col("source_text"), pl.col("span")
    rest = rest.with_columns(
        normalize_expr(text).str.find(normalize_expr(span), literal=True).alias("_norm")
    )
    fuzzy = rest.filter(pl.col("_norm").is_not_null())
    mapped = [original_span(t, s) for t, s in fuzzy.select("source_text", "span").iter_rows()]
    fuzzy = fuzzy.with_columns(
        pl.Series("evidence_start", [m[0] if m else None for m in mapped], pl.Int64),
        pl.Series("evidence_end", [m[1] if m else None for m in mapped], pl.Int64),
    )
    columns = ["table", DOC, PTR, "code", "evidence_start", "evidence_end"]
    located = pl.concat([exact.select(columns), fuzzy.select(columns)])
    located = located.filter(pl.col("code") == "G601")
    ctx.cache[OFFSETS] = located.select("table", DOC, PTR, "evidence_start", "evidence_end")
    misses = rest.filter(pl.col("_norm").is_null())
    hints = [
        f"closest passage: '{closest_passage(t, s)}'"
        for t, s in misses.select("source_text", "span").iter_rows()
    ]
    misses = misses.with_columns(pl.Series("hint", hints, pl.String))
    out: list[Failures] = []
    for code in ("G601", "G602"):
        out += failures(
            code,
            misses.filter(pl.col("code") == code).select(
                pl.col(DOC).alias("_doc"), "pointer", "hint"
            ),
        )
    return out


def _machine_facts(ctx: CheckContext) -> pl.DataFrame:
    return pl.concat(
        [
            ctx.table(t.name)
            .filter(pl.col("extraction_method").is_in(MACHINE))
            .select(pl.col(DOC), pl.col(PTR), "evidence", "confidence", "extraction_method")
            for t in ctx.model.fact_tables
        ]
    )


def check_machine_facts(ctx: CheckContext) -> list[Failures]:
    facts = _machine_facts(ctx)
    out = failures(
        "G603",
        facts.filter(pl.col("evidence").is_null()).select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
            pl.col("extraction_method").alias("method"),
            key=pl.lit(True),
            hint=pl.lit("copy the sentence the fact rests on into 'evidence'"),
        ),
    )
    out += failures(
        "G607",
        facts.filter(pl.col("confidence").is_null()).select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
            pl.col("extraction_method").alias("method"),
            key=pl.lit(True),
        ),
    )
    texts, _ = load_texts(ctx)
    ungrounded = facts.join(texts, on=DOC, how="anti").group_by(DOC).agg(pl.len().alias("count"))
    out += failures(
        "G604",
        ungrounded.sort(DOC).select(
            pl.col(DOC).alias("_doc"),
            pl.lit("/source").alias("pointer"),
            "count",
            key=pl.lit(True),
            hint=pl.lit("add the source's plain text under texts/ and set source.text"),
        ),
    )
    return out


def check_attribution(ctx: CheckContext) -> list[Failures]:
    """`asserted_by` names a statement of the fact's own source, whose speaker is known."""
    out: list[Failures] = []
    anonymous = ctx.table("statements").filter(pl.col("speaker").is_null())["id"].drop_nulls()
    for table in ctx.model.fact_tables:
        frame = ctx.table(table.name)
        if "asserted_by" not in frame.columns:
            continue
        elsewhere = frame.filter(
            pl.col("asserted_by").is_not_null()
            & pl.col("source_id").is_not_null()
            & ~pl.col("asserted_by").str.starts_with(pl.col("source_id") + "/")
        )
        out += failures(
            "G605",
            elsewhere.select(
                pl.col(DOC).alias("_doc"),
                (pl.col(PTR) + "/asserted_by").alias("pointer"),
                pl.col("asserted_by").alias("ref"),
                hint=pl.lit(
                    "a fact is asserted by a statement of its own source; "
                    "link facts across sources with same_as"
                ),
            ),
        )
        unattributed = frame.filter(pl.col("asserted_by").is_in(anonymous.implode()))
        out += failures(
            "G608",
            unattributed.select(
                pl.col(DOC).alias("_doc"),
                (pl.col(PTR) + "/asserted_by").alias("pointer"),
                pl.col("asserted_by").alias("ref"),
                hint=pl.lit("give the statement a speaker, or leave asserted_by out"),
            ),
        )
    return out


def _duplicates(
    ctx: CheckContext, frame: pl.DataFrame, key: list[pl.Expr], what: str
) -> list[Failures]:
    """Facts from different sources sharing a key, unless one cluster already holds both
    (a same_as link, a chain of them, or a 'same' judgement)."""
    keyed = (
        frame.with_columns(pl.concat_str(key, separator="\x1f").alias("_key"))
        .filter(pl.col("_key").is_not_null())
        .with_row_index("_order")
    )
    first = (
        keyed.sort("_order")
        .group_by("_key", maintain_order=True)
        .agg(
            pl.col("id").first().alias("_first_id"),
            pl.col(DOC).first().alias("_first_doc"),
            pl.col(PTR).first().alias("_first_ptr"),
            pl.col("source_id").first().alias("_first_src"),
        )
    )
    later = keyed.join(first, on="_key").filter(pl.col("source_id") != pl.col("_first_src"))
    # linked already, by same_as or a 'same' judgement (one mechanism: the clusters)
    cluster = resolution_clusters(ctx).select("id", "cluster_id")
    later = (
        later.join(cluster, on="id", how="left")
        .join(
            cluster.rename({"id": "_first_id", "cluster_id": "_first_cluster"}),
            on="_first_id",
            how="left",
        )
        .filter(pl.col("cluster_id").is_null() | (pl.col("cluster_id") != pl.col("_first_cluster")))
    )
    if later.is_empty():
        return []
    docs = ctx.frames.documents
    others = [
        f"{docs[d].file}:{docs[d].locate(p)[0]}"
        for d, p in later.select("_first_doc", "_first_ptr").iter_rows()
    ]
    return failures(
        "G606",
        later.select(
            pl.col(DOC).alias("_doc"),
            pl.col(PTR).alias("pointer"),
            pl.lit(what).alias("what"),
            pl.Series("other", others, pl.String),
            pl.format(
                "if it is the same fact, set same_as: {} (or judge the pair same: factkit xref"
                " --review)",
                pl.col("_first_id"),
            ).alias("hint"),
        ),
    )


def check_duplicates(ctx: CheckContext) -> list[Failures]:
    statements = ctx.table("statements").filter(pl.col("mode") != "paraphrase")
    out = _duplicates(
        ctx,
        statements,
        [pl.col("speaker"), normalize_expr(pl.col("text"))],
        "quote by the same speaker",
    )
    items = (
        ctx.table("supply_items")
        .group_by("supply_id")
        .agg(pl.col("category").drop_nulls().unique().sort().str.join(",").alias("_cats"))
    )
    supplies = ctx.table("supplies").join(items, left_on="id", right_on="supply_id", how="left")
    out += _duplicates(
        ctx,
        supplies,
        [pl.col("supplier"), pl.col("recipient"), pl.col("polarity"), pl.col("_cats")],
        "supply",
    )
    parties = (
        ctx.table("agreement_parties")
        .filter(pl.col("role") == "party")
        .group_by("agreement_id")
        .agg(pl.col("actor").drop_nulls().unique().sort().str.join(",").alias("_p"))
    )
    agreements = ctx.table("agreements").join(
        parties, left_on="id", right_on="agreement_id", how="left"
    )
    out += _duplicates(
        ctx,
        agreements,
        [normalize_expr(pl.col("title")).str.to_lowercase(), pl.col("_p")],
        "agreement",
    )
    return out


CHECKS = (check_grounding, check_machine_facts, check_attribution, check_duplicates)
