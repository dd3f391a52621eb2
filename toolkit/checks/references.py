"""References family: every actor, country, statement and agreement reference resolves,
across all files of the run, as anti-joins over whole tables."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import polars as pl
import pycountry

from toolkit.checks.base import CheckContext, Failures, failures, values_of, with_hints
from toolkit.checks.suggest import closest_many, did_you_mean
from toolkit.frames.base import DOC, PTR


def _country_hint(value: str) -> str | None:
    try:
        country = pycountry.countries.lookup(value)
    except LookupError:
        return did_you_mean(value, [c.alpha_3 for c in pycountry.countries], cutoff=80)
    return f"did you mean '{country.alpha_3}' ({country.name})?"


def _actor_lookup(ctx: CheckContext) -> dict[str, str]:
    """Every id, name and alias of the registry, mapped to its actor id."""
    names = ctx.table("actors").select("id", "name", "aliases").drop_nulls("id")
    lookup: dict[str, str] = {}
    for actor_id, name, aliases in names.iter_rows():
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


def _unresolved(values: pl.DataFrame, known: pl.Series) -> pl.DataFrame:
    return values.join(known.to_frame("value"), on="value", how="anti")


def _well_formed(ctx: CheckContext, values: pl.DataFrame, definition: str) -> pl.DataFrame:
    """Values that pass the schema's pattern; the schema family reports the others.
    (Both are row filters, so they are applied after `_unresolved`, to the few.)"""
    pattern = ctx.model.bundle_schema["$defs"][definition]["pattern"]
    return values.filter(pl.col("value").str.contains(pattern))


def check_actors(ctx: CheckContext) -> list[Failures]:
    known = ctx.actor_ids
    refs = [
        values_of(frame, col, lambda v: _well_formed(ctx, _unresolved(v, known), "actorRef"))
        for frame, col in ctx.columns("actor")
    ]
    if not refs:
        return []
    missing = pl.concat(refs)
    if missing.height:
        lookup = _actor_lookup(ctx)
        matches = closest_many(missing["value"].unique().to_list(), list(lookup), cutoff=70)
        missing = with_hints(missing, partial(_actor_hint, lookup, matches))
    return failures("R301", missing.rename({"value": "ref"}))


def check_countries(ctx: CheckContext) -> list[Failures]:
    known = ctx.iso3
    refs = [
        values_of(frame, col, lambda v: _well_formed(ctx, _unresolved(v, known), "countryRef"))
        for frame, col in ctx.columns("country")
    ]
    if not refs:
        return []
    missing = pl.concat(refs)
    return failures("R306", with_hints(missing, _country_hint).rename({"value": "ref"}))


def _by_source(known: pl.Series, refs: pl.Series) -> dict[str, list[str]]:
    """The known statement ids of each source the failing `refs` name ("src/" → ids, in
    table order), found by a join rather than a scan of every id per failing ref.

    A well-formed ref has at most one slash, so `k.startswith(prefix)` holds exactly
    when the part of `k` before its first slash, plus the slash, is the prefix."""
    prefixes = (refs.str.replace(r"/[^/]*$", "") + "/").unique().to_frame("prefix")
    ids = known.to_frame("id").filter(pl.col("id").str.contains("/", literal=True))
    ids = ids.with_columns(
        (pl.col("id").str.splitn("/", 2).struct.field("field_0") + "/").alias("prefix")
    ).join(prefixes, on="prefix", how="semi", maintain_order="left")
    grouped = ids.group_by("prefix", maintain_order=True).agg("id")
    return {prefix: list(found) for prefix, found in grouped.iter_rows()}


def _unknown(
    ctx: CheckContext,
    ref: str,
    definition: str,
    code: str,
    known: pl.Series,
    otherwise: Callable[[list[str]], str],
) -> list[Failures]:
    """References of kind `ref` (local ids made dataset-wide; `same_as` has its own check)
    that name nothing in `known`; the hint is a "did you mean" among the ids of the source
    the reference names, else `otherwise(those ids)`."""
    refs = [
        values_of(frame, col, lambda v: _well_formed(ctx, _unresolved(v, known), definition))
        for frame, col in ctx.columns(ref)
        if col.name != "same_as"
    ]
    if not refs:
        return []
    missing = pl.concat(refs)
    by_source = _by_source(known, missing["value"])

    def hint(value: str) -> str | None:
        same_source = by_source.get(value.rsplit("/", 1)[0] + "/", [])
        return did_you_mean(value, same_source) or otherwise(same_source)

    return failures(code, with_hints(missing, hint).rename({"value": "ref"}))


def _locals(ids: list[str]) -> str:
    return ", ".join(k.rsplit("/", 1)[1] for k in ids)


def check_statements(ctx: CheckContext) -> list[Failures]:
    known = ctx.table("statements")["id"].drop_nulls()
    return _unknown(
        ctx,
        "statement",
        "statementRef",
        "R302",
        known,
        lambda ids: (
            f"statements of this source: {_locals(ids)}" if ids else "this source has no statements"
        ),
    )


def check_same_as(ctx: CheckContext) -> list[Failures]:
    """`same_as` links a fact to the same fact recorded from another source."""
    out: list[Failures] = []
    for table in ctx.model.fact_tables:
        frame = ctx.table(table.name)
        if "same_as" not in frame.columns:
            continue
        refs = frame.filter(pl.col("same_as").is_not_null()).select(
            pl.col(DOC).alias("_doc"),
            (pl.col(PTR) + "/same_as").alias("pointer"),
            pl.col("same_as").alias("value"),
            pl.col("id"),
        )
        out += failures(
            "R304",
            refs.filter(pl.col("value") == pl.col("id")).select(
                "_doc", "pointer", pl.col("value").alias("ref")
            ),
        )
        known = frame["id"].drop_nulls()
        missing = _unresolved(refs, known).filter(pl.col("value") != pl.col("id")).drop("id")
        if missing.height:
            missing = with_hints(missing, partial(did_you_mean, choices=known.to_list()))
        out += failures(
            "R303", missing.rename({"value": "ref"}).with_columns(pl.lit(table.row).alias("row"))
        )
    return out


def _facts_of(ctx: CheckContext, ref: str, code: str, known: pl.Series) -> list[Failures]:
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
    return _facts_of(ctx, "agreement", "R307", ctx.table("agreements")["id"].drop_nulls())


def check_facts(ctx: CheckContext) -> list[Failures]:
    """R308: a response's `to` and an event's `about` name a fact, of any kind, anywhere."""
    known = pl.concat([ctx.table(t.name)["id"].drop_nulls() for t in ctx.model.fact_tables])
    return _facts_of(ctx, "fact", "R308", known)


CHECKS = (
    check_actors,
    check_countries,
    check_statements,
    check_same_as,
    check_agreements,
    check_facts,
)
