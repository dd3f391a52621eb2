"""Identity family: fact ids unique in their bundle, source and actor ids unique in the
dataset, and no two ids that a reader could mistake for one another.

Ids must be lower-case ASCII (the schema says so, S105), but a near-duplicate is worth
its own problem: `act-putin` with a Cyrillic `а` beside the real one is an impostor
that a reference may silently pick, not a typo.
"""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.checks.safety import BIDI, INVISIBLE
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


def _later_occurrences(rows: pl.DataFrame, key: str, docs: pl.DataFrame) -> pl.DataFrame:
    """Rows whose `key` already occurred in an earlier row, with the file of the first one."""
    rows = rows.filter(pl.col(key).is_not_null()).with_row_index("_order")
    first = rows.group_by(key).agg(pl.col("_doc").sort_by("_order").first().alias("_first"))
    dupes = rows.filter(pl.col(key).is_duplicated()).join(first, on=key)
    dupes = dupes.filter(pl.col("_order") != pl.col("_order").min().over(key))
    named = docs.select(pl.col("_doc").alias("_first"), pl.col("file"), pl.col("line"))
    return (
        dupes.join(named, on="_first", how="left")
        .with_columns(
            pl.when(pl.col("line") > 1)
            .then(pl.col("file") + " line " + pl.col("line").cast(pl.String))
            .otherwise(pl.col("file"))
            .alias("other")
        )
        .sort("_order")
    )


def _fact_ids(ctx: CheckContext) -> pl.DataFrame:
    """`_doc`, `id`, `pointer` of every fact id, table by table."""
    return pl.concat(
        [
            ctx.table(t.name).select(
                pl.col(DOC).alias("_doc"),
                pl.col("local_id").alias("id"),
                (pl.col(PTR) + "/id").alias("pointer"),
            )
            for t in ctx.model.fact_tables
        ]
    ).filter(pl.col("id").is_not_null())


def check_fact_ids(ctx: CheckContext) -> list[Failures]:
    facts = _fact_ids(ctx).with_row_index("_order")
    facts = facts.filter(pl.struct("_doc", "id").is_duplicated())  # the windows are costly
    counted = facts.with_columns(pl.len().over("_doc", "id").alias("count"))
    dupes = counted.filter(
        (pl.col("count") > 1) & (pl.col("_order") != pl.col("_order").min().over("_doc", "id"))
    )
    return failures("I201", dupes.select("_doc", "pointer", "id", "count"))


def check_source_ids(ctx: CheckContext) -> list[Failures]:
    rows = ctx.table("sources").select(pl.col(DOC).alias("_doc"), "id")
    dupes = _later_occurrences(rows, "id", ctx.doc_files)
    return failures(
        "I202", dupes.select("_doc", pl.lit("/source/id").alias("pointer"), "id", "other")
    )


def check_actor_ids(ctx: CheckContext) -> list[Failures]:
    actors = ctx.table("actors").select(pl.col(DOC).alias("_doc"), "id")
    dupes = _later_occurrences(actors, "id", ctx.doc_files)
    out = failures("I203", dupes.select("_doc", pl.lit("/id").alias("pointer"), "id", "other"))
    named = actors.filter(pl.col("id").is_not_null()).join(ctx.doc_files, on="_doc")
    misnamed = named.filter(
        pl.col("file").str.contains(r"\.(ya?ml|json)$") & (pl.col("stem") != pl.col("id"))
    )
    out += failures(
        "I204",
        misnamed.select(
            "_doc",
            pl.lit("/id").alias("pointer"),
            "id",
            pl.col("stem").alias("name"),
            pl.format("rename the file to '{}' plus its extension", pl.col("id")).alias("hint"),
        ),
    )
    return out


def _skeleton(expr: pl.Expr) -> pl.Expr:
    """A form under which look-alike ids coincide: invisible characters dropped, NFKC
    (which also folds NFC/NFD), lower case, confusables mapped."""
    return (
        expr.str.replace_all(f"[{BIDI}{INVISIBLE}]", "")
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_many(list(_CONFUSABLES), list(_CONFUSABLES.values()))
    )


def _clashes(ids: pl.DataFrame, scope: list[str]) -> pl.DataFrame:
    """Rows whose id differs from another id with the same skeleton in its scope (`ids`
    holds each id at most once per scope).

    The id they are compared with is the plain one (equal to its own skeleton) where
    there is one, else the first: the impostor is flagged, not the original.
    """
    ids = ids.with_row_index("_i").with_columns(_skeleton(pl.col("id")).alias("_skel"))
    # `ids` holds each id once per scope, so only rows whose skeleton repeats in their
    # scope can clash: almost never any, and the ordered window below is costly at scale
    ids = ids.filter(pl.struct([*scope, "_skel"]).is_duplicated())
    odd = (pl.col("id") != pl.col("_skel")).alias("_odd")
    ids = ids.with_columns(odd)
    first = pl.col("id").sort_by(["_odd", "_i"]).first().over([*scope, "_skel"])
    ids = ids.with_columns(first.alias("other"))
    return ids.filter(pl.col("id") != pl.col("other"))


def check_lookalikes(ctx: CheckContext) -> list[Failures]:
    """Distinct actor or source ids that differ only in case, Unicode form or look-alikes."""
    ids = (
        pl.concat(
            [
                ctx.table("actors").select(
                    pl.col(DOC).alias("_doc"), "id", pl.lit("/id").alias("pointer")
                ),
                ctx.table("sources").select(
                    pl.col(DOC).alias("_doc"), "id", pl.lit("/source/id").alias("pointer")
                ),
            ]
        )
        .filter(pl.col("id").is_not_null())
        .unique(["id"], keep="first", maintain_order=True)
    )
    clash = _clashes(ids, [])
    return failures("I205", clash.select("_doc", "pointer", "id", "other"))


def check_fact_lookalikes(ctx: CheckContext) -> list[Failures]:
    """Distinct fact ids of one bundle that differ only in case, Unicode form or
    look-alikes: `st-1` and `St-1` would be one statement to a reader and two to a join."""
    facts = _fact_ids(ctx).unique(["_doc", "id"], keep="first", maintain_order=True)
    clash = _clashes(facts, ["_doc"])
    return failures("I205", clash.select("_doc", "pointer", "id", "other"))


CHECKS = (
    check_fact_ids,
    check_source_ids,
    check_actor_ids,
    check_lookalikes,
    check_fact_lookalikes,
)
