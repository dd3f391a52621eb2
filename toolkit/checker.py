"""One validation run: files → documents → tables → check families → a Report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from toolkit.checks import (
    consistency,
    grounding,
    identity,
    references,
    safety,
    texts,
    vocabularies,
)
from toolkit.checks.base import CheckContext, to_problems
from toolkit.checks.grounding import OFFSETS
from toolkit.checks.schema import check_dates, check_documents
from toolkit.frames import Frames, build_frames
from toolkit.frames.build import DOC, PTR
from toolkit.model.model import Model, load_model
from toolkit.parsers import discover, parse_file
from toolkit.parsers.base import Document, Limits
from toolkit.problems import Problem
from toolkit.result import Report

# The cross-record families, in report order. Each module lists its checks in CHECKS.
FAMILIES = (identity, references, vocabularies, consistency, texts, grounding, safety)


@dataclass(slots=True)
class Run:
    """A validation run with what an export needs besides the report."""

    report: Report
    model: Model
    frames: Frames


def load_documents(
    paths: Sequence[str], limits: Limits
) -> tuple[list[Document], list[Problem], int]:
    documents, problems, files = _load(paths, limits)
    return documents, problems, len(files)


def _load(paths: Sequence[str], limits: Limits) -> tuple[list[Document], list[Problem], list[str]]:
    """Documents, problems and the display name of every file read (reporters list them)."""
    entries, problems = discover(paths)
    documents: list[Document] = []
    for entry in entries:
        result = parse_file(entry.path, entry.file, entry.role, limits, entry.root)
        problems += result.problems
        documents += result.documents
    return documents, problems, [entry.file for entry in entries]


def attach_offsets(model: Model, frames: Frames, offsets: pl.DataFrame | None) -> None:
    """Give each fact table the evidence offsets grounding found (null where none)."""
    for table in model.fact_tables:
        frame = frames.tables[table.name]
        found = None if offsets is None else offsets.filter(pl.col("table") == table.name)
        if found is None or found.is_empty():
            frames.tables[table.name] = frame.with_columns(
                pl.lit(None, pl.Int64).alias("evidence_start"),
                pl.lit(None, pl.Int64).alias("evidence_end"),
            )
        else:
            frames.tables[table.name] = frame.join(
                found.drop("table"), on=[DOC, PTR], how="left", maintain_order="left"
            )


def run(paths: Sequence[str] = ("data",), *, limits: Limits | None = None) -> Run:
    """Validate everything under `paths`; raises only on usage or internal errors."""
    model = load_model()
    documents, problems, checked = _load(paths, limits or Limits())
    problems += check_documents(model, documents)
    frames = build_frames(model, documents)
    ctx = CheckContext(model, frames)
    for fails in check_dates(ctx):
        problems += to_problems(fails, documents)
    for family in FAMILIES:
        for check in family.CHECKS:
            for fails in check(ctx):
                problems += to_problems(fails, documents)
    attach_offsets(model, frames, ctx.cache.get(OFFSETS))
    records = sum(frames.tables[t.name].height for t in model.fact_tables)
    records += frames.tables["sources"].height + frames.tables["actors"].height
    report = Report(problems=problems, files=len(checked), records=records, checked_files=checked)
    return Run(report, model, frames)


def validate(paths: Sequence[str] = ("data",), *, limits: Limits | None = None) -> Report:
    return run(paths, limits=limits).report
