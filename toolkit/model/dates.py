"""Date prefixes ('2024', '2024-06', '2024-06-20') as polars expressions.

The length of a prefix is its precision; as a date it stands for its first day. Checks
and the export share these so the two never read a date differently.
"""

from __future__ import annotations

import polars as pl

PRECISION_BY_LENGTH = {4: "year", 7: "month", 10: "day"}


def first_day(expr: pl.Expr, *, strict: bool = False) -> pl.Expr:
    """'2024' → 2024-01-01, '2024-06' → 2024-06-01; null (or an error if strict) when the
    prefix is not a calendar date."""
    padded = (
        pl.when(expr.str.len_bytes() == 4)
        .then(expr + "-01-01")
        .when(expr.str.len_bytes() == 7)
        .then(expr + "-01")
        .otherwise(expr)
    )
    return padded.str.to_date("%Y-%m-%d", strict=strict)


def last_day(expr: pl.Expr) -> pl.Expr:
    """'2024' → 2024-12-31, '2024-06' → 2024-06-30, a full date → itself."""
    start = first_day(expr)
    return (
        pl.when(expr.str.len_bytes() == 4)
        .then(start.dt.offset_by("1y").dt.offset_by("-1d"))
        .when(expr.str.len_bytes() == 7)
        .then(start.dt.month_end())
        .otherwise(start)
    )
