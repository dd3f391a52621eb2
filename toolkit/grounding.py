"""Find a fact's words in its source text, after a documented normalisation.

Normalisation, applied to both the text and the span before comparing:
1. Unicode NFC;
2. typographic double quotes (“ ” „ ‟ « » ″) become `"`, single quotes and apostrophes
   (‘ ’ ‚ ‛ ′) become `'`;
3. hyphens and dashes (‐ ‑ ‒ – — ― −) become `-`;
4. every run of whitespace, line breaks included (also no-break and other Unicode spaces),
   becomes one space; leading and trailing whitespace is dropped.
Case, punctuation and words are never changed: a quote with one word changed does not ground.

Matching runs in polars over whole tables; only spans that fail (for the 'closest passage'
hint) or that match only after normalisation (to map offsets back) touch Python.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

import polars as pl
from rapidfuzz import fuzz

DOUBLE_QUOTES = "“”„‟«»″"
SINGLE_QUOTES = "‘’‚‛′"
DASHES = "‐‑‒–—―−"
WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_CLASS = f"[{WHITESPACE}]+"
# the same runs, but a single plain space (the usual gap between words) is not a match:
# replacing every gap by itself was most of the cost of normalising a text in polars
_WS_TO_COLLAPSE = f"[{WHITESPACE}]{{2,}}|[{WHITESPACE.replace(' ', '')}]"
_WS = re.compile(_WS_CLASS)
_PUNCT = "\"'.,;:!?()[]-…"
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


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normal form plus, for each of its characters, the index it came from in `text`
    (with one extra entry: the end), so a match maps back to the original."""
    out: list[str] = []
    starts: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        cluster = text[i:j]
        if _WS.fullmatch(cluster[0]):
            k = i
            while k < n and _WS.fullmatch(text[k]):
                k += 1
            if out:  # leading whitespace is dropped
                out.append(" ")
                starts.append(i)
            i = k
            continue
        for ch in unicodedata.normalize("NFC", cluster).translate(_TRANSLATE):
            out.append(ch)
            starts.append(i)
        i = j
    if out and out[-1] == " ":
        out.pop()
        starts.pop()
    starts.append(n if not starts else _end_of(text, starts))
    return "".join(out), starts


def _end_of(text: str, starts: list[int]) -> int:
    """Index in `text` just after the last kept character."""
    last = starts[-1]
    j = last + 1
    while j < len(text) and unicodedata.combining(text[j]):
        j += 1
    return j


def original_span(text: str, span: str) -> tuple[int, int] | None:
    """Character offsets in `text` of the passage that `span` matches, or None."""
    exact = text.find(span)
    if exact >= 0:
        return exact, exact + len(span)
    norm, starts = normalize_with_offsets(text)
    target = normalize(span)
    pos = norm.find(target) if target else -1
    if pos < 0:
        return None
    end = pos + len(target)
    last = starts[end - 1]
    stop = last + 1
    while stop < len(text) and unicodedata.combining(text[stop]):
        stop += 1
    return starts[pos], stop


def closest_passage(text: str, span: str, *, context: int = 4) -> str:
    """The passage of `text` most like `span`, cut around the first difference, for a hint
    ('… all the pomp and pageantry that reflect …')."""
    norm_text, norm_span = normalize(text), normalize(span)
    found = fuzz.partial_ratio_alignment(norm_span, norm_text)
    if found is None or not norm_span:
        return ""
    # widen the aligned passage to whole words
    start = norm_text.rfind(" ", 0, found.dest_start) + 1
    end = norm_text.find(" ", found.dest_end)
    words = norm_text[start : end if end >= 0 else len(norm_text)].split(" ")
    wanted = norm_span.split(" ")
    # compare words without their punctuation: a quotation mark is not a difference
    matcher = difflib.SequenceMatcher(
        a=[w.strip(_PUNCT) for w in wanted], b=[w.strip(_PUNCT) for w in words], autojunk=False
    )
    diff = next((op for op in matcher.get_opcodes() if op[0] != "equal"), None)
    lo, hi = (diff[3], diff[4]) if diff else (0, len(words))
    lo, hi = max(0, lo - context), min(len(words), max(hi, lo + 1) + context)
    head = "… " if lo > 0 else ""
    tail = " …" if hi < len(words) else ""
    return head + " ".join(words[lo:hi]) + tail
