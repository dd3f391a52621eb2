"""Vocabularies family: coded values belong to their vocabulary, with a 'did you mean'."""

from __future__ import annotations

from functools import partial

import polars as pl
import pycountry

from toolkit.checks.base import CheckContext, Failures, failures, values_of, with_hints
from toolkit.checks.suggest import did_you_mean


def _vocab_hint(codes: dict[str, str], value: str) -> str | None:
    """Match against codes and labels, answer with a code."""
    by_label = {**{label.lower(): code for code, label in codes.items()}, **{c: c for c in codes}}
    hint = did_you_mean(value.lower().replace(" ", "_"), by_label)
    if hint:
        match = hint.split("'")[1]
        return f"did you mean '{by_label[match]}'?"
    return f"codes: {', '.join(codes)}" if len(codes) <= 12 else None


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
                labels = {c["code"]: c["label"] for c in vocab.codes}
                bad = with_hints(bad, partial(_vocab_hint, labels))
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
