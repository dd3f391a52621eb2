"""References family: every actor, country, statement and agreement reference resolves,
across all files of the run, as anti-joins on the run's engine.

Only the unresolved references are collected; the schema's pattern and the hints are
applied to them on the driver, once per distinct failing value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import narwhals as nw
import polars as pl
import pycountry

from toolkit.checks.base import CheckContext, Failures, failures, with_hints
from toolkit.checks.suggest import closest_many, did_you_mean
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR
from toolkit.model.tables import Column


def _country_hint(value: str) -> str | None:
    try:
        country = pycountry.countries.lookup(value)
    except LookupError:
        return did_you_mean(value, [c.alpha_3 for c in pycountry.countries], cutoff=80)
    return f"did you mean '{country.alpha_3}' ({country.name})?"


def _actor_lookup(ctx: CheckContext) -> dict[str, str]:
    """Every id, name and alias of the registry, mapped to its actor id (the first actor
    in registry order wins a label)."""
    names = ctx.collect(
        ctx.lazy("actors").filter(~nw.col("id").is_null()).select(ROW, "id", "name", "aliases")
    ).sort(ROW)
    lookup: dict[str, str] = {}
    for _, actor_id, name, aliases in names.iter_rows():
        for label in [actor_id, name or "", *(aliases or [])]:
            lookup.setdefault(label, actor_id)
    return lookup


def _actor_hint(lookup: dict[str, str], matches: dict[str, str | None], value: str) -> str | None:
    if len(value) <= 3 or value.isupper():
        hint = _country_hint(value)
        if hint:
            return hint
    match = matches.get(value)
    if match:
        return f"did you mean '{lookup[match]}'?"
    country = _country_hint(value)
    return country or "add the actor under actors/, or use an ISO 3166-1 alpha-3 code for a state"


def _ids(ctx: CheckContext, *tables: str) -> nw.LazyFrame[Any]:
    """The non-null ids of `tables` as `value`, with `_t` (which table) and `_row`: the
    known ids in table order."""
    return nw.concat(
        [
            ctx.lazy(name)
            .filter(~nw.col("id").is_null())
            .select(nw.col("id").alias("value"), nw.lit(i, nw.Int64()).alias("_t"), ROW)
            for i, name in enumerate(tables)
        ],
        how="vertical",
    )


def _well_formed(ctx: CheckContext, values: pl.DataFrame, definition: str) -> pl.DataFrame:
    """Values that pass the schema's pattern; the schema family reports the others.

    Applied on the driver to the collected unresolved values (few): Java's `$` also
    matches before a final newline, so Spark would keep 'RUS\\n' where polars and DuckDB
    do not (probed)."""
    pattern = ctx.model.bundle_schema["$defs"][definition]["pattern"]
    return values.filter(pl.col("value").str.contains(pattern))


def _unresolved(
    ctx: CheckContext, columns: list[tuple[str, Column]], known: nw.LazyFrame[Any], definition: str
) -> pl.DataFrame | None:
    """`_doc`, `pointer`, `value` of every well-formed reference in `columns` that is not
    in `known` (a `value` column): one engine query for all the columns."""
    if not columns:
        return None
    known = known.select("value")
    frames = [
        ctx.values(table, col, lambda v: v.join(known, on="value", how="anti"))
        for table, col in columns
    ]
    return _well_formed(ctx, ctx.collect(nw.concat(frames, how="vertical")), definition)


def check_actors(ctx: CheckContext) -> list[Failures]:
    iso = ctx.small(ctx.iso3.to_frame("value"))
    known = nw.concat([_ids(ctx, "actors").select("value"), iso], how="vertical")
    missing = _unresolved(ctx, ctx.reference_columns("actor"), known, "actorRef")
    if missing is None:
        return []
    if missing.height:
        lookup = _actor_lookup(ctx)
        matches = closest_many(missing["value"].unique().to_list(), list(lookup), cutoff=70)
        missing = with_hints(missing, partial(_actor_hint, lookup, matches))
    return failures("R301", missing.rename({"value": "ref"}))


def check_countries(ctx: CheckContext) -> list[Failures]:
    known = ctx.small(ctx.iso3.to_frame("value"))
    missing = _unresolved(ctx, ctx.reference_columns("country"), known, "countryRef")
    if missing is None:
        return []
    return failures("R306", with_hints(missing, _country_hint).rename({"value": "ref"}))


def _by_source(
    ctx: CheckContext, known: nw.LazyFrame[Any], refs: pl.Series
) -> dict[str, list[str]]:
    """The known ids of each source the failing `refs` name ("src/" → ids, in table
    order): a semi-join on the engine, so that only those sources' ids are collected.

    A well-formed ref has at most one slash, so `k.startswith(prefix)` holds exactly
    when the part of `k` before its first slash, plus the slash, is the prefix."""
    prefixes = (refs.str.replace(r"/[^/]*$", "") + "/").unique().to_frame("prefix")
    ids = (
        known.filter(nw.col("value").str.contains("/", literal=True))
        .with_columns(nw.col("value").str.replace_all("(?s)/.*", "/").alias("prefix"))
        .join(ctx.small(prefixes), on="prefix", how="semi")
    )
    found = ctx.collect(ids.select("prefix", "value", "_t", ROW)).sort("_t", ROW)
    grouped = found.group_by("prefix", maintain_order=True).agg("value")
    return {prefix: list(values) for prefix, values in grouped.iter_rows()}


def _unknown(
    ctx: CheckContext,
    ref: str,
    definition: str,
    code: str,
    known: nw.LazyFrame[Any],
    otherwise: Callable[[list[str]], str],
) -> list[Failures]:
    """References of kind `ref` (local ids made dataset-wide; `same_as` has its own check)
    that name nothing in `known` (`_ids`); the hint is a "did you mean" among the ids of
    the source the reference names, else `otherwise(those ids)`."""
    columns = [(t, c) for t, c in ctx.reference_columns(ref) if c.name != "same_as"]
    missing = _unresolved(ctx, columns, known, definition)
    if missing is None:
        return []
    by_source = _by_source(ctx, known, missing["value"]) if missing.height else {}

    def hint(value: str) -> str | None:
        same_source = by_source.get(value.rsplit("/", 1)[0] + "/", [])
        return did_you_mean(value, same_source) or otherwise(same_source)

    return failures(code, with_hints(missing, hint).rename({"value": "ref"}))


def _locals(ids: list[str]) -> str:
    return ", ".join(k.rsplit("/", 1)[1] for k in ids)


def check_statements(ctx: CheckContext) -> list[Failures]:
    return _unknown(
        ctx,
        "statement",
        "statementRef",
        "R302",
        _ids(ctx, "statements"),
        lambda ids: (
            f"statements of this source: {_locals(ids)}" if ids else "this source has no statements"
        ),
    )


def check_same_as(ctx: CheckContext) -> list[Failures]:
    """`same_as` links a fact to the same fact recorded from another source: R304 when
    it names its own fact, R303 when it names no fact of its table. One engine query for
    every table; the hint's ids are collected only for tables with an R303."""
    tables = [t for t in ctx.model.fact_tables if "same_as" in ctx.columns(t.name)]
    parts: list[nw.LazyFrame[Any]] = []
    for i, table in enumerate(tables):
        refs = (
            ctx.lazy(table.name)
            .filter(~nw.col("same_as").is_null())
            .select(
                DOC,
                nw.concat_str([nw.col(PTR), nw.lit("/same_as")]).alias("pointer"),
                nw.col("same_as").alias("value"),
                "id",
                nw.lit(i, nw.Int64()).alias("_t"),
            )
        )
        known = _ids(ctx, table.name).select("value")
        parts += [
            refs.filter(nw.col("value") == nw.col("id")).with_columns(nw.lit("R304").alias("_c")),
            refs.join(known, on="value", how="anti")
            .filter(nw.col("value") != nw.col("id"))
            .with_columns(nw.lit("R303").alias("_c")),
        ]
    if not parts:
        return []
    found = ctx.collect(nw.concat(parts, how="vertical").drop("id"))
    hinted = found.filter(pl.col("_c") == "R303")["_t"].unique().sort().to_list()
    choices: dict[int, list[str]] = {i: [] for i in hinted}
    if hinted:
        ids = ctx.collect(_ids(ctx, *(tables[i].name for i in hinted))).sort("_t", ROW)
        for t, values in ids.group_by("_t", maintain_order=True).agg("value").iter_rows():
            choices[hinted[t]] = list(values)
    out: list[Failures] = []
    for i, table in enumerate(tables):
        mine = found.filter(pl.col("_t") == i)
        same = mine.filter(pl.col("_c") == "R304")
        out += failures("R304", same.select("_doc", "pointer", pl.col("value").alias("ref")))
        missing = mine.filter(pl.col("_c") == "R303").select("_doc", "pointer", "value")
        if missing.height:
            missing = with_hints(missing, partial(did_you_mean, choices=choices[i]))
        out += failures(
            "R303", missing.rename({"value": "ref"}).with_columns(pl.lit(table.row).alias("row"))
        )
    return out


def _facts_of(ctx: CheckContext, ref: str, code: str, known: nw.LazyFrame[Any]) -> list[Failures]:
    """References of kind `ref` (local ids made dataset-wide) that name no known fact."""
    return _unknown(
        ctx,
        ref,
        "agreementRef" if ref == "agreement" else "factRef",
        code,
        known,
        lambda ids: (
            f"ids of this source: {_locals(ids[:12])}"
            if ids
            else "a fact of another source is named '<source id>/<local id>'"
        ),
    )


def check_agreements(ctx: CheckContext) -> list[Failures]:
    """R307: a relation names an agreement of this bundle or of any other."""
    return _facts_of(ctx, "agreement", "R307", _ids(ctx, "agreements"))


def check_facts(ctx: CheckContext) -> list[Failures]:
    """R308: a response's `to` and an event's `about` name a fact, of any kind, anywhere."""
    known = _ids(ctx, *(t.name for t in ctx.model.fact_tables))
    return _facts_of(ctx, "fact", "R308", known)


CHECKS = (
    check_actors,
    check_countries,
    check_statements,
    check_same_as,
    check_agreements,
    check_facts,
)
