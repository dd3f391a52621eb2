"""The CI format: GitHub Actions workflow commands, one annotation per problem.

The runner reads lines such as ``::error file=a.yaml,line=3,col=5,title=S101
missing-field::message`` from the step log and pins them to the file in the pull
request. Values are escaped as the Actions toolkit does (core/src/command.ts):
data escapes ``%``, CR and LF; properties also escape ``:`` and ``,``, which would
otherwise end the property list or the command. Unescaped, a newline in a message
from a crafted file could start a command of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.problems import Problem
from toolkit.reporters.text import printable, summary_line
from toolkit.result import Report

if TYPE_CHECKING:
    from toolkit.reporters import LineSource


def escape_data(value: str) -> str:
    """Escape the message part of a workflow command (after the second ``::``).

    Line breaks are kept (escaped, GitHub shows them); other control, bidi and
    zero-width characters are spelled out, as in the text format, so an
    annotation cannot colour the log or display text in a misleading order.
    """
    if not value.isprintable():
        value = "".join(ch if ch in "\r\n" else printable(ch) for ch in value)
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a ``key=value`` property of a workflow command."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(problem: Problem) -> str:
    """The workflow command for one problem; line and col only when they are known."""
    command = "warning" if problem.severity == "warning" else "error"
    properties = [f"file={escape_property(problem.file)}"]
    if problem.line:
        properties.append(f"line={problem.line}")
        if problem.column:
            properties.append(f"col={problem.column}")
    properties.append(f"title={escape_property(f'{problem.code} {problem.rule}')}")
    message = problem.message
    if problem.hint:
        message += f" (hint: {problem.hint})"
    return f"::{command} {','.join(properties)}::{escape_data(message)}"


def render(report: Report, *, source: LineSource | None = None, color: bool = False) -> str:
    """One command per problem, a notice per run-level remark, then a plain summary line."""
    lines = [annotation(p) for p in sorted(report.problems, key=Problem.sort_key)]
    lines.extend(f"::notice::{escape_data(note)}" for note in report.notices)
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
