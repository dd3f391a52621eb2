"""Text copies: a source's `text` path must name a regular UTF-8 file inside the data folder.

The copies are read when the run stages its tables (`toolkit.stage.texts`), which notes
what kept a copy from being read; this family reports those notes, one code each.
"""

from __future__ import annotations

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.stage.text_reading import MAX_TEXT_BYTES
from toolkit.stage.texts import SourceTexts


def staged_texts(ctx: CheckContext) -> SourceTexts:
    """The run's staged source texts; a context without them is a caller's mistake (a
    check never reads the files itself)."""
    if ctx.texts is None:
        raise RuntimeError("the source texts were not staged: see toolkit.stage.texts")
    return ctx.texts


def check_text_paths(ctx: CheckContext) -> list[Failures]:
    found = staged_texts(ctx).problems
    out: list[Failures] = []
    for code in ("R305", "X701", "X702", "X703", "X705"):
        frame = found.filter(pl.col("code") == code).select(
            "_doc",
            pl.lit("/source/text").alias("pointer"),
            "path",
            *([pl.col("what")] if code == "X702" else []),
        )
        out += failures(code, frame)
    too_large = found.filter(pl.col("code") == "L006").select(
        "_doc",
        pl.lit("/source/text").alias("pointer"),
        "path",
        pl.col("what").alias("size"),
        pl.lit(MAX_TEXT_BYTES).alias("limit"),
    )
    return out + failures("L006", too_large)


CHECKS = (check_text_paths,)
