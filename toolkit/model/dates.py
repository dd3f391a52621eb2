"""Date prefixes ('2024', '2024-06', '2024-06-20') as polars expressions, and
the comparisons checks make on any engine as narwhals expressions.

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


# The same readings on any engine (narwhals), with string operations only: slicing,
# length and comparison of ISO prefixes behave alike on polars, DuckDB and Spark, where
# date parsing does not (polars accepts '2024-6-1', Spark in ANSI mode raises on
# '2023-02-30', DuckDB's strptime raises on anything malformed).

# Calendar prefixes as one regular expression (no look-around, read alike by polars',
# DuckDB's and Java's engines): a year or month, a day 01-28 of any month, 29-30 of a
# month other than February, 31 of a long month, 29 February of a leap year (divisible
# by 4 and not by 100 unless by 400). `\z`, not `$`: Java's `$` also matches before a final
# line break.
_MONTH = "(0[1-9]|1[0-2])"
_LEAP = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[048]|[2468][048]|[13579][26])00)"
_CALENDAR = "|".join(
    (
        f"^[0-9]{{4}}(-{_MONTH})?\\z",
        f"^[0-9]{{4}}-{_MONTH}-(0[1-9]|1[0-9]|2[0-8])\\z",
        "^[0-9]{4}-(0[13-9]|1[0-2])-(29|30)\\z",
        "^[0-9]{4}-(0[13578]|1[02])-31\\z",
        f"^{_LEAP}-02-29\\z",
    )
)


def is_calendar_date(expr: nw.Expr) -> nw.Expr:
    """A well-formed prefix ('2024', '2024-06', '2024-06-20') naming days on the calendar
    (no '2023-02-29', '2024-04-31'); false, never null, for anything else."""
    return expr.str.contains(_CALENDAR).fill_null(value=False)


def off_calendar(value: nw.Expr) -> nw.Expr:
    """A well-formed prefix ('YYYY', 'YYYY-MM', 'YYYY-MM-DD', months 01-12, days 01-31)
    that names no day: year 0, or a day its month lacks in the proleptic Gregorian
    calendar `first_day` reads.

    Written as string operations (`is_calendar_date`) so that polars, DuckDB and Spark
    evaluate it alike: their date parsers raise on '2023-02-30' rather than give null. A
    test holds it to `first_day` over every well-formed prefix of the years 0000-9999.
    """
    return (value.str.slice(0, 4) == "0000") | ~is_calendar_date(value)


def starts_key(expr: nw.Expr) -> nw.Expr:
    """A calendar prefix padded to its first day ('2024' → '2024-01-01'): ordered as
    strings, these order the prefixes by first day."""
    length = expr.str.len_chars()
    pad = nw.when(length == 4).then(nw.lit("-01-01")).when(length == 7).then(nw.lit("-01"))
    return nw.concat_str([expr, pad.otherwise(nw.lit(""))])


def ends_before(earlier: nw.Expr, later: nw.Expr) -> nw.Expr:
    """Calendar prefix `earlier` ends before `later` starts (its last day precedes the
    other's first), so '2024' and '2024-06-19' overlap and neither is before the other.

    On their common precision `earlier` sorts first, which as strings is: it sorts first
    and is not a prefix of `later` (a longer `earlier` never sorts before its prefix)."""
    return (earlier < later) & ~later.str.starts_with(earlier)


def iso_weekday(day: nw.Expr) -> nw.Expr:
    """ISO weekday (1 Monday … 7 Sunday) of a full date 'YYYY-MM-DD' known to be on the
    calendar, by Zeller's congruence on its digits: no engine parses a date for it (through
    narwhals Spark numbers Sunday 0, polars and DuckDB 7; malformed input errors on some).
    400 years are added, a whole number of weeks, so the arithmetic stays positive."""
    year = day.str.slice(0, 4).cast(nw.Int64())
    month = day.str.slice(5, 2).cast(nw.Int64())
    early = month < 3  # January and February count as months 13 and 14 of the year before
    month = nw.when(early).then(month + 12).otherwise(month)
    year = nw.when(early).then(year + 399).otherwise(year + 400)
    zeller = (
        day.str.slice(8, 2).cast(nw.Int64())
        + (13 * (month + 1)) // 5
        + year
        + year // 4
        - year // 100
        + year // 400
    ) % 7  # 0 Saturday … 6 Friday
    return (zeller + 5) % 7 + 1
