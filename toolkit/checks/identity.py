"""Identity family: fact ids unique in their bundle, source and actor ids unique in the
dataset, and no two ids that a reader could mistake for one another.

Ids must be lower-case ASCII (the schema says so, S105), but a near-duplicate is worth
its own problem: `act-putin` with a Cyrillic `а` beside the real one is an impostor
that a reference may silently pick, not a typo.

The checks run on the run's engine; "first" is the lowest `_order`: the fact tables in
model order, each in staging order (`_row`), since engines keep no row order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, doc_ranges, failures, in_range
from toolkit.checks.safety import BIDI, INVISIBLE
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR

# Letters from other scripts that render like Latin ones (Unicode confusables, the common set).
_CONFUSABLES = {
    "а": "a",
    "в": "b",
    "е": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "ԁ": "d",
    "ο": "o",
    "α": "a",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ε": "e",
    "һ": "h",
    "ӏ": "l",
    "ԛ": "q",
    "ԝ": "w",
    "ɑ": "a",
    "ɡ": "g",
    "ı": "i",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "−": "-",
}

# `_order` of a row: its table's place times this, plus its `_row` (no table holds 2**40 rows).
_TABLE = 2**40
# Added to the order of an id that differs from its skeleton: plain ids come first.
_ODD = 2**56


def _ordered(ctx: CheckContext, tables: list[tuple[str, str, str]]) -> nw.LazyFrame[Any]:
    """`_doc`, `id`, `_ptr`, `pointer` (a literal suffix) and `_order` of every non-null id
    of (table, id column, pointer suffix), the tables in the order given."""
    return nw.concat(
        [
            ctx.lazy(name)
            .filter(~nw.col(column).is_null())
            .select(
                nw.col(DOC),
                nw.col(column).alias("id"),
                nw.col(PTR),
                nw.lit(suffix).alias("pointer"),
                (nw.col(ROW) + i * _TABLE).alias("_order"),
            )
            for i, (name, column, suffix) in enumerate(tables)
        ],
        how="vertical",
    )


def _fact_ids(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """Every fact id, table by table; `pointer` is the suffix after the fact's `_ptr`."""
    return _ordered(ctx, [(t.name, "local_id", "/id") for t in ctx.model.fact_tables])


# A fact's pointer: its `_ptr` and the suffix, built only for the rows reported.
_FACT_POINTER = nw.concat_str([nw.col(PTR), nw.col("pointer")]).alias("pointer")


def check_fact_ids(ctx: CheckContext) -> list[Failures]:
    """A fact id used twice in one bundle. Ids are unique per document, so the windows run
    a `_doc` range at a time on polars (`doc_ranges`): at 10M facts, over all ids at once,
    they raised the run's peak by 660 MB."""
    key = [DOC, "id"]

    def build(span: tuple[int, int] | None) -> nw.LazyFrame[Any]:
        ids = in_range(_fact_ids(ctx), span)
        counted = ids.with_columns(nw.len().over(*key).alias("count"))
        repeated = counted.filter(nw.col("count") > 1)
        dupes = repeated.filter(nw.col("_order") != nw.col("_order").min().over(*key))
        return dupes.select(DOC, _FACT_POINTER, "id", "count")

    ranges = doc_ranges(ctx, [t.name for t in ctx.model.fact_tables])
    return failures("I201", ctx.collect_ranges(build, ranges))


def _later_occurrences(ctx: CheckContext, table: str, pointer: str) -> pl.DataFrame:
    """Rows of `table` whose `id` already occurred in an earlier row, with the file (and
    line, in a JSONL file) of the first one as `other`."""
    repeated = (
        ctx.lazy(table)
        .filter(~nw.col("id").is_null())
        .select(DOC, "id", ROW)
        .with_columns(nw.len().over("id").alias("_n"))
        .filter(nw.col("_n") > 1)
        .with_columns(nw.col(ROW).min().over("id").alias("_first_row"))
    )
    is_first = nw.col(ROW) == nw.col("_first_row")
    first = repeated.filter(is_first).select("id", nw.col(DOC).alias("_first"))
    dupes = (
        repeated.filter(~is_first)
        .join(first, on="id")
        .join(
            ctx.lazy_docs().select(nw.col(DOC).alias("_first"), "file", "line"),
            on="_first",
            how="left",
        )
    )
    line = nw.concat_str([nw.col("file"), nw.lit(" line "), nw.col("line").cast(nw.String())])
    other = nw.when(nw.col("line") > 1).then(line).otherwise(nw.col("file"))
    return ctx.collect(
        dupes.select(DOC, nw.lit(pointer).alias("pointer"), "id", other.alias("other"))
    )


def check_source_ids(ctx: CheckContext) -> list[Failures]:
    return failures("I202", _later_occurrences(ctx, "sources", "/source/id"))


def check_actor_ids(ctx: CheckContext) -> list[Failures]:
    out = failures("I203", _later_occurrences(ctx, "actors", "/id"))
    file = nw.col("file")
    misnamed = (
        ctx.lazy("actors")
        .filter(~nw.col("id").is_null())
        .select(DOC, "id")
        .join(ctx.lazy_docs().select(DOC, "file", "stem"), on=DOC)
        .filter(
            (file.str.ends_with(".yaml") | file.str.ends_with(".yml") | file.str.ends_with(".json"))
            & (nw.col("stem") != nw.col("id"))
        )
    )
    hint = nw.concat_str(
        [nw.lit("rename the file to '"), nw.col("id"), nw.lit("' plus its extension")]
    )
    found = misnamed.select(
        DOC, nw.lit("/id").alias("pointer"), "id", nw.col("stem").alias("name"), hint.alias("hint")
    )
    return out + failures("I204", ctx.collect(found))


def _skeleton(expr: pl.Expr) -> pl.Expr:
    """A form under which look-alike ids coincide: invisible characters dropped, NFKC
    (which also folds NFC/NFD), lower case, confusables mapped."""
    return (
        expr.str.replace_all(f"[{BIDI}{INVISIBLE}]", "")
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_many(list(_CONFUSABLES), list(_CONFUSABLES.values()))
    )


def _lookalike_ids(ctx: CheckContext) -> nw.LazyFrame[Any]:
    """`id`, `_skel`: every distinct id (actor, source or fact) whose skeleton another
    distinct id shares.

    Built with polars where the tables are staged, since Spark has no NFKC and DuckDB
    only NFC, and a replacement map of look-alikes is no expression the three spell
    alike. It is computed once per run over distinct ids (a few thousand), and ids that
    share their skeleton with no other id anywhere can clash in no scope, so the engine
    then joins a table of a few rows, usually none.
    """
    facts = [t.name for t in ctx.model.fact_tables]

    def build(tables: Mapping[str, pl.LazyFrame]) -> pl.DataFrame:
        ids = pl.concat(
            [
                tables["actors"].select("id"),
                tables["sources"].select("id"),
                *(tables[name].select(pl.col("local_id").alias("id")) for name in facts),
            ]
        )
        distinct = ids.drop_nulls().unique().collect()
        skel = distinct.with_columns(_skeleton(pl.col("id")).alias("_skel"))
        return skel.filter(pl.col("_skel").is_duplicated())

    return ctx.derived("_id_skeletons", build)


def _clashes(
    ids: nw.LazyFrame[Any], skeletons: nw.LazyFrame[Any], scope: list[str]
) -> nw.LazyFrame[Any]:
    """Rows whose id differs from another id with the same skeleton in its scope, each
    id taken at its first occurrence in the scope.

    The id they are compared with is the plain one (equal to its own skeleton) where
    there is one, else the first: the impostor is flagged, not the original.
    """
    ids = ids.join(skeletons, on="id")
    first = nw.col("_order").min().over(*scope, "id")
    ids = ids.with_columns(first.alias("_first")).filter(nw.col("_order") == nw.col("_first"))
    odd = nw.col("id") != nw.col("_skel")
    rank = nw.when(odd).then(nw.col("_order") + _ODD).otherwise(nw.col("_order"))
    ids = ids.with_columns(rank.alias("_rank"))
    ids = ids.with_columns(nw.col("_rank").min().over(*scope, "_skel").alias("_best"))
    best = ids.filter(nw.col("_rank") == nw.col("_best")).select(
        *scope, "_skel", nw.col("id").alias("other")
    )
    return ids.join(best, on=[*scope, "_skel"]).filter(nw.col("id") != nw.col("other"))


def check_lookalikes(ctx: CheckContext) -> list[Failures]:
    """Distinct actor or source ids that differ only in case, Unicode form or look-alikes."""
    ids = _ordered(ctx, [("actors", "id", "/id"), ("sources", "id", "/source/id")])
    clash = _clashes(ids, _lookalike_ids(ctx), [])
    return failures("I205", ctx.collect(clash.select(DOC, "pointer", "id", "other")))


def check_fact_lookalikes(ctx: CheckContext) -> list[Failures]:
    """Distinct fact ids of one bundle that differ only in case, Unicode form or
    look-alikes: `st-1` and `St-1` would be one statement to a reader and two to a join."""
    clash = _clashes(_fact_ids(ctx), _lookalike_ids(ctx), [DOC])
    return failures("I205", ctx.collect(clash.select(DOC, _FACT_POINTER, "id", "other")))


CHECKS = (
    check_fact_ids,
    check_source_ids,
    check_actor_ids,
    check_lookalikes,
    check_fact_lookalikes,
)
