"""Date prefixes ('2024', '2024-06', '2024-06-20') as polars expressions.

The length of a prefix is its precision; as a date it stands for its first day. Checks
and the export share these so the two never read a date differently.
"""

from __future__ import annotations

import narwhals as nw
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


# Month-day pairs no calendar has; 29 February is settled by the year (`off_calendar`).
_NO_SUCH_DAY = ["02-30", "02-31", "04-31", "06-31", "09-31", "11-31"]
_LEAP_ENDINGS = [f"{n:02d}" for n in range(0, 100, 4)]


def off_calendar(value: nw.Expr) -> nw.Expr:
    """A well-formed prefix ('YYYY', 'YYYY-MM', 'YYYY-MM-DD', months 01-12, days 01-31)
    that names no day: year 0, or a day its month lacks in the proleptic Gregorian
    calendar `first_day` reads.

    Written as string comparisons so that polars, DuckDB and Spark evaluate it alike:
    their date parsers raise on '2023-02-30' rather than give null. A test holds it to
    `first_day` over every well-formed prefix of the years 0000-9999.
    """
    year, month_day = value.str.slice(0, 4), value.str.slice(5, 5)
    # a leap year: divisible by 4, and a century only if divisible by 400
    century = year.str.slice(2, 2) == "00"
    leap = (
        nw.when(century)
        .then(year.str.slice(0, 2).is_in(_LEAP_ENDINGS))
        .otherwise(year.str.slice(2, 2).is_in(_LEAP_ENDINGS))
    )
    return (year == "0000") | month_day.is_in(_NO_SUCH_DAY) | ((month_day == "02-29") & ~leap)
