"""'Did you mean …?' hints, computed only for values that already failed a check."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz, process


def closest(value: str, choices: Iterable[str], *, cutoff: float = 60.0) -> str | None:
    """The choice most like `value`, or None when nothing is close enough."""
    options = list(choices)
    if not options or not value:
        return None
    found = process.extractOne(value, options, scorer=fuzz.WRatio, score_cutoff=cutoff)
    return found[0] if found else None


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
