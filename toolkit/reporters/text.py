"""The human format: compiler-style messages with the offending line and a caret.

Layout of one problem (the source excerpt only when the line can be read)::

    data/a.yaml:12:7: error[S101 missing-field] required field 'mode' is missing
      12 | kind: quote
         |       ^
      = hint: add 'mode: report'

Input files are untrusted, and this text lands in terminals and CI logs: control,
format (bidi, zero-width) and surrogate characters are never written raw, so a
crafted file cannot recolour the terminal, hide text, or reorder what is shown.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from toolkit.problems import Problem
from toolkit.result import Report

if TYPE_CHECKING:
    from toolkit.reporters import LineSource

MAX_EXCERPT = 160  # characters of a source line shown around the column
TAB_WIDTH = 4
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_REPLACEMENT = "\ufffd"

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_RED = "\x1b[1;31m"
_YELLOW = "\x1b[1;33m"
_GREEN = "\x1b[1;32m"
_BLUE = "\x1b[1;34m"
_CYAN = "\x1b[1;36m"
_SEVERITY_COLOR = {"error": _RED, "warning": _YELLOW}


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def printable(value: str) -> str:
    """`value` on one line with every control/format/surrogate character escaped (\\n, \\u202e).

    Used for messages, hints and paths, where showing *which* character is there
    matters more than keeping columns aligned.
    """
    if value.isprintable():  # fast path: nothing to escape
        return value
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if _unsafe(ch) else ch for ch in value
    )


def _char_width(ch: str) -> int:
    """Terminal columns a (safe) character takes, so the caret lands under wide text."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _excerpt(line: str, column: int | None) -> tuple[str, int | None]:
    """The displayable part of `line` and the terminal offset of `column` in it.

    Long lines (minified JSON, JSONL records) show a window of MAX_EXCERPT
    characters around the column, with an ellipsis where text was cut. Tabs
    become spaces up to the next tab stop; unsafe characters become U+FFFD,
    one for one, so the column arithmetic stays exact.
    """
    index = None if column is None else max(0, column - 1)
    start, end = 0, len(line)
    if len(line) > MAX_EXCERPT:
        centre = min(index if index is not None else 0, len(line))
        start = max(0, centre - MAX_EXCERPT // 2)
        end = min(len(line), start + MAX_EXCERPT)
        start = max(0, end - MAX_EXCERPT)
    out: list[str] = ["…"] if start > 0 else []
    width = 1 if start > 0 else 0
    caret: int | None = None
    for i in range(start, end):
        if i == index:
            caret = width
        ch = line[i]
        if ch == "\t":
            spaces = TAB_WIDTH - (width % TAB_WIDTH)
            out.append(" " * spaces)
            width += spaces
        elif _unsafe(ch):
            out.append(_REPLACEMENT)
            width += 1
        else:
            out.append(ch)
            width += _char_width(ch)
    if index is not None and caret is None:
        # The column is at or past the end of the line (where a missing value would go).
        caret = width
    if end < len(line):
        out.append("…")
    return "".join(out).rstrip(), caret


class _Style:
    """ANSI styling that collapses to nothing when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color and text else text


def _location(problem: Problem) -> str:
    where = printable(problem.file)
    if problem.line:
        where += f":{problem.line}"
        if problem.column:
            where += f":{problem.column}"
    return where


def _problem_block(problem: Problem, source: LineSource | None, style: _Style) -> list[str]:
    severity = style(_SEVERITY_COLOR.get(problem.severity, _RED), problem.severity)
    tag = style(_BOLD, f"[{problem.code} {problem.rule}]")
    lines = [f"{style(_BOLD, _location(problem))}: {severity}{tag} {printable(problem.message)}"]
    raw = source(problem.file, problem.line) if source is not None and problem.line else None
    if raw is not None:
        shown, caret = _excerpt(raw, problem.column)
        number = str(problem.line)
        gutter = " " * len(number)
        lines.append(f"  {style(_BLUE, number + ' |')} {shown}".rstrip())
        if caret is not None:
            mark = style(_SEVERITY_COLOR.get(problem.severity, _RED), "^")
            lines.append(f"  {style(_BLUE, gutter + ' |')} {' ' * caret}{mark}")
    if problem.hint:
        lines.append(f"  {style(_CYAN, '= hint:')} {printable(problem.hint)}")
    lines.append("")
    return lines


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_line(report: Report) -> str:
    """One line a person reads first: counts of errors, warnings, files and records."""
    files = _plural(report.files, "file")
    records = _plural(report.records, "record")
    if not report.problems:
        return f"ok: {records} in {files}: no problems"
    errors = _plural(report.errors, "error")
    warnings = _plural(report.warnings, "warning")
    return f"{errors}, {warnings} in {files} ({records})"


def render(report: Report, *, source: LineSource | None = None, color: bool = False) -> str:
    """The whole report as text, one block per problem, files in sorted order."""
    style = _Style(color)
    lines: list[str] = []
    # Sorting by file, line and column groups each file's problems together.
    for problem in sorted(report.problems, key=Problem.sort_key):
        lines.extend(_problem_block(problem, source, style))
    lines.extend(f"{style(_CYAN, 'note:')} {printable(note)}" for note in report.notices)
    summary = summary_line(report)
    if report.errors:
        summary = style(_RED, summary)
    elif report.warnings:
        summary = style(_YELLOW, summary)
    else:
        summary = style(_GREEN, summary)
    lines.append(summary)
    return "\n".join(lines) + "\n"
