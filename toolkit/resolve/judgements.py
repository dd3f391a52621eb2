"""Judgement records: read from the run's `judgements` table, written as JSONL lines.

As nomenklatura's resolver keeps edges (left, right, judgement, user, timestamp), a
judgement is a small record kept in the repository next to the facts, under
`judgements/`, and validated with them. New judgements are appended to one JSONL file per
person, so two reviewers never edit the same lines.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import orjson

Verdict = Literal["same", "different", "unsure"]
VERDICTS: tuple[Verdict, ...] = ("same", "different", "unsure")


@dataclass(frozen=True, slots=True)
class Judgement:
    left: str
    right: str
    judgement: Verdict
    by: str
    decided_at: str
    score: float | None = None
    note: str | None = None

    def to_json(self) -> bytes:
        record: dict[str, object] = {
            "left": self.left,
            "right": self.right,
            "judgement": self.judgement,
            "by": self.by,
            "decided_at": self.decided_at,
        }
        if self.score is not None:
            record["score"] = round(min(1.0, max(0.0, self.score)), 4)
        if self.note:
            record["note"] = self.note
        return orjson.dumps(record)


def now() -> str:
    """The current UTC time as the schema wants it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_for(data: Path, by: str) -> Path:
    """`<data>/judgements/<by, as a slug>.jsonl`."""
    slug = re.sub(r"[^a-z0-9]+", "-", by.lower()).strip("-") or "reviewer"
    return data / "judgements" / f"{slug}.jsonl"


def append_judgements(path: Path, judgements: list[Judgement]) -> None:
    """Append one JSON line per judgement, flushed to disk (a review may stop any time)."""
    if not judgements:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        for judgement in judgements:
            handle.write(judgement.to_json() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
