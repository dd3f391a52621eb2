"""Find a fact's words in its source text, after a documented normalisation.

Normalisation, applied to both the text and the span before comparing:
1. Unicode NFC;
2. typographic double quotes (“ ” „ ‟ « » ″) become `"`, single quotes and apostrophes
   (‘ ’ ‚ ‛ ′) become `'`;
3. hyphens and dashes (‐ ‑ ‒ – — ― −) become `-`;
4. every run of whitespace, line breaks included (also no-break and other Unicode spaces),
   becomes one space; leading and trailing whitespace is dropped.
Case, punctuation and words are never changed: a quote with one word changed does not ground.

Matching runs in polars over whole tables; only spans that are not found as written touch
Python: each text they belong to is normalised once (`NormalText`, with a map back to the
original offsets) and all its spans are searched in that, and the 'closest passage' hints
of a text's misses come from one index of it (`toolkit.passages`).
"""

from __future__ import annotations

import bisect
import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

import polars as pl

from toolkit.frames.base import DOC, PTR
from toolkit.passages import PassageIndex

if TYPE_CHECKING:
    from toolkit.model.model import Model
    from toolkit.stage.texts import SourceTexts

DOUBLE_QUOTES = "“”„‟«»″"
SINGLE_QUOTES = "‘’‚‛′"
DASHES = "‐‑‒–—―−"
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_CLASS = f"[{WHITESPACE}]+"
# the same runs, but a single plain space (the usual gap between words) is not a match:
# replacing every gap by itself was most of the cost of normalising a text in polars
_WS_TO_COLLAPSE = f"[{WHITESPACE}]{{2,}}|[{WHITESPACE.replace(' ', '')}]"
_WS = re.compile(_WS_CLASS)
_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys(DOUBLE_QUOTES, '"'),
        **dict.fromkeys(SINGLE_QUOTES, "'"),
        **dict.fromkeys(DASHES, "-"),
    }
)


def normalize(text: str) -> str:
    """The normal form compared by grounding (see the module docstring)."""
    text = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    return _WS.sub(" ", text).strip(" ")


def normalize_expr(expr: pl.Expr) -> pl.Expr:
    """`normalize` as a polars expression; the tests hold the two to the same output."""
    expr = expr.str.normalize("NFC")
    expr = expr.str.replace_all(f"[{DOUBLE_QUOTES}]", '"')
    expr = expr.str.replace_all(f"[{SINGLE_QUOTES}]", "'")
    expr = expr.str.replace_all(f"[{DASHES}]", "-")
    return expr.str.replace_all(_WS_TO_COLLAPSE, " ").str.strip_chars(" ")


_WS_CHARS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
# quotes and dashes made plain, and every whitespace character a space: all one for one
_PLAIN = {**_TRANSLATE, **str.maketrans(dict.fromkeys(_WS_CHARS, " "))}
_SPACES = re.compile(" {2,}")
# a stretch NFC may change: non-ASCII characters and the character before them (an ASCII
# letter can take a combining accent); ASCII characters never compose with what precedes
# them, so stretches are normalised on their own
_NON_ASCII = re.compile(r".?[^\x00-\x7f]+", re.DOTALL)


def _plain(text: str) -> str:
    """`text.translate(_PLAIN)`; a translate with a table walks the text in Python's
    slow path (seconds for a 15 MB text), a replace per character present does not."""
    for code, to in _PLAIN.items():
        ch = chr(code)
        if ch != to and ch in text:
            text = text.replace(ch, to if isinstance(to, str) else chr(to))
    return text


class _Breaks:
    """A map from positions in one string to positions in another that differs by
    runs: position x maps to x + delta, delta changing only at the break positions."""

    def __init__(self) -> None:
        self.at: list[int] = [0]
        self.delta: list[int] = [0]

    def set(self, position: int, delta: int) -> None:
        if delta == self.delta[-1]:
            return
        if position == self.at[-1]:
            self.delta[-1] = delta
        else:
            self.at.append(position)
            self.delta.append(delta)

    def __call__(self, position: int) -> int:
        return position + self.delta[bisect.bisect_right(self.at, position) - 1]


def _cluster_starts(text: str) -> tuple[str, list[int]]:
    """NFC of `text`, character cluster by cluster, with the index each output character
    came from (the slow way, for the rare stretch that is not in NFC already)."""
    out: list[str] = []
    starts: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        nfc = unicodedata.normalize("NFC", text[i:j])
        out.append(nfc)
        # a cluster NFC only reorders keeps its positions; a composed one maps to its start
        starts.extend(range(i, j) if len(nfc) == j - i else [i] * len(nfc))
        i = j
    return "".join(out), starts


def _nfc_with_map(text: str) -> tuple[str, _Breaks]:
    """NFC of `text` and the map from its positions back to `text`'s."""
    back = _Breaks()
    if unicodedata.is_normalized("NFC", text):
        return text, back
    pieces: list[str] = []
    done = 0  # characters of `text` consumed
    length = 0  # characters of NFC output so far
    for m in _NON_ASCII.finditer(text):
        stretch = m.group()
        if unicodedata.is_normalized("NFC", stretch):
            continue
        pieces.append(text[done : m.start()])
        length += m.start() - done
        nfc, starts = _cluster_starts(stretch)
        for k, start in enumerate(starts):
            back.set(length + k, m.start() + start - (length + k))
        pieces.append(nfc)
        length += len(nfc)
        done = m.end()
        back.set(length, done - length)
    pieces.append(text[done:])
    return "".join(pieces), back


class NormalText:
    """A text normalised once (see the module docstring), with a map from each position of
    the normal form back to the original: every span of the text is then searched in
    `norm` and mapped back, at the cost of one normalisation per text, not per span. The
    map is kept as the few positions where the two drift apart (collapsed whitespace,
    composed accents), so it costs memory in proportion to those, not to the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        nfc, self._from_nfc = _nfc_with_map(text)
        plain = _plain(nfc)
        lead = len(plain) - len(plain.lstrip(" "))
        self._from_plain = _Breaks()
        self._from_plain.set(0, lead)
        pieces: list[str] = []
        done, removed = lead, lead
        for m in _SPACES.finditer(plain, lead):
            pieces.append(plain[done : m.start() + 1])
            removed += m.end() - m.start() - 1
            done = m.end()
            self._from_plain.set(done - removed, removed)
        pieces.append(plain[done:])
        self.norm = "".join(pieces).rstrip(" ")

    def original(self, position: int) -> int:
        """Index in the original text of the character at `position` of `norm`."""
        return self._from_nfc(self._from_plain(position))

    def span(self, norm_span: str, at: int | None = None) -> tuple[int, int] | None:
        """Offsets in the original text of the passage whose normal form is `norm_span`
        (already normalised): the one at `at` in `norm`, or the first; None if none."""
        pos = at if at is not None else self.norm.find(norm_span) if norm_span else -1
        if pos < 0 or not norm_span:
            return None
        stop = self.original(pos + len(norm_span) - 1) + 1
        text = self.text
        while stop < len(text) and unicodedata.combining(text[stop]):
            stop += 1
        return self.original(pos), stop


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normal form plus, for each of its characters, the index it came from in `text`
    (with one extra entry: the end), so a match maps back to the original."""
    normal = NormalText(text)
    starts = [normal.original(k) for k in range(len(normal.norm))]
    if not starts:
        return normal.norm, [len(text)]
    end = normal.span(normal.norm)
    return normal.norm, [*starts, end[1] if end else len(text)]


def original_span(text: str, span: str) -> tuple[int, int] | None:
    """Character offsets in `text` of the passage that `span` matches, or None."""
    exact = text.find(span)
    if exact >= 0:
        return exact, exact + len(span)
    return NormalText(text).span(normalize(span))


def closest_passage(text: str, span: str, *, context: int = 4) -> str:
    """The passage of `text` most like `span`, cut around the first difference, for a hint
    ('… all the pomp and pageantry that reflect …'); for many spans of one text, build
    one `PassageIndex` instead."""
    target = normalize(span)
    if not target:
        return ""
    return PassageIndex(normalize(text), [target]).closest(target, context=context)


EVIDENCE = "G601"  # the grounded field whose offsets the export keeps


def grounded_columns(model: Model) -> list[tuple[str, str, str, str]]:
    """(table, column, pointer suffix, code) of every span the schema marks `x-grounded`
    (evidence, a provision's wording, …): evidence is G601 (and gives the offsets the
    export keeps); any other grounded field is G609."""
    return [
        (
            table.name,
            col.name,
            "/" + "/".join(col.path),
            EVIDENCE if col.name == "evidence" else "G609",
        )
        for table in model.record_tables
        if table.kind in ("fact", "part")
        for col in table.columns
        if col.grounded
    ]


_AT = ("evidence_start", "evidence_end")


# Spans located a batch at a time (`_exact_offsets`): each span is joined to its whole
# text, and counting characters copies the text before it.
SPAN_ROWS = 8192


def _exact_offsets(spans: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """Character offsets of spans found verbatim in their texts (the first occurrence).

    `str.find` gives a byte offset. In a text of ASCII only it is the character offset;
    in another, the characters before it are counted, which needs the bytes before it as
    a string of their own. Both steps hold text per span, so spans go `SPAN_ROWS` at a
    time: all at once, at 1M facts, they raised the export's peak by 1.7 GB (to 3.1 GB)."""
    if spans.is_empty():  # else polars takes its time over the texts' buffers for nothing
        return spans.select("table", DOC, PTR, *(pl.lit(None, pl.Int64).alias(c) for c in _AT))
    text = pl.col("source_text")
    plain = (text.str.len_bytes() == text.str.len_chars()).alias("_plain")
    texts = texts.select(DOC, "source_text", plain)
    return pl.concat([_located(batch, texts) for batch in spans.iter_slices(SPAN_ROWS)])


@cache
def _find_counts_characters() -> bool:
    """Whether polars' `str.find` gives a character offset (polars 2.2) rather than a byte
    offset (2.1 and before): asked of polars itself, once."""
    return bool(pl.Series(["\u00e9."]).str.find(".", literal=True)[0] == 1)


def _located(spans: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """`_exact_offsets` of a batch of spans, in their order."""
    text, span = pl.col("source_text"), pl.col("span")
    joined = spans.with_row_index("_at").join(texts, on=DOC, how="inner")
    found = joined.with_columns(text.str.find(span, literal=True).alias("_byte")).filter(
        pl.col("_byte").is_not_null()
    )
    if _find_counts_characters():  # the offset is already in characters
        counted = found.with_columns(pl.col("_byte").alias("_start"))
    else:
        chars = text.cast(pl.Binary).bin.head(pl.col("_byte")).cast(pl.String).str.len_chars()
        counted = pl.concat(
            [
                found.filter(pl.col("_plain")).with_columns(pl.col("_byte").alias("_start")),
                found.filter(~pl.col("_plain")).with_columns(chars.alias("_start")),
            ]
        )
    return counted.sort("_at").select(
        "table",
        DOC,
        PTR,
        pl.col("_start").cast(pl.Int64).alias("evidence_start"),
        (pl.col("_start") + span.str.len_chars()).cast(pl.Int64).alias("evidence_end"),
    )


def evidence_offsets(
    model: Model,
    tables: dict[str, pl.DataFrame],
    texts: SourceTexts,
    searched: pl.DataFrame | None,
) -> pl.DataFrame | None:
    """Where each fact's evidence sits in its text, for the export: `table`, `_doc`,
    `_ptr`, `evidence_start`, `evidence_end` (characters) of every grounded evidence.

    `searched` holds what the grounding check settled on the driver (the evidence not
    found as written, with its offsets or null); the rest, found as written by the engine,
    is located here with polars, where the export runs: engines have no common `find`
    nor a slice by column (notes/engines-measured). A part of the texts at a time (the
    texts stay on disk, `SourceTexts`), two at a time: polars searches each on one core
    (1M facts: 2.4 -> 1.4 s). None: grounding did not run."""
    if searched is None:
        return None
    parts = [
        tables[table]
        .filter(pl.col(column).is_not_null())
        .select(pl.lit(table).alias("table"), DOC, PTR, pl.col(column).alias("span"))
        for table, column, _, code in grounded_columns(model)
        if code == EVIDENCE
    ]
    keys = ["table", DOC, PTR]
    spans = pl.concat(parts).join(searched.select(keys), on=keys, how="anti", maintain_order="left")
    ranges = texts.ranges()
    # the part of the texts each span's document is in (a range's first document or later)
    firsts = pl.Series([first for first, _ in ranges], dtype=pl.Int64)
    at = firsts.search_sorted(spans[DOC].cast(pl.Int64), side="right") - 1
    by_part = spans.with_columns(at.alias("_part")).partition_by(
        "_part", as_dict=True, include_key=False
    )

    def located(part: int) -> pl.DataFrame:
        own = by_part.get((part,), spans.clear())
        if own.is_empty():  # (no texts: nothing to locate)
            return _exact_offsets(own, pl.DataFrame())
        return _exact_offsets(own, texts.read_part(part, (DOC, "source_text")))

    with ThreadPoolExecutor(min(2, os.cpu_count() or 1), "factkit-offsets") as pool:
        found = list(pool.map(located, range(max(len(ranges), 1))))
    located_here = searched.filter(pl.col("evidence_start").is_not_null())
    return pl.concat([*found, located_here.select(found[0].columns)])
