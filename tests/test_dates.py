"""`off_calendar` (string comparisons every engine evaluates alike) names exactly the
well-formed date prefixes that `first_day` cannot read, plus year 0 (S108)."""

from __future__ import annotations

import narwhals as nw
import polars as pl

from toolkit.model.dates import first_day, off_calendar


def _prefixes() -> pl.DataFrame:
    """Every 'YYYY', 'YYYY-MM' and 'YYYY-MM-DD' the date pattern admits."""
    years = pl.DataFrame({"y": [f"{y:04d}" for y in range(10_000)]})
    months = pl.DataFrame({"m": [f"{m:02d}" for m in range(1, 13)]})
    days = pl.DataFrame({"d": [f"{d:02d}" for d in range(1, 32)]})
    ym = years.join(months, how="cross")
    return pl.concat(
        [
            years.select(pl.col("y").alias("v")),
            ym.select((pl.col("y") + "-" + pl.col("m")).alias("v")),
            ym.join(days, how="cross").select(
                (pl.col("y") + "-" + pl.col("m") + "-" + pl.col("d")).alias("v")
            ),
        ]
    )


def test_off_calendar_agrees_with_first_day_on_every_prefix() -> None:
    frame = nw.from_native(_prefixes())
    flagged = frame.with_columns(off_calendar(nw.col("v")).alias("off")).to_native()
    expected = first_day(pl.col("v")).is_null() | pl.col("v").str.starts_with("0000")
    differ = flagged.filter(pl.col("off") != expected)
    assert differ.is_empty(), differ.head(10)
    assert flagged["off"].sum() > 60_000  # 0000…, 29 February of common years, 31 April…
