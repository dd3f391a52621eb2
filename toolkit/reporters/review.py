"""The facts a change adds, changes and removes, as text (a terminal) or Markdown (a CI job
summary): each with its fields, its review state and its evidence in its sentence.

Values are contributed data: in Markdown every syntax character is escaped (`md`), so a
value cannot become a link, an image, a mention or a table cell; in text, control and
bidirectional characters are shown escaped (`printable`).
"""

from __future__ import annotations

from toolkit.reporters.summary import md
from toolkit.reporters.text import printable
from toolkit.review import Fact, FactChange, Kind, Review

FORMATS = ("text", "markdown")
_HEADINGS: dict[Kind, str] = {"added": "Added", "changed": "Changed", "removed": "Removed"}
_SIGNS: dict[Kind, str] = {"added": "+", "changed": "~", "removed": "-"}
_LONG = 300  # characters of a field value shown


def _tick(value: str) -> str:
    """Inline code of contributed text: one line, and no backtick to end it early."""
    return "`" + printable(value).replace("`", "'") + "`"


def _cut(value: str) -> str:
    return value if len(value) <= _LONG else value[: _LONG - 1] + "…"


def _totals(review: Review) -> str:
    counts = [f"{review.count(k)} {k}" for k in ("added", "changed", "removed")]
    return f"{', '.join(counts)}; {review.unchanged} unchanged"


def _state(fact: Fact) -> str:
    how = fact.method + (f", confidence {fact.confidence:g}" if fact.confidence is not None else "")
    return f"{fact.review} ({how})" if how else fact.review


def _md_evidence(fact: Fact) -> str:
    if fact.context is not None:
        before, span, after = fact.context
        return f"> {md(before)}**{md(span)}**{md(after)}"
    if fact.evidence:
        return f"> **{md(_cut(fact.evidence))}** (not located in a text copy)"
    return "> (no evidence given)"


def _md_change(change: FactChange) -> list[str]:
    fact = change.fact
    lines = [
        f"#### {md(fact.table)} {_tick(fact.id)}",
        "",
        f"Review: **{md(_state(fact))}** · file {_tick(fact.file)}",
        "",
    ]
    if change.kind == "changed":
        lines += ["| field | was | is |", "| --- | --- | --- |"]
        lines += [
            f"| {md(name)} | {md(_cut(was or '–'))} | {md(_cut(now or '–'))} |"
            for name, was, now in change.differences
        ]
    else:
        lines += ["| field | value |", "| --- | --- |"]
        lines += [f"| {md(name)} | {md(_cut(value))} |" for name, value in fact.fields.items()]
    return [*lines, "", _md_evidence(fact), ""]


def render_markdown(review: Review) -> str:
    lines = [
        "## Facts in this change",
        "",
        f"Compared with {_tick(review.ref)} (merge base `{review.base[:12]}`): {_totals(review)}.",
        "",
    ]
    if not review.changes:
        lines += ["The change adds, changes and removes no facts.", ""]
    for kind in ("added", "changed", "removed"):
        chosen = [c for c in review.changes if c.kind == kind]
        if chosen:
            lines += [f"### {_HEADINGS[kind]} ({len(chosen)})", ""]
            for change in chosen:
                lines += _md_change(change)
    return "\n".join(lines)


def _text_change(change: FactChange) -> list[str]:
    fact = change.fact
    head = f"{_SIGNS[change.kind]} {change.kind} {fact.table} {fact.id} [{_state(fact)}]"
    lines = [printable(f"{head} {fact.file}")]
    if change.kind == "changed":
        lines += [
            printable(f"    {name}: {_cut(was or '-')} -> {_cut(now or '-')}")
            for name, was, now in change.differences
        ]
    else:
        lines += [printable(f"    {n}: {_cut(v)}") for n, v in fact.fields.items()]
    if fact.context is not None:
        before, span, after = fact.context
        lines.append(printable(f"    evidence: {before}»{span}«{after}"))
    elif fact.evidence:
        lines.append(printable(f"    evidence: »{_cut(fact.evidence)}« (not located)"))
    else:
        lines.append("    evidence: none")
    return lines


def render_text(review: Review) -> str:
    lines = [
        printable(f"facts changed since {review.ref} (merge base {review.base[:12]}): ")
        + _totals(review)
    ]
    for change in review.changes:
        lines += ["", *_text_change(change)]
    return "\n".join(lines) + "\n"


def render(review: Review, fmt: str) -> str:
    return render_markdown(review) if fmt == "markdown" else render_text(review)
