"""Grounding: normalisation is the same in polars and Python; spans cut from a text ground
and their offsets slice the original text back."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit.checks.grounding as grounding_check
from toolkit.checker import run
from toolkit.passages import PassageIndex

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from grounding_case import write_case

from toolkit.grounding import (
    NormalText,
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


def _reference_offsets(text: str) -> tuple[str, list[int]]:
    """The character-by-character normalisation grounding used before texts were
    normalised once each: `NormalText` must give the same normal form and offsets."""
    ws = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
        map(chr, range(0x2000, 0x200B))
    )
    table = str.maketrans({**dict.fromkeys("“”„‟«»″", '"'), **dict.fromkeys("‘’‚‛′", "'")})
    table.update(str.maketrans(dict.fromkeys("‐‑‒–—―−", "-")))
    out: list[str] = []
    starts: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        cluster = text[i:j]
        if cluster[0] in ws:
            k = i
            while k < n and text[k] in ws:
                k += 1
            if out:
                out.append(" ")
                starts.append(i)
            i = k
            continue
        for ch in unicodedata.normalize("NFC", cluster).translate(table):
            out.append(ch)
            starts.append(i)
        i = j
    if out and out[-1] == " ":
        out.pop()
        starts.pop()
    return "".join(out), starts


_WIDER = st.lists(
    st.one_of(_ALPHABET, st.sampled_from(["\u0301", "\u0327", "\x85", "\u2028", "e", "  "])),
    max_size=60,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(_WIDER)
def test_a_text_normalised_once_maps_every_character_back_as_before(text: str) -> None:
    norm, starts = normalize_with_offsets(text)
    ref_norm, ref_starts = _reference_offsets(text)
    assert norm == ref_norm
    for mine, ref in zip(starts, ref_starts, strict=False):
        # the same character, or one more precise: a mark of the cluster that starts there
        assert ref <= mine and all(unicodedata.combining(c) for c in text[ref + 1 : mine + 1])


def test_grounding_a_long_text_normalises_it_once_per_text() -> None:
    """Spans that match only after normalisation cost one normalisation of their text,
    not one per span (a 15 MB text used to take seconds per span)."""
    sentence = "The minister’s aide said “we will see” — and left.\n\n"
    text = sentence * 200_000  # ~10 MB
    normal = NormalText(text)
    span = 'The minister\'s aide said "we will see" - and left. The'
    found = normal.span(normalize(span))
    assert found == (0, len(sentence) + 3)
    assert len(normal._from_plain.at) <= 200_001  # one break per collapsed run, no more


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.data())
def test_one_index_of_a_text_finds_each_span_where_a_search_would(
    text: str, data: st.DataObject
) -> None:
    norm = normalize(text)
    if not norm:
        return
    start = data.draw(st.integers(0, len(norm) - 1))
    end = data.draw(st.integers(start + 1, len(norm)))
    spans = [norm[start:end], norm[start:end] + " x", "x " + norm[start:end]]
    index = PassageIndex(norm, spans)
    for span in spans:
        found = norm.find(span)
        assert index.locate(span) == (found if found >= 0 else None)


def test_long_texts_ground_as_short_ones_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spans of a text past BIG_WORK go through one index of it; the findings, offsets
    and hints are those of the search per span that shorter texts get."""
    data = tmp_path / "data"
    write_case(data, facts=40, megabytes=1)
    monkeypatch.setattr(grounding_check, "BIG_WORK", 1 << 60)
    per_span = run([str(data)])
    monkeypatch.setattr(grounding_check, "BIG_WORK", 0)
    indexed = run([str(data)])
    assert [p.to_dict() for p in indexed.report.problems] == [
        p.to_dict() for p in per_span.report.problems
    ]
    assert len(indexed.report.problems) == 20
    assert all("aide said" in (p.hint or "") for p in indexed.report.problems)
    columns = ["evidence", "evidence_start", "evidence_end"]
    offsets = indexed.frames.tables["statements"].select(columns)
    assert offsets.equals(per_span.frames.tables["statements"].select(columns))
    text = (data / "texts" / "long.txt").read_text(encoding="utf-8")
    grounded = offsets.filter(pl.col("evidence_start").is_not_null())
    assert grounded.height == 20
    for evidence, a, b in grounded.iter_rows():
        assert normalize(text[a:b]) == normalize(evidence)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.data())
def test_short_and_long_texts_are_indexed_alike(text: str, data: st.DataObject) -> None:
    """The plain-Python index of a short text is the one polars builds for a long one."""
    import toolkit.passages as passages

    norm = normalize(text)
    start = data.draw(st.integers(0, max(len(norm) - 1, 0)))
    spans = [norm[start:], norm[: start + 1] + " a b"]
    small = PassageIndex(norm, spans)
    saved, passages.SMALL_TEXT = passages.SMALL_TEXT, -1
    try:
        large = PassageIndex(norm, spans)
    finally:
        passages.SMALL_TEXT = saved
    assert small.places == large.places and small.counts == large.counts
    assert list(small.starts) == large.starts.to_list()
    assert [small.locate(s) for s in spans] == [large.locate(s) for s in spans]
