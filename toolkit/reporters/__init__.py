"""Reporters turn one Report into the text a person, a program or a CI system reads.

Every reporter is a pure function of the Report (plus an optional line source for
quoting the offending line), so the CLI alone decides where the text goes and
which exit code follows. Formats are picked by name from REPORTERS; a new format
(junit, sarif) is one module with a `render` function and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from toolkit.errors import UsageError
from toolkit.reporters import github, json_report, junit, sarif, summary, text
from toolkit.result import Report

LineSource = Callable[[str, int], str | None]
"""Text of line N (1-based) of a file, by its display name; None when unknown.

Reporters never open files themselves: the caller decides what may be read.
"""


class Reporter(Protocol):
    """The shape every format has; keyword options a format has no use for are ignored."""

    def __call__(
        self, report: Report, *, source: LineSource | None = None, color: bool = False
    ) -> str: ...


REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json_report.render,
    "github": github.render,
    "junit": junit.render,
    "sarif": sarif.render,
    "markdown": summary.render,
}


def render(
    report: Report, fmt: str, *, source: LineSource | None = None, color: bool = False
) -> str:
    """Render `report` in the format named `fmt`; an unknown name is the caller's mistake."""
    reporter = REPORTERS.get(fmt)
    if reporter is None:
        names = ", ".join(REPORTERS)
        raise UsageError(f"unknown report format '{fmt}'; choose from: {names}")
    return reporter(report, source=source, color=color)


__all__ = ["REPORTERS", "LineSource", "Reporter", "render"]
