"""Progress of long runs: a small callback interface the library calls, and a terminal bar.

The library never prints. It calls `begin(stage, total)`, then `advance(done, facts)`
as work proceeds (`done` in the stage's units, e.g. bytes read of `total`; `facts`
counted so far), then `end()`. `Progress` itself ignores every call, so passing
nothing costs nothing. The command line draws a `Bar` on stderr, and only when stderr
is a terminal and `--quiet` is not given (`for_terminal`): a log file or a CI job gets
no carriage returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Receives progress events; this base class ignores them."""

    def begin(self, stage: str, total: int | None = None) -> None:
        """A stage starts; `total` is its size in the units `advance` reports, if known."""

    def advance(self, done: int, facts: int) -> None:
        """`done` units of the stage's total are finished and `facts` facts were read."""

    def end(self) -> None:
        """The run is over (also after an error): leave the terminal as it was."""


NULL = Progress()


def _count(n: float) -> str:
    return f"{n:,.0f}"


class Bar(Progress):
    """A one-line bar redrawn in place: stage, percent, facts and facts per second."""

    def __init__(
        self,
        stream: TextIO,
        *,
        width: int = 24,
        interval: float = 0.1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.stream = stream
        self.width = width
        self.interval = interval
        self.clock = clock or time.monotonic
        self.stage = ""
        self.total: int | None = None
        self.started = self.clock()
        self.facts_at_start = 0
        self.facts = 0
        self.last_draw = -1.0
        self.drawn = False

    def begin(self, stage: str, total: int | None = None) -> None:
        self.stage = stage
        self.total = total
        self.started = self.clock()
        self.facts_at_start = self.facts
        self.last_draw = -1.0
        self.draw(0, force=True)

    def advance(self, done: int, facts: int) -> None:
        self.facts = facts
        self.draw(done)

    def line(self, done: int) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = (self.facts - self.facts_at_start) / elapsed
        parts = [f"{self.stage:<10}"]
        if self.total:
            share = min(max(done / self.total, 0.0), 1.0)
            filled = int(share * self.width)
            parts.append(f"[{'#' * filled}{'-' * (self.width - filled)}] {share:4.0%}")
        parts.append(f"{_count(self.facts)} facts")
        if self.facts > self.facts_at_start:
            parts.append(f"{_count(rate)} facts/s")
        return "  ".join(parts)

    def draw(self, done: int, *, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        try:
            self.stream.write("\r\x1b[K" + self.line(done))
            self.stream.flush()
            self.drawn = True
        except (OSError, ValueError):
            pass

    def end(self) -> None:
        if self.drawn:
            try:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.drawn = False


def for_terminal(stream: TextIO, *, quiet: bool = False) -> Progress:
    """A Bar on `stream` when it is a terminal and not quiet, else the silent NULL."""
    if quiet:
        return NULL
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError, OSError):
        interactive = False
    return Bar(stream) if interactive else NULL
