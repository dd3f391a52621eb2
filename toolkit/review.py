"""Review the data, not the YAML: the facts a change adds, changes and removes.

A reviewer of machine-extracted facts should accept or reject facts, each beside its
evidence, not read YAML diffs. `review_changes` validates the data as it is and as it
was at the base of the change (the same extraction of the base tree as
`--changed-since` uses, `toolkit.changes`), matches facts by their dataset-wide id, and
returns for each fact that differs its fields, its review state and its evidence in the
sentence of the text copy around it. Rendering is `toolkit.reporters.review`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from toolkit.changes import anchor, at_base, find_changes
from toolkit.checker import Run
from toolkit.frames.base import DOC
from toolkit.model.model import Model
from toolkit.stage.texts import stage_texts

Kind = Literal["added", "changed", "removed"]
# Columns shown apart from a fact's fields (in its heading and evidence line) or not at all.
_APART = ("id", "source_id", "local_id", "evidence", "confidence", "review", "note")
_PART_APART = ("source_id", "position")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+|\n\s*\n|\n")
_CONTEXT = 240  # characters of context either side at most, when a sentence runs long


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact as a reviewer sees it."""

    table: str
    id: str
    fields: dict[str, str]  # field → value as text, in schema order; parts as one line each
    review: str  # the fact's own review, else its bundle's
    method: str  # how it was extracted: manual, model or assisted
    confidence: float | None
    evidence: str | None
    context: tuple[str, str, str] | None  # sentence text before, the evidence, after
    file: str  # bundle file, relative to its data folder


@dataclass(frozen=True, slots=True)
class FactChange:
    kind: Kind
    fact: Fact  # as it is now; as it was, for a removed fact
    before: Fact | None = None  # as it was, for a changed fact
    differences: tuple[tuple[str, str | None, str | None], ...] = ()  # field, was, is


@dataclass(frozen=True, slots=True)
class Review:
    ref: str
    base: str
    changes: list[FactChange] = field(default_factory=list)
    unchanged: int = 0

    def count(self, kind: Kind) -> int:
        return sum(1 for c in self.changes if c.kind == kind)


def _text(value: Any) -> str | None:
    if value is None or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _squash(text: str) -> str:
    return " ".join(text.split())


def sentence_around(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The sentence holding text[start:end] (at most `_CONTEXT` characters either side),
    as the text before the span, the span, the text after it; whitespace made single."""
    window = max(0, start - _CONTEXT)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, window, start)]
    lo = ends[-1] if ends else window
    if end > start and text[end - 1] in ".!?…":
        hi = end
    else:
        found = _SENTENCE_END.search(text, end, min(len(text), end + _CONTEXT))
        hi = (
            found.start() + len(found.group().rstrip()) if found else min(len(text), end + _CONTEXT)
        )
    before, after = text[lo:start], text[end:hi]
    head = (
        ("… " if lo == window > 0 else "")
        + _squash(before)
        + (" " if before[-1:].isspace() else "")
    )
    cut = hi == end + _CONTEXT and hi < len(text)
    tail = (" " if after[:1].isspace() else "") + _squash(after) + (" …" if cut else "")
    return head.lstrip(), _squash(text[start:end]), tail


def _parts(model: Model, run: Run, parent: str) -> dict[str, dict[str, str]]:
    """Parent id → part table → one line per part row ('category: weapons; …')."""
    out: dict[str, dict[str, str]] = {}
    for part in model.tables.values():
        if part.kind != "part" or part.parent != parent:
            continue
        frame = run.frames.tables[part.name]
        key = part.primary_key[0]
        # fields the bundle holds, as for facts; derived columns (a date's precision) are
        # added only on export and are implied by the value shown
        shown = [c.name for c in part.columns if c.path and c.name not in (key, *_PART_APART)]
        for row in frame.sort([key, "position"]).iter_rows(named=True):
            cells = [f"{n}: {t}" for n in shown if (t := _text(row[n])) is not None]
            line = "; ".join(cells)
            slot = out.setdefault(row[key], {})
            slot[part.name] = f"{slot[part.name]} | {line}" if part.name in slot else line
    return out


def facts_of(run: Run) -> dict[tuple[str, str], Fact]:
    """Every fact of a run by (table, dataset-wide id)."""
    model, tables = run.model, run.frames.tables
    if run.texts is not None:  # staged by the run: read back, not read again
        texts = run.texts.read(columns=(DOC, "source_text"))
    else:
        texts = stage_texts(tables["sources"], run.frames.documents).table
        texts = texts.select(DOC, "source_text")
    sources = tables["sources"].select(
        pl.col("id").alias("source_id"), "extraction_review", "bundle_file"
    )
    out: dict[tuple[str, str], Fact] = {}
    for table in model.fact_tables:
        frame = tables[table.name].join(sources, on="source_id", how="left")
        frame = frame.join(texts, on=DOC, how="left") if texts.height else frame
        parts = _parts(model, run, table.name)
        shown = [c.name for c in table.columns if c.path and c.name not in _APART]
        for row in frame.filter(pl.col("id").is_not_null()).iter_rows(named=True):
            fields = {n: t for n in shown if (t := _text(row.get(n))) is not None}
            fields.update(parts.get(row["id"], {}))
            text, start, end = row.get("source_text"), row["evidence_start"], row["evidence_end"]
            context = None
            if isinstance(text, str) and start is not None and end is not None:
                context = sentence_around(text, start, end)
            out[(table.name, row["id"])] = Fact(
                table=table.name,
                id=row["id"],
                fields=fields,
                review=row["review"] or row["extraction_review"] or "unreviewed",
                method=row["extraction_method"] or "",
                confidence=row["confidence"],
                evidence=row["evidence"],
                context=context,
                file=row["bundle_file"] or "",
            )
    return out


def _differences(was: Fact, now: Fact) -> tuple[tuple[str, str | None, str | None], ...]:
    names = list(dict.fromkeys([*was.fields, *now.fields]))
    found = [(n, was.fields.get(n), now.fields.get(n)) for n in names]
    found += [
        (name, _text(a), _text(b))
        for name, a, b in (
            ("evidence", was.evidence, now.evidence),
            ("confidence", was.confidence, now.confidence),
            ("review", was.review, now.review),
        )
    ]
    return tuple((n, a, b) for n, a, b in found if a != b)


def compare(
    before: dict[tuple[str, str], Fact], after: dict[tuple[str, str], Fact]
) -> list[FactChange]:
    """Facts added, changed and removed, in table order then by id."""
    changes: list[FactChange] = []
    for key in sorted(after.keys() - before.keys()):
        changes.append(FactChange("added", after[key]))
    for key in sorted(after.keys() & before.keys()):
        differences = _differences(before[key], after[key])
        if differences:
            changes.append(FactChange("changed", after[key], before[key], differences))
    for key in sorted(before.keys() - after.keys()):
        changes.append(FactChange("removed", before[key]))
    order = {"added": 0, "changed": 1, "removed": 2}
    return sorted(changes, key=lambda c: (order[c.kind], c.fact.table, c.fact.id))


def review_changes(paths: Sequence[str], ref: str) -> Review:
    """The facts under `paths` that differ from the base of `ref` (merge base with HEAD).

    Raises ChangesUnavailable when git, the repository or the ref is missing.
    """
    from toolkit import checker

    changes = find_changes(anchor(paths), ref)
    with checker.run(list(paths)) as current:
        now = facts_of(current)
    was: dict[tuple[str, str], Fact] = {}
    with at_base(changes, list(paths)) as (args, _):
        if args:
            with checker.run(args) as base:
                was = facts_of(base)
    found = compare(was, now)
    unchanged = len(now.keys() & was.keys()) - sum(1 for c in found if c.kind == "changed")
    return Review(ref=ref, base=changes.base, changes=found, unchanged=unchanged)
