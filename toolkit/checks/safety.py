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


def _groups(columns: list[tuple[str, Column]]) -> list[tuple[str, list[Column]]]:
    """What one branch of the search reads: the text columns of a table together, each
    list column on its own (its items are exploded)."""
    scalars: dict[str, list[Column]] = {}
    lists: list[tuple[str, list[Column]]] = []
    for table, col in columns:
        if col.kind in _LIST_KINDS:
            lists.append((table, [col]))
        else:
            scalars.setdefault(table, []).append(col)
    return [*scalars.items(), *lists]


def _rows(ctx: CheckContext, groups: list[tuple[str, list[Column]]]) -> nw.LazyFrame[Any]:
    """`_row` and `_g` (the group) of every row with a flagged value, in one query of a
    branch per table and per list column: on Spark a branch per column cost more to
    plan than the search itself."""
    parts = []
    for g, (table, cols) in enumerate(groups):
        frame = ctx.lazy(table)
        if cols[0].kind in _LIST_KINDS:
            found = (
                frame.select(ROW, nw.col(cols[0].name).alias("value"))
                .explode("value")
                .filter(_flagged("value"))
            )
        else:
            found = frame.filter(
                nw.any_horizontal(*(_flagged(c.name) for c in cols), ignore_nulls=True)
            )
        parts.append(found.select(ROW, nw.lit(g).alias("_g")))
    return nw.concat(parts, how="vertical")


def _values(
    ctx: CheckContext, hits: pl.DataFrame, groups: list[tuple[str, list[Column]]]
) -> pl.DataFrame:
    """`_doc`, `pointer`, `field`, `value` of the flagged values in the rows of `hits`,
    list items each at its own index: the columns are read again, from those rows only."""
    parts = []
    for (g,), rows in hits.group_by("_g"):
        table, cols = groups[int(g)]
        flagged = ctx.small(rows.select(ROW).unique())

        def keep(v: nw.LazyFrame[Any], rows: nw.LazyFrame[Any] = flagged) -> nw.LazyFrame[Any]:
            return v.join(rows, on=ROW, how="semi").filter(_flagged("value"))

        for col in cols:
            found = ctx.values(table, col, keep).with_columns(nw.lit(col.name).alias("field"))
            parts.append(found.select("_doc", "pointer", "field", "value"))
    return ctx.collect(nw.concat(parts, how="vertical"))


def check_invisible(ctx: CheckContext) -> list[Failures]:
    """X704 on the run's engine: one query over every text column, list items included.

    The pattern is a character class of literal characters, which polars, DuckDB (RE2)
    and Java read alike, supplementary characters (the tag block) too. The search finds
    the rows that hold a flagged value; only those rows are read again for the values,
    with their pointers. Which character it is, and the hint, are found on the driver
    for the few values that hold one.
    """
    groups = _groups(_text_columns(ctx))
    if not groups:
        return []
    hits = ctx.collect(_rows(ctx, groups))
    if hits.is_empty():
        return []
    found = _values(ctx, hits, groups)
    described = [_describe(v) for v in found["value"]]
    return failures(
        "X704",
        found.select(
            "_doc",
            "pointer",
            "field",
            pl.Series("what", [d[0] for d in described], pl.String),
            pl.Series("codepoint", [d[1] for d in described], pl.String),
            pl.Series("hint", [d[2] for d in described], pl.String),
        ),
    )


CHECKS = (check_invisible,)
