"""A Markdown summary for a CI job page (GitHub's `$GITHUB_STEP_SUMMARY`), format `markdown`.

Annotations point at lines but are capped per step and scattered over the diff;
the summary is the one page a contributor opens first: the totals, how many
problems of each code (with the rule name, so the count says what to fix), and
the first problems as `file:line` links. On GitHub Actions (GITHUB_SERVER_URL,
GITHUB_REPOSITORY and GITHUB_SHA set) the links open the file at the commit
checked; elsewhere the location is plain text.

Messages quote contributed data, so Markdown and HTML syntax in them is escaped:
a value in a bundle cannot become a link, an image, a mention or a table cell.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

from toolkit.codes import CODES
from toolkit.problems import Problem
from toolkit.reporters.text import printable, summary_line
from toolkit.result import Report

if TYPE_CHECKING:
    from toolkit.reporters import LineSource

FIRST = 20  # problems listed one by one; the counts table covers the rest
_SPECIAL = frozenset("\\`*_[]<>#|~@&")


def md(value: str) -> str:
    """Inline text safe in Markdown: one line, syntax characters backslash-escaped."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in printable(value))


def blob_base(env: Mapping[str, str]) -> str | None:
    """`https://github.com/OWNER/REPO/blob/SHA/` on GitHub Actions, else None."""
    server = env.get("GITHUB_SERVER_URL", "").rstrip("/")
    repo = env.get("GITHUB_REPOSITORY", "")
    sha = env.get("GITHUB_SHA", "")
    if not (server and repo and sha):
        return None
    return f"{server}/{quote(repo, safe='/')}/blob/{quote(sha, safe='')}/"


def _repo_path(file: str, env: Mapping[str, str]) -> str | None:
    """`file` relative to the checkout (the working folder on CI), or None outside it."""
    workspace = env.get("GITHUB_WORKSPACE") or os.getcwd()
    absolute = os.path.abspath(file)
    relative = os.path.relpath(absolute, os.path.abspath(workspace))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return None
    return relative.replace(os.sep, "/")


def location(problem: Problem, base: str | None, env: Mapping[str, str]) -> str:
    """`file:line` as a link to the line when a base URL is known and the file is in the repo."""
    where = problem.file + (f":{problem.line}" if problem.line else "")
    shown = printable(where).replace("`", "'")
    text = f"`{shown}`"
    path = _repo_path(problem.file, env) if base else None
    if base is None or path is None:
        return text
    anchor = f"#L{problem.line}" if problem.line else ""
    return f"[{text}]({base}{quote(path, safe='/')}{anchor})"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _counts(report: Report) -> list[str]:
    lines = ["| Code | Rule | Severity | Count |", "| --- | --- | --- | ---: |"]
    for code, count in sorted(report.by_code().items()):
        spec = CODES.get(code)
        rule = spec.name if spec else "?"
        severity = spec.severity if spec else "?"
        lines.append(f"| {md(code)} | {md(rule)} | {severity} | {count} |")
    return lines


def render_markdown(
    report: Report,
    *,
    base: str | None = None,
    first: int = FIRST,
    env: Mapping[str, str] | None = None,
) -> str:
    """The summary; `base` is the blob URL files are linked under (None: no links)."""
    env = os.environ if env is None else env
    icon = "❌" if report.errors else ("⚠️" if report.warnings else "✅")
    headline = summary_line(report)
    if not report.problems:
        headline = f"no problems in {_plural(report.files, 'file')} "
        headline += f"({_plural(report.records, 'record')})"
    lines = [f"## {icon} factkit: {md(headline)}", ""]
    lines += [f"> {md(note)}" for note in report.notices]
    if report.notices:
        lines.append("")
    if not report.problems:
        return "\n".join(lines) + "\n"
    lines += [*_counts(report), ""]
    problems = sorted(report.problems, key=Problem.sort_key)
    shown = problems[:first]
    heading = "Problems" if len(shown) == len(problems) else f"First {len(shown)} problems"
    lines += [f"### {heading}", ""]
    for p in shown:
        item = f"- {location(p, base, env)} **{p.severity}** {md(p.code)} {md(p.rule)}: "
        item += md(p.message)
        if p.hint:
            item += f" *(hint: {md(p.hint)})*"
        lines.append(item)
    rest = len(problems) - len(shown)
    if rest:
        lines += ["", f"…and {rest} more: run `make validate` for the full list."]
    return "\n".join(lines) + "\n"


def render(report: Report, *, source: LineSource | None = None, color: bool = False) -> str:
    """The summary with GitHub links when the Actions variables say where the files are."""
    return render_markdown(report, base=blob_base(os.environ))
