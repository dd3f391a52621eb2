"""Grounding: normalisation is the same in polars and Python; spans cut from a text ground
and their offsets slice the original text back."""

from __future__ import annotations

import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.grounding import (
    closest_passage,
    normalize,
    normalize_expr,
    normalize_with_offsets,
    original_span,
)

_ALPHABET = st.sampled_from(
    [*list("abcXYZ Ж ё 한국어 \n\t\xa0\u2003“”‘’—–-\"',."), "é", "é", "\r\n"]
)
TEXTS = st.lists(_ALPHABET, min_size=1, max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_polars_and_python_normalise_alike(text: str) -> None:
    assert pl.Series([text]).to_frame("t").select(normalize_expr(pl.col("t")))["t"][0] == (
        normalize(text)
    )


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_offsets_cover_the_normal_form(text: str) -> None:
    norm, starts = normalize_with_offsets(text)
    assert norm == normalize(text)
    assert len(starts) == len(norm) + 1
    assert starts == sorted(starts)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.data())
def test_random_spans_ground_and_slice_back(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    span = text[start:end]
    found = original_span(text, span)
    assert found is not None
    a, b = found
    assert text[a:b] == span  # a verbatim span slices back exactly


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.data())
def test_respelt_spans_ground_to_an_equivalent_passage(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1  # a transcriber copies whole characters, accents included
    while start > 0 and unicodedata.combining(text[start]):
        start -= 1
    span = text[start:end]
    # curly quotes, dashes and whitespace changed the way a transcriber would
    respelt = span.replace("“", '"').replace("”", '"').replace("—", "-").replace("\n", " ")
    if not normalize(respelt):
        return
    found = original_span(text, respelt)
    assert found is not None
    a, b = found
    assert normalize(text[a:b]) == normalize(respelt)


def test_one_changed_word_does_not_ground_and_the_hint_shows_the_passage() -> None:
    text = "Regarding the meeting and all the pomp and pageantry that reflect the regime."
    quote = "Regarding the meeting and all the pomp and glory that reflect the regime."
    assert original_span(text, quote) is None
    hint = closest_passage(text, quote)
    assert "pomp and pageantry" in hint


def test_normalisation_keeps_case_and_words() -> None:
    assert normalize("“Hello”\u00a0 —\nWorld") == '"Hello" - World'
    assert normalize("hello") != normalize("Hello")
