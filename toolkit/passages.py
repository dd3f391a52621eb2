"""The closest passage of a text to a span that does not occur in it, for a G601/G602 hint.

Fuzzy-searching a whole text once per miss costs text size × misses (a 15 MB text and a
hundred misses took minutes). Instead, per text: the word n-grams of all its missed spans
are looked up in one polars pass over the text's words, which gives every place where a
span shares a run of words with the text; each span's passage is where most of its
n-grams line up, and only that window (the span's length and a few words) is compared
character by character. The cost is linear in the text plus the spans; the number of
hints is also budgeted per run (`HINT_BUDGET`), so a flood of misses stays cheap.
"""

from __future__ import annotations

import difflib
from collections import Counter
from itertools import accumulate
from typing import Any

import polars as pl
from rapidfuzz import fuzz

GRAM = 3  # words per n-gram (fewer for a shorter span)
PER_GRAM = 64  # places a hint looks at per n-gram: a common phrase says little
SMALL_TEXT = 1 << 16  # characters: below this the index is built in plain Python
PLACES = 4096  # places kept per n-gram; a span whose n-grams are all commoner is searched
SLACK = 8  # words around the aligned window
HINT_BUDGET = 2_000  # misses per run that get a closest passage
_PUNCT = "\"'.,;:!?()[]-…"


def _keys(words: list[str]) -> list[str]:
    """Words as n-grams compare them: without punctuation, in lower case."""
    return [w.strip(_PUNCT).lower() for w in words]


def _bare(words: list[str]) -> list[str]:
    """Words as the hint compares them: a quotation mark is not a difference, case is."""
    return [w.strip(_PUNCT) for w in words]


def _grams(keys: list[str], n: int) -> list[str]:
    return [" ".join(keys[i : i + n]) for i in range(len(keys) - n + 1)]


class PassageIndex:
    """One normalised text's words, and the places in it of the word n-grams that some of
    `spans` (normalised) contain: enough to find each span (`locate`) or, when it is not
    there, the passage most like it (`closest`), without searching the text once per span.
    """

    def __init__(self, norm: str, spans: list[str]) -> None:
        self.norm = norm
        wanted: dict[int, set[str]] = {}
        for span in spans:
            keys = _keys(span.split(" "))
            for inner in (keys, keys[1:-1]):  # every gram, and those of whole words only
                n = min(GRAM, len(inner))
                if n:
                    wanted.setdefault(n, set()).update(_grams(inner, n))
        self.places: dict[str, list[int]] = {}
        self.counts: dict[str, int] = {}
        self.starts: Any
        self.lengths: Any
        if len(norm) <= SMALL_TEXT:
            self._small(norm, wanted)
            return
        words = pl.Series("w", [norm], pl.String).str.split(" ").explode()
        lengths = words.str.len_chars().cast(pl.Int64)
        self.starts = (lengths + 1).cum_sum() - (lengths + 1)
        self.lengths = lengths
        frame = pl.DataFrame({"k": words.str.strip_chars(_PUNCT).str.to_lowercase()})
        frame = frame.with_row_index("i")
        for n, grams in wanted.items():
            key = pl.concat_str([pl.col("k").shift(-i) for i in range(n)], separator=" ")
            found = (
                frame.select("i", key.alias("g"))
                .filter(pl.col("g").is_in(list(grams)))
                .group_by("g")
                .agg(pl.col("i").head(PLACES), pl.len().alias("n"))
            )
            for gram, places, count in found.iter_rows():
                self.places[gram] = places
                self.counts[gram] = count

    def _small(self, norm: str, wanted: dict[int, set[str]]) -> None:
        """The same index in plain Python, for a text too short to pay polars' overhead
        (the common article text: a few thousand characters)."""
        words = norm.split(" ")
        self.lengths = [len(w) for w in words]
        self.starts = list(accumulate((n + 1 for n in self.lengths[:-1]), initial=0))
        keys = _keys(words)
        places, counts = self.places, self.counts
        for n, grams in wanted.items():
            for i, gram in enumerate(_grams(keys, n)):
                if gram in grams:
                    counts[gram] = counts.get(gram, 0) + 1
                    if counts[gram] <= PLACES:
                        places.setdefault(gram, []).append(i)

    def _start(self, word: int) -> int:
        return int(self.starts[word])

    def occurrences(self, span: str) -> list[int] | None:
        """Every place where `span` (normalised) occurs in the text, in order; None when
        the index cannot tell cheaply (a span of fewer than five words, or whose n-grams
        are all too common to list): search it the plain way then. The span's rarest
        n-gram of whole words (not its first or last word, which may be cut) gives the
        candidates, each checked in place."""
        words = span.split(" ")
        inner = _keys(words[1:-1])
        if len(inner) < GRAM:
            return None
        grams = _grams(inner, GRAM)
        if any(g not in self.counts for g in grams):
            return []  # a run of its words is nowhere in the text
        j = min(range(len(grams)), key=lambda k: self.counts[grams[k]])
        places = self.places[grams[j]]
        if self.counts[grams[j]] > len(places):
            return None
        offset = sum(len(w) + 1 for w in words[: j + 1])  # of word j + 1 in the span
        found = {self._start(place) - offset for place in places}
        return sorted(at for at in found if at >= 0 and self.norm.startswith(span, at))

    def locate(self, span: str) -> int | None:
        """Where `span` (normalised) first occurs in the text, or None."""
        found = self.occurrences(span)
        if found is None:
            at = self.norm.find(span) if span else -1
            return at if at >= 0 else None
        return found[0] if found else None

    def closest(self, span: str, *, context: int = 4) -> str:
        """The passage most like `span` (normalised), cut around its first difference
        ('… all the pomp and pageantry that reflect …'); '' when none shares words."""
        wanted = span.split(" ")
        keys = _keys(wanted)
        n = min(GRAM, len(keys))
        votes: Counter[int] = Counter()
        for j, gram in enumerate(_grams(keys, n) if n else []):
            for place in self.places.get(gram, ())[:PER_GRAM]:
                votes[place - j] += 1
        if not votes:
            return ""
        first = max(votes.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        lo = max(0, first - SLACK)
        hi = min(len(self.starts), first + len(wanted) + SLACK) - 1
        window = self.norm[self._start(lo) : self._start(hi) + int(self.lengths[hi])]
        found = fuzz.partial_ratio_alignment(span, window)
        if found is None:
            return ""
        # widen the aligned passage to whole words
        start = window.rfind(" ", 0, found.dest_start) + 1
        end = window.find(" ", found.dest_end)
        words = window[start : end if end >= 0 else len(window)].split(" ")
        # compare words without their punctuation: a quotation mark is not a difference
        matcher = difflib.SequenceMatcher(a=_bare(wanted), b=_bare(words), autojunk=False)
        ends = (0, len(wanted))  # words the alignment took in beyond the span's ends
        diff = next(
            (
                op
                for op in matcher.get_opcodes()
                if op[0] != "equal" and not (op[0] == "insert" and op[1] in ends)
            ),
            None,
        )
        a, b = (diff[3], diff[4]) if diff else (0, len(words))
        a, b = max(0, a - context), min(len(words), max(b, a + 1) + context)
        head = "… " if a > 0 else ""
        tail = " …" if b < len(words) else ""
        return head + " ".join(words[a:b]) + tail
