"""Vocabularies family: coded values belong to their vocabulary, with a 'did you mean'."""

from __future__ import annotations

from functools import partial

import polars as pl
import pycountry

from toolkit.checks.base import CheckContext, Failures, failures, values_of, with_hints
from toolkit.checks.suggest import code_hint, did_you_mean


def check_codes(ctx: CheckContext) -> list[Failures]:
    out: list[Failures] = []
    for table in ctx.model.tables.values():
        if table.name not in ctx.frames.tables:
            continue
        frame = ctx.table(table.name)
        for col in table.columns:
            if not col.vocabulary or not col.path:
                continue
            vocab = ctx.model.vocabularies[col.vocabulary]
            known = pl.Series("value", vocab.code_list, pl.String).to_frame()
            bad = values_of(frame, col, partial(_not_in, known))
            if bad.height:
                hint = partial(code_hint, codes=vocab.codes, where=vocab.name)
                bad = with_hints(bad, hint)
                out += failures("V401", bad.with_columns(pl.lit(vocab.name).alias("vocabulary")))
    return out


def _not_in(known: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    return values.join(known, on="value", how="anti")


def check_languages(ctx: CheckContext) -> list[Failures]:
    codes = sorted({lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")})
    known = pl.Series("value", codes, pl.String).to_frame()
    out: list[Failures] = []
    for frame, col in ctx.columns("language"):
        bad = values_of(
            frame,
            col,
            lambda v: v.filter(pl.col("value").str.contains("^[a-z]{2}$")).join(
                known, on="value", how="anti"
            ),
        )
        out += failures("V402", with_hints(bad, partial(did_you_mean, choices=codes)))
    return out


CHECKS = (check_codes, check_languages)
