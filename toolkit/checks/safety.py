"""Safety family: text that looks right and is not.

Bidirectional controls can make a quote or an id read differently from what it is
(Trojan Source); zero-width characters make two ids look identical; fillers and tag
characters carry text no reader sees (tag characters spell ASCII invisibly). All are
flagged wherever a contributor can type text, and the hint names the character, since
the reader cannot see it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.engines.base import ROW
from toolkit.frames.base import DOC, PTR
from toolkit.model.tables import Column

_Ranges = tuple[tuple[int, int], ...]
_BIDI_RANGES: _Ranges = ((0x061C, 0x061C), (0x200E, 0x200F), (0x202A, 0x202E), (0x2066, 0x2069))
# Zero-width and other format characters; the combining grapheme joiner; Hangul and
# Khmer fillers that render as nothing; Mongolian selectors; deprecated format controls;
# interlinear annotation marks; tag characters (U+E0000 block).
_INVISIBLE_RANGES: _Ranges = (
    *((0x00AD, 0x00AD), (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5)),
    *((0x180B, 0x180F), (0x200B, 0x200D), (0x2060, 0x2064), (0x206A, 0x206F)),
    *((0x3164, 0x3164), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB)),
    (0xE0000, 0xE007F),
)


def _class(ranges: _Ranges) -> str:
    """The ranges as the inside of a regex character class (for re and polars alike)."""
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


# Line breaks only some tools see (NEL, LS, PS): YAML parsers count them as new lines,
# editors and `grep -n` do not, so a line number or a value differs with the tool.
_BREAK_RANGES: _Ranges = ((0x0085, 0x0085), (0x2028, 0x2029))
BIDI = _class(_BIDI_RANGES)
INVISIBLE = _class(_INVISIBLE_RANGES)
BREAKS = _class(_BREAK_RANGES)
_PATTERN = f"[{BIDI}{INVISIBLE}{BREAKS}]"


def flagged_characters() -> str:
    """Every character X704 flags (test strategies leave them out of valid text)."""
    ranges = (*_BIDI_RANGES, *_INVISIBLE_RANGES, *_BREAK_RANGES)
    return "".join(chr(c) for a, b in ranges for c in range(a, b + 1))


_BIDI = re.compile(f"[{BIDI}]")
_BREAK = re.compile(f"[{BREAKS}]")
_FIRST = re.compile(_PATTERN)
_TEXT_KINDS = ("string", "enum", "vocabulary", "date", "string_list", "vocabulary_list")
_LIST_KINDS = ("string_list", "vocabulary_list")


def _describe(value: str) -> tuple[str, str, str]:
    """(kind, code point, hint) of the first flagged character of `value`."""
    m = _FIRST.search(value)
    if m is None:  # cannot happen: polars matched the same pattern
        return "invisible character", "?", "delete the character; it is invisible"
    ch = m.group()
    what = "bidirectional control" if _BIDI.match(ch) else "invisible character"
    name = unicodedata.name(ch, "NEXT LINE (NEL)" if ch == "\x85" else "unnamed")
    why = "it is invisible in most editors"
    if _BREAK.match(ch):
        what, why = "line-break character", "some tools start a new line there, others do not"
    hint = f"delete U+{ord(ch):04X} {name} at character {m.start() + 1}; {why}"
    return what, f"{ord(ch):04X}", hint


def _flagged(value: str) -> nw.Expr:
    return nw.col(value).str.contains(_PATTERN)


def _text_columns(ctx: CheckContext) -> list[tuple[str, Column]]:
    return ctx.columns_where(lambda col: col.kind in _TEXT_KINDS)


def _cells(ctx: CheckContext, columns: list[tuple[str, Column]]) -> nw.LazyFrame[Any]:
    """`_doc`, `_ptr`, `_row`, `_c` (the place of the column in `columns`) and `value` of
    every flagged value, list items included (without their index), in one query.

    Pointers are built on the driver for the few values found: building them here, one
    expression per column, costs more than the search itself on polars.
    """
    parts = []
    for c, (table, col) in enumerate(columns):
        frame = ctx.lazy(table)
        if col.kind in _LIST_KINDS:
            items = frame.select(
                DOC, PTR, ROW, nw.lit(c).alias("_c"), nw.col(col.name).alias("value")
            )
            parts.append(items.explode("value").filter(_flagged("value")))
        else:
            parts.append(
                frame.filter(_flagged(col.name)).select(
                    DOC, PTR, ROW, nw.lit(c).alias("_c"), nw.col(col.name).alias("value")
                )
            )
    return nw.concat(parts, how="vertical")


def _items(
    ctx: CheckContext, hits: pl.DataFrame, columns: list[tuple[str, Column]]
) -> pl.DataFrame:
    """`_doc`, `pointer`, `field`, `value` of the flagged items of the lists among `hits`,
    each at its own index: the positions are read again, from those rows only."""
    parts = []
    for (c,), rows in hits.group_by("_c"):
        table, col = columns[int(c)]
        flagged = ctx.small(rows.select(ROW).unique())

        def keep(v: nw.LazyFrame[Any], rows: nw.LazyFrame[Any] = flagged) -> nw.LazyFrame[Any]:
            return v.join(rows, on=ROW, how="semi").filter(_flagged("value"))

        found = ctx.values(table, col, keep).with_columns(nw.lit(col.name).alias("field"))
        parts.append(found.select("_doc", "pointer", "field", "value"))
    return ctx.collect(nw.concat(parts, how="vertical"))


def check_invisible(ctx: CheckContext) -> list[Failures]:
    """X704 on the run's engine: one query over every text column, list items included.

    The pattern is a character class of literal characters, which polars, DuckDB (RE2)
    and Java read alike, supplementary characters (the tag block) too. Lists are
    exploded without positions; only rows with a flagged item are read again with them.
    Which character it is, and the hint, are found on the driver for the few values
    that hold one.
    """
    columns = _text_columns(ctx)
    if not columns:
        return []
    cells = ctx.collect(_cells(ctx, columns))
    if cells.is_empty():
        return []
    listed = [c for c, (_, col) in enumerate(columns) if col.kind in _LIST_KINDS]
    in_list = pl.col("_c").is_in(listed)
    suffix = {c: "/" + "/".join(col.path) for c, (_, col) in enumerate(columns)}
    field = {c: col.name for c, (_, col) in enumerate(columns)}
    hits = cells.filter(~in_list).select(
        "_doc",
        (pl.col(PTR) + pl.col("_c").replace_strict(suffix, return_dtype=pl.String)).alias(
            "pointer"
        ),
        pl.col("_c").replace_strict(field, return_dtype=pl.String).alias("field"),
        "value",
    )
    if cells.filter(in_list).height:
        hits = pl.concat([hits, _items(ctx, cells.filter(in_list), columns)])
    described = [_describe(v) for v in hits["value"]]
    return failures(
        "X704",
        hits.select(
            "_doc",
            "pointer",
            "field",
            pl.Series("what", [d[0] for d in described], pl.String),
            pl.Series("codepoint", [d[1] for d in described], pl.String),
            pl.Series("hint", [d[2] for d in described], pl.String),
        ),
    )


CHECKS = (check_invisible,)
