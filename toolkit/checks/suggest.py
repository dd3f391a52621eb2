"""'Did you mean …?' hints, computed only for values that already failed a check."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
from rapidfuzz import fuzz, process


def closest(value: str, choices: Iterable[str], *, cutoff: float = 60.0) -> str | None:
    """The choice most like `value`, or None when nothing is close enough."""
    options = list(choices)
    if not options or not value:
        return None
    found = process.extractOne(value, options, scorer=fuzz.WRatio, score_cutoff=cutoff)
    return found[0] if found else None


def closest_many(
    values: Sequence[str], choices: Sequence[str], *, cutoff: float = 60.0
) -> dict[str, str | None]:
    """`closest` for many values at once: one matrix of scores per block of values,
    computed by rapidfuzz in C++ on every core (a thousand misspelt actors against a
    registry of thousands would take seconds one by one). Ties go to the first choice,
    as with `closest`."""
    found: dict[str, str | None] = {}
    todo = [v for v in dict.fromkeys(values) if v]
    found.update({v: None for v in values if not v})
    if not choices:
        return {**found, **{v: None for v in todo}}
    rows = max(1, _CELLS // len(choices))
    for at in range(0, len(todo), rows):
        block = todo[at : at + rows]
        scores = process.cdist(
            block, choices, scorer=fuzz.WRatio, score_cutoff=cutoff, workers=-1, dtype=np.float64
        )
        best = scores.argmax(axis=1)
        for value, row, column in zip(block, scores, best, strict=True):
            found[value] = choices[column] if row[column] >= cutoff else None
    return found


_CELLS = 4_000_000  # scores held at once (32 MB)


def did_you_mean(value: str, choices: Iterable[str], *, cutoff: float = 60.0) -> str | None:
    match = closest(value, choices, cutoff=cutoff)
    return f"did you mean '{match}'?" if match and match != value else None


def non_ascii_hint(value: str) -> str | None:
    """Name the characters that make an id fail when it only looks right."""
    odd = [ch for ch in value if ord(ch) > 127 or unicodedata.category(ch) in ("Cf", "Cc")]
    if not odd:
        return None
    names = ", ".join(
        f"'{ch}' U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED')}" for ch in dict.fromkeys(odd)
    )
    return f"contains {names}; ids use ASCII letters, digits and hyphens only"
