"""Limits family: bounds on what one bundle or one file may cost a run.

The parsers enforce the limits that must hold before a value exists (file size, line
size, depth, string length). This module holds the two that need whole records or a
whole run: the number of facts in a bundle (L004), checked over the fact tables like
any other family, and the number of problems reported per file (L007), which the
checker applies as problems are produced. Without the second, a crafted file costs a
problem object per byte or two of input: a million blank JSONL lines, or a mapping of
a million unknown keys, would take gigabytes of memory to report.
"""

from __future__ import annotations

from collections.abc import Iterable

import narwhals as nw
import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures, to_problems
from toolkit.frames.base import DOC
from toolkit.parsers.base import Limits
from toolkit.problems import Problem

# Key of the run's Limits in CheckContext.cache; the checker puts them there, and a
# context without them (a test building one by hand) gets the defaults.
LIMITS = "limits"


def run_limits(ctx: CheckContext) -> Limits:
    """The limits of this run."""
    found = ctx.cache.get(LIMITS)
    return found if isinstance(found, Limits) else Limits()


def check_facts_per_bundle(ctx: CheckContext) -> list[Failures]:
    """L004 at the top of every bundle holding more facts than the limit.

    One source document gives tens of facts, not thousands; a bundle over the limit is
    generated output gone wrong, and each of its facts would be carried through every
    check and the export.
    """
    limit = run_limits(ctx).max_facts_per_bundle
    docs = [ctx.lazy(t.name).select(DOC) for t in ctx.model.fact_tables]
    if not docs:
        return []
    counts = nw.concat(docs, how="vertical").group_by(DOC).agg(nw.len().alias("count"))
    over = counts.filter(nw.col("count") > limit).select(
        DOC,
        nw.lit("").alias("pointer"),
        "count",
        nw.lit(limit).alias("limit"),
        nw.lit("a bundle holds the facts of one source document").alias("hint"),
    )
    return failures("L004", ctx.collect(over))


CHECKS = (check_facts_per_bundle,)


class ProblemBudget:
    """At most `limit` problems per file reach the report.

    The first problem past the limit is replaced by one L007 at its position, saying
    that the rest of the file is not reported; later ones are dropped as they arrive,
    so memory holds `limit + 1` problems per file whatever the input. `full(file)` lets
    a caller skip work whose problems would be dropped anyway.
    """

    __slots__ = ("_counts", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}

    def full(self, file: str) -> bool:
        """True once `file` has had its L007: nothing more of it will be reported."""
        return self._counts.get(file, 0) > self.limit

    def forget(self, file: str) -> None:
        """Start `file` afresh (its earlier problems were dropped, e.g. a JSONL file that
        failed as a whole after some of its lines had been read)."""
        self._counts.pop(file, None)

    def counts(self) -> dict[str, int]:
        """Problems admitted so far, by file (a slice's budget hands them to the run's)."""
        return dict(self._counts)

    def absorb(self, counts: dict[str, int]) -> None:
        """Count the problems another budget admitted for files this one has not seen."""
        for file, n in counts.items():
            self._counts[file] = self._counts.get(file, 0) + n

    def left(self, file: str) -> int:
        """How many more problems of `file` can be reported, counting its L007."""
        return max(0, self.limit + 1 - self._counts.get(file, 0))

    def render(self, fails: Failures, ctx: CheckContext) -> list[Problem]:
        """`to_problems` for the failure cases that can still be reported.

        Rendering locates each problem (for a JSONL line: reads it again), so rows past
        a file's budget are dropped in the frame, before any of that work, and never
        become objects.
        """
        frame = fails.frame
        if frame.height > self.limit or self._counts:
            files = ctx.doc_files.select(
                pl.col("_doc").cast(frame.schema["_doc"]), pl.col("file").alias("_file")
            )
            frame = frame.join(files, on="_doc", how="left", maintain_order="left")
            used = pl.col("_file").replace_strict(self._counts, default=0, return_dtype=pl.Int64)
            rank = pl.int_range(pl.len(), dtype=pl.Int64).over("_file")
            frame = frame.filter(rank + used <= self.limit).drop("_file")
        return self.admit(to_problems(Failures(fails.code, frame), ctx.frames.documents))

    def admit(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems that fit, in the order given, with an L007 where a file overflows."""
        kept: list[Problem] = []
        counts, limit = self._counts, self.limit
        for problem in problems:
            n = counts.get(problem.file, 0)
            if n < limit:
                kept.append(problem)
            elif n == limit:
                kept.append(
                    Problem.of(
                        "L007",
                        problem.file,
                        line=problem.line,
                        column=problem.column,
                        pointer=problem.pointer,
                        limit=limit,
                    )
                )
            else:
                continue
            counts[problem.file] = n + 1
        return kept
