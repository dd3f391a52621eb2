"""'Did you mean …?' hints, computed only for values that already failed a check."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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
    import numpy as np  # only when something failed (its import costs a clean run 0.1 s)

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


_WORD = re.compile(r"[a-z0-9]+")
_SPELLING = 80.0  # WRatio of a misspelling ('artilery' 94); unrelated words score 60–75


def _words_of(text: str) -> set[str]:
    words = set(_WORD.findall(text.lower()))
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 4}


def code_hint(value: str, codes: Sequence[Mapping[str, Any]], where: str) -> str:
    """What a wrong code was probably meant to be, searched by meaning and by spelling.

    In order: a code whose `synonyms` hold the value; a code or label spelt like it; codes
    whose description uses its words ('superseded' → terminated, which says "superseded");
    else that nothing is close, so a hint never sends a contributor to an unrelated code
    ('troops' is no supply category, whatever its letters share with 'machine_tools').
    """
    key = " ".join(_WORD.findall(value.lower()))
    for entry in codes:
        if key in {" ".join(_WORD.findall(s.lower())) for s in entry.get("synonyms") or ()}:
            return f"did you mean '{entry['code']}'? it covers '{value}'"
    names = {entry["code"]: entry["code"] for entry in codes}
    names.update({str(e.get("label") or e["code"]).lower(): e["code"] for e in codes})
    spelt = closest(key.replace(" ", "_"), list(names), cutoff=_SPELLING) or closest(
        key, list(names), cutoff=_SPELLING
    )
    if spelt and names[spelt] != value:
        return f"did you mean '{names[spelt]}'?"
    wanted = {w for w in _words_of(key) if len(w) > 3}
    if wanted:
        found = [e["code"] for e in codes if wanted <= _words_of(str(e.get("description", "")))]
        if found:
            listed = " or ".join(f"'{c}'" for c in found[:3])
            whose = "its description mentions" if len(found) == 1 else "their descriptions mention"
            return f"did you mean {listed}? {whose} '{value}'"
    every = [str(e["code"]) for e in codes]
    listing = (
        f"codes: {', '.join(every)}" if len(every) <= 12 else "see the codebook (docs/codebook.md)"
    )
    return f"nothing in {where} is close to '{value}'; {listing}"
