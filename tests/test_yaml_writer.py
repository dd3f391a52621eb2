"""The shared YAML writer: whatever it writes, factkit's parser reads back unchanged."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import TRICKY

from toolkit.parsers import parse_bytes
from toolkit.parsers.base import Limits, ParseResult
from toolkit.parsers.yaml_scalars import INT_MAX, INT_MIN
from toolkit.synth.yaml_writer import dump_yaml, quote

# Strings other YAML readers type (YAML 1.1 booleans, nulls, numbers, dates, merge keys)
# and characters that are refused or folded unless escaped.
LOOKALIKES = (
    *TRICKY,
    *("Yes", "ON", "Off", "y", "N", "Null", "NULL", "True", "FALSE", "<<", "=", "-"),
    *("0o17", "0b101", "1_000", "1:20", ".5", "1.", "-.inf", ".NaN", "1e5", "2024-06-20"),
    *("", " ", "- x", "? x", ": x", "a: b", "a #b", "---", "...", "*alias", "&anchor", "!tag"),
    *("%YAML", "|", ">", "\t", "x\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"),
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(INT_MIN, INT_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(LOOKALIKES)
)
KEYS = (
    st.text()
    | st.sampled_from(LOOKALIKES)
    | st.from_regex(r"[a-z_][a-z0-9_-]{0,8}", fullmatch=True)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=6)


def read(text: str) -> ParseResult:
    """The text as factkit reads a YAML file: decoded from UTF-8, then parsed."""
    return parse_bytes(text.encode("utf-8"), Path("x.yaml"), "x.yaml", "bundle", Limits(), None)


def typed(value: Any) -> str:
    """A spelling that tells 1, 1.0 and True (and 0.0 and -0.0) apart."""
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_every_value_reads_back_unchanged_and_without_a_warning(value: dict[str, Any]) -> None:
    text = dump_yaml(value)
    result = read(text)
    assert result.problems == [], [p.to_dict() for p in result.problems]
    assert typed(result.documents[0].value) == typed(value)
    # and it means the same to a YAML 1.1 reader (PyYAML's pure-Python one, the stricter)
    assert typed(yaml.load(text, Loader=yaml.SafeLoader)) == typed(value)


@given(st.sampled_from(LOOKALIKES) | st.text())
def test_strings_mean_the_same_to_a_yaml_1_1_reader(text: str) -> None:
    """PyYAML (YAML 1.1 typing) reads every written string as that string too."""
    assert yaml.safe_load(quote(text)) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_mean_the_same_to_a_yaml_1_1_reader(number: float) -> None:
    read_back = yaml.safe_load(dump_yaml({"x": number}))["x"]
    assert type(read_back) is float and read_back == number


def test_keys_are_plain_only_when_no_reader_would_type_them() -> None:
    value = {"id": 1, "on_behalf_of": 2, "a-b": 3, "on": 4, "NO": 5, "1": 6, "<<": 7, "~": 8}
    text = dump_yaml(value)
    assert text.splitlines()[:3] == ["id: 1", "on_behalf_of: 2", "a-b: 3"]
    assert '"on": 4' in text and '"NO": 5' in text and '"1": 6' in text and '"<<": 7' in text
    assert read(text).documents[0].value == value


def test_layout_of_nested_blocks_and_empty_containers() -> None:
    value = {"a": {"b": [1, {"c": "x", "d": []}, [True, None]]}, "e": {}, "f": 0.5}
    assert dump_yaml(value) == (
        'a:\n  b:\n    - 1\n    - c: "x"\n      d: []\n    - - true\n      - null\ne: {}\nf: 0.5\n'
    )


@pytest.mark.parametrize(
    ("key", "explicit"),
    [("k" * 1000, False), ("k" * 1001, True), ("ключ" * 255, True), ("ключ" * 2000, True)],
)
def test_keys_too_long_for_an_implicit_key_are_explicit(key: str, explicit: bool) -> None:
    """YAML limits implicit keys to 1,024 characters; past 1,000 bytes a key is `? key`."""
    value = {key: {"nested": [key]}, "after": key, "list": [{key: 1, "next": 2}]}
    text = dump_yaml(value)
    assert ("? " in text) is explicit
    result = read(text)
    assert result.problems == [] and result.documents[0].value == value
    assert yaml.load(text, Loader=yaml.SafeLoader) == value


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (math.nan, ValueError),
        (math.inf, ValueError),
        (INT_MAX + 1, ValueError),
        ("lone \ud800", ValueError),
        ((1, 2), TypeError),
        ({1: "x"}, TypeError),
        (b"bytes", TypeError),
    ],
)
def test_values_factkit_cannot_hold_are_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        dump_yaml({"x": value})
