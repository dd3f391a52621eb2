"""Vocabularies family: coded values belong to their vocabulary, with a 'did you mean'.

Membership is an anti-join on the run's engine; hints are made on the driver, once per
distinct failing value.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import narwhals as nw
import polars as pl
import pycountry

from toolkit.checks.base import CheckContext, Failures, failures, with_hints
from toolkit.checks.suggest import code_hint, did_you_mean


def _not_in(known: nw.LazyFrame[Any], values: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    return values.join(known, on="value", how="anti")


def check_codes(ctx: CheckContext) -> list[Failures]:
    out: list[Failures] = []
    for table in ctx.model.tables.values():
        if table.name not in ctx.frames.tables:
            continue
        for col in table.columns:
            if not col.vocabulary or not col.path:
                continue
            vocab = ctx.model.vocabularies[col.vocabulary]
            known = ctx.small(pl.DataFrame({"value": vocab.code_list}, schema={"value": pl.String}))
            bad = ctx.collect(ctx.values(table.name, col, partial(_not_in, known)))
            if bad.height:
                hint = partial(code_hint, codes=vocab.codes, where=vocab.name)
                bad = with_hints(bad, hint)
                out += failures("V401", bad.with_columns(pl.lit(vocab.name).alias("vocabulary")))
    return out


def check_languages(ctx: CheckContext) -> list[Failures]:
    codes = sorted({lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")})
    known = ctx.small(pl.DataFrame({"value": codes}, schema={"value": pl.String}))
    out: list[Failures] = []
    for table, col in ctx.reference_columns("language"):
        bad = ctx.collect(
            ctx.values(
                table,
                col,
                lambda v: v.filter(nw.col("value").str.contains(r"^[a-z]{2}\z")).join(
                    known, on="value", how="anti"
                ),
            )
        )
        out += failures("V402", with_hints(bad, partial(did_you_mean, choices=codes)))
    return out


CHECKS = (check_codes, check_languages)
