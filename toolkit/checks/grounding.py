"""Grounding family: facts tied to the words they came from.

Evidence spans and quoted words must occur in the source's text copy (after the
normalisation in `toolkit.grounding`); machine extractions must show their work;
attributions stay within their source; the same fact entered twice is flagged
(`toolkit.checks.duplicates`).

Exact grounding runs on the engine: every span joined to its source's staged text and
kept if the text does not contain it as written. Only those misses come back to the
driver, where the normalised pass, its offsets and the closest-passage hints run.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.checks.duplicates import check_duplicates
from toolkit.checks.hints import grounding_hint
from toolkit.checks.texts import staged_texts
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR
from toolkit.grounding import EVIDENCE, NormalText, grounded_columns, normalize
from toolkit.passages import HINT_BUDGET, PassageIndex
from toolkit.stage.texts import TEXTS, SourceTexts

MACHINE = ("model", "assisted")


def _spans(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """Every grounded span and every quote's words, with where they sit; `_part` and
    `_row` give the order in which the misses get closest-passage hints."""
    parts = [
        (table, code, ~nw.col(column).is_null(), column, suffix)
        for table, column, suffix, code in grounded_columns(ctx.model)
    ]
    quoted = nw.col("mode").is_in(["direct_quote", "partial_quote"]) & ~nw.col("text").is_null()
    parts.append(("statements", "G602", quoted, "text", "/text"))
    return nw.concat(
        [
            ctx.lazy(table)
            .filter(keep)
            .select(
                nw.lit(table).alias("table"),
                nw.col(DOC),
                nw.col(PTR),
                nw.lit(suffix).alias("_suffix"),
                nw.lit(code).alias("code"),
                nw.col(column).alias("span"),
                nw.lit(part).alias("_part"),
                nw.col(ROW),
            )
            for part, (table, code, keep, column, suffix) in enumerate(parts)
        ],
        how="vertical",
    )


_NOTHING_CLOSE = "no passage of the text shares three words in a row with it"
_UNSEARCHED = (
    f"the closest passage is searched for the first {HINT_BUDGET:,} spans of a run that "
    "do not occur in their text"
)
# bytes searched (a text's size × its spans): from here a text's spans are not searched
# one by one as written, but found through one index of its normal form (`_find`): one
# search per span of a 15 MB text costs seconds on every engine
BIG_WORK = 64 << 20
# what comes back of a span; its pointer is made only for those that come back
_REST: list[str | nw.Expr] = [
    "table",
    DOC,
    PTR,
    nw.concat_str([nw.col(PTR), nw.col("_suffix")]).alias("pointer"),
    "code",
    "span",
    "_part",
    ROW,
]


def _unfound(ctx: CheckContext) -> pl.DataFrame:
    """The spans not found as written (`_verbatim` false), and all the spans of texts
    too big to search once per span (`_verbatim` true: not searched yet), in the order
    their hints are given: one query on the engine (on polars, one per part of the
    texts, so that one part of them is in memory at a time), the misses collected."""

    def unfound(docs: tuple[int, int] | None) -> nw.LazyFrame[Any]:
        spans, texts = _spans(ctx), ctx.lazy(TEXTS)
        if docs is not None:
            spans = spans.filter(nw.col(DOC).is_between(*docs))
            texts = texts.filter(nw.col(DOC).is_between(*docs))
        big = (
            spans.group_by(DOC)
            .agg(nw.len().alias("_spans"))
            .join(texts.select(DOC, "size"), on=DOC, how="inner")
            .filter(nw.col("_spans") * nw.col("size") > BIG_WORK)
            .select(DOC)
        )
        misses = (
            spans.join(big, on=DOC, how="anti")
            .join(texts.select(DOC, "source_text"), on=DOC, how="inner")
            .filter(~nw.col("source_text").str.contains(nw.col("span"), literal=True))
            .select(*_REST, nw.lit(False).alias("_verbatim"))
        )
        unsearched = spans.join(big, on=DOC, how="semi").select(
            *_REST, nw.lit(True).alias("_verbatim")
        )
        return nw.concat([misses, unsearched], how="vertical")

    rest = ctx.collect_ranges(unfound, staged_texts(ctx).ranges())
    return rest.sort("_verbatim", "_part", ROW)


def _find(
    normal: NormalText, index: PassageIndex, span: str, raw: str | None
) -> tuple[int, int] | None:
    """Offsets of normalised `span` in the text: with `raw` (a span of a long text, not
    searched as written yet), of its first verbatim occurrence if it has one, as the
    search of short texts as written gives; else of its first normalised occurrence."""
    if not span:
        return None
    found = index.occurrences(span)
    if found is None:  # the index cannot tell: search the plain way
        if raw is not None and (at := normal.text.find(raw)) >= 0:
            return at, at + len(raw)
        return normal.span(span)
    if raw is not None:
        for at in found:
            where = normal.span(span, at)
            if where is not None and normal.text[where[0] : where[1]] == raw:
                return where
    return normal.span(span, found[0]) if found else None


def _normalised(rest: pl.DataFrame, texts: SourceTexts) -> pl.DataFrame:
    """The spans not found as written, with their offsets once normalised (null: not
    found) and, for those still not found, a hint. Each text is normalised once, with its
    offset map, and one index of its words serves all its spans, to find them and, for
    those not there, their closest passage (`toolkit.passages`); past HINT_BUDGET misses
    in a run, no passage is searched. The texts of the misses' documents are read from
    the staged parts, not fetched back from the engine."""
    own = texts.read(rest[DOC], (DOC, "source_text"))
    text_of = dict(zip(own[DOC].to_list(), own["source_text"].to_list(), strict=True))
    by_text: dict[str, list[int]] = {}  # sources sharing a text share its work
    docs, spans = rest[DOC].to_list(), [normalize(s) for s in rest["span"].to_list()]
    for row, doc in enumerate(docs):
        by_text.setdefault(text_of[doc], []).append(row)
    starts: list[int | None] = [None] * rest.height
    ends: list[int | None] = [None] * rest.height
    hints: list[str | None] = [None] * rest.height
    verbatim = rest["_verbatim"].to_list()
    raw = rest["span"].to_list()
    budget = HINT_BUDGET
    for text, rows in by_text.items():
        normal = NormalText(text)
        index = PassageIndex(normal.norm, [spans[r] for r in rows])
        for row in rows:
            where = _find(normal, index, spans[row], raw[row] if verbatim[row] else None)
            if where is not None:
                starts[row], ends[row] = where
            elif budget > 0:
                budget -= 1
                # the whole aligned passage (context: every word), which the hint cuts
                passage = index.closest(spans[row], context=len(spans[row]))
                hints[row] = grounding_hint(spans[row], passage) if passage else _NOTHING_CLOSE
            else:
                hints[row] = _UNSEARCHED
    return rest.with_columns(
        pl.Series("evidence_start", starts, pl.Int64),
        pl.Series("evidence_end", ends, pl.Int64),
        pl.Series("hint", hints, pl.String),
    )


def check_grounding(ctx: CheckContext) -> list[Failures]:
    """Exact grounding on the engine, the rest on the driver over the misses only. Hands
    the export `ctx.evidence`: the evidence spans searched here on the driver, with their
    offsets (null: not grounded); `toolkit.grounding.evidence_offsets` adds those of the
    evidence found as written."""
    rest = _normalised(_unfound(ctx), staged_texts(ctx))
    ctx.evidence = rest.filter(pl.col("code") == EVIDENCE).select(
        "table", DOC, PTR, "evidence_start", "evidence_end"
    )
    misses = rest.filter(pl.col("evidence_start").is_null())
    out: list[Failures] = []
    for code in (EVIDENCE, "G602", "G609"):
        out += failures(
            code,
            misses.filter(pl.col("code") == code).select(
                pl.col(DOC).alias("_doc"), "pointer", "hint"
            ),
        )
    return out


def _machine_facts(ctx: CheckContext) -> nw.LazyFrame[Any]:
    return nw.concat(
        [
            ctx.lazy(t.name)
            .filter(nw.col("extraction_method").is_in(MACHINE))
            .select(  # what is missing, not the evidence itself: 1.5 GB at 10M facts
                DOC,
                PTR,
                nw.col("evidence").is_null().alias("_no_evidence"),
                nw.col("confidence").is_null().alias("_no_confidence"),
                "extraction_method",
            )
            for t in ctx.model.fact_tables
        ],
        how="vertical",
    )


_MACHINE_HINTS = {
    "G603": "copy the sentence the fact rests on into 'evidence'",
    "G604": "add the source's plain text under texts/ and set source.text",
}


def check_machine_facts(ctx: CheckContext) -> list[Failures]:
    """Machine extractions without evidence (G603) or confidence (G607), and sources with
    machine facts but no text copy staged (G604, one per source): one engine query."""
    facts = _machine_facts(ctx)
    no_count = nw.lit(None, nw.Int64()).alias("count")
    per_fact = [
        facts.filter(nw.col(column)).select(
            nw.lit(code).alias("code"),
            DOC,
            nw.col(PTR).alias("pointer"),
            nw.col("extraction_method").alias("method"),
            no_count,
        )
        for code, column in (("G603", "_no_evidence"), ("G607", "_no_confidence"))
    ]
    ungrounded = (
        facts.join(ctx.lazy(TEXTS).select(DOC), on=DOC, how="anti")
        .group_by(DOC)
        .agg(nw.len().cast(nw.Int64()).alias("count"))
        .select(
            nw.lit("G604").alias("code"),
            DOC,
            nw.lit("/source").alias("pointer"),
            nw.lit(None, nw.String()).alias("method"),
            "count",
        )
    )
    found = ctx.collect(nw.concat([*per_fact, ungrounded], how="vertical"))
    out: list[Failures] = []
    for code, shown in (("G603", "method"), ("G607", "method"), ("G604", "count")):
        frame = found.filter(pl.col("code") == code).select(
            "_doc",
            "pointer",
            pl.col("count").cast(pl.UInt32) if shown == "count" else pl.col("method"),
            key=pl.lit(True),
            **({"hint": pl.lit(_MACHINE_HINTS[code])} if code in _MACHINE_HINTS else {}),
        )
        out += failures(code, frame)
    return out


def check_attribution(ctx: CheckContext) -> list[Failures]:
    """Each `asserted_by` item names a statement of the fact's own source, whose speaker
    (an actor or a group) is known. Two queries on the engine over every fact table's
    items; a ref's source is the part before its first slash (no `starts_with` of a
    column on every engine)."""
    parts = [
        ctx.items(table.name, "asserted_by")
        .join(ctx.lazy(table.name).select(ROW, "source_id"), on=ROW)
        .select(
            DOC,
            nw.concat_str(
                [nw.col(PTR), nw.lit("/asserted_by/"), nw.col("_i").cast(nw.String())]
            ).alias("pointer"),
            nw.col("value").alias("ref"),
            "source_id",
        )
        for table in ctx.model.fact_tables
        if "asserted_by" in ctx.columns(table.name)
    ]
    if not parts:
        return []
    items = nw.concat(parts)
    elsewhere = items.filter(
        ~nw.col("source_id").is_null()
        & (
            ~nw.col("ref").str.contains("/", literal=True)
            | (nw.col("ref").str.replace_all(r"(?s)/.*", "") != nw.col("source_id"))
        )
    )
    hint = (
        "a fact is asserted by a statement of its own source; link facts across sources "
        "with same_as"
    )
    out = failures(
        "G605",
        ctx.collect(elsewhere.select(DOC, "pointer", "ref")).with_columns(hint=pl.lit(hint)),
    )
    anonymous = (
        ctx.lazy("statements")
        .filter(
            ~nw.col("id").is_null()
            & (nw.col("speakers").list.len().fill_null(0) == 0)
            & nw.col("speaker_group").is_null()
        )
        .select(nw.col("id").alias("ref"))
        .unique()
    )
    unattributed = items.join(anonymous, on="ref", how="inner").select(DOC, "pointer", "ref")
    hint = "give the statement speakers or a speaker_group, or leave it out of asserted_by"
    out += failures("G608", ctx.collect(unattributed).with_columns(hint=pl.lit(hint)))
    return out


CHECKS = (check_grounding, check_machine_facts, check_attribution, check_duplicates)
