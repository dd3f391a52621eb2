"""Safety family: text that looks right and is not.

Bidirectional controls can make a quote or an id read differently from what it is
(Trojan Source); zero-width characters make two ids look identical. Both are flagged
wherever a contributor can type text.
"""

from __future__ import annotations

import unicodedata

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, values_of

BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
INVISIBLE = "\u00ad\u180e\u200b-\u200d\u2060-\u2064\ufeff"
_PATTERN = f"[{BIDI}{INVISIBLE}]"
_TEXT_KINDS = ("string", "enum", "vocabulary", "date", "string_list", "vocabulary_list")


def _describe(value: str) -> tuple[str, str]:
    for ch in value:
        if ch in "\u061c\u200e\u200f" or "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
            return "bidirectional control", f"{ord(ch):04X}"
        if unicodedata.category(ch) == "Cf" or ch == "\u00ad":
            return "invisible character", f"{ord(ch):04X}"
    return "invisible character", "?"


def check_invisible(ctx: CheckContext) -> list[Failures]:
    found = []
    for table in ctx.model.tables.values():
        if table.name not in ctx.frames.tables:
            continue
        frame = ctx.table(table.name)
        for col in table.columns:
            if col.kind in _TEXT_KINDS and col.path:
                hits = values_of(frame, col).filter(pl.col("value").str.contains(_PATTERN))
                found.append(hits.with_columns(pl.lit(col.name).alias("field")))
    if not found:
        return []
    hits = pl.concat(found)
    described = [_describe(v) for v in hits["value"]]
    return failures(
        "X704",
        hits.select(
            "_doc",
            "pointer",
            "field",
            pl.Series("what", [d[0] for d in described], pl.String),
            pl.Series("codepoint", [d[1] for d in described], pl.String),
            pl.lit("delete the character; it is invisible in most editors").alias("hint"),
        ),
    )


CHECKS = (check_invisible,)
