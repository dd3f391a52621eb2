"""Property tests: no input makes a parser raise, and every problem is well formed."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from toolkit.codes import CODES
from toolkit.parsers import parse_file
from toolkit.parsers.base import ParseResult
from toolkit.parsers.json_parser import INT_MAX, INT_MIN
from toolkit.parsers.locate import split_pointer

# FACTKIT_FUZZ_EXAMPLES=5000 for a long hunt; the default keeps the suite fast.
EXAMPLES = int(os.environ.get("FACTKIT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = (".yaml", ".json", ".jsonl")


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def parse_bytes(workdir: Path, data: bytes, suffix: str) -> ParseResult:
    path = workdir / f"input{suffix}"
    path.write_bytes(data)
    return parse_file(path, path.name, "bundle", root=workdir)


def plain_json(value: Any) -> bool:
    """Only the value types the rest of factkit is promised."""
    if type(value) is str:
        value.encode("utf-8")  # no lone surrogates: the tables must be able to hold it
        return True
    if value is None or type(value) is bool:
        return True
    if type(value) is int:
        return INT_MIN <= value <= INT_MAX
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is list:
        return all(plain_json(v) for v in value)
    if type(value) is dict:
        return all(plain_json(k) and plain_json(v) for k, v in value.items())
    return False


def check(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    for p in result.problems:
        assert p.code in CODES
        assert p.severity == CODES[p.code].severity
        for n in (p.line, p.column):
            assert n is None or (type(n) is int and n >= 1), p
        assert p.pointer == "" or p.pointer.startswith("/"), p
        p.message.encode("utf-8"), p.pointer.encode("utf-8")  # reports can be written
    for doc in result.documents:
        assert type(doc.value) is dict and plain_json(doc.value)
        line, column = doc.locate("")
        assert line >= 1 and column >= 1
    if any(p.severity == "error" for p in result.problems):
        # a file with an error gives nothing, except JSONL where other lines may
        assert all(d.path.suffix == ".jsonl" for d in result.documents)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes(workdir: Path, data: bytes, suffix: str) -> None:
    check(parse_bytes(workdir, data, suffix))


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=INT_MIN, max_value=INT_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
JSON_OBJECTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=5)


def pointers(value: Any, base: str = "") -> Iterator[tuple[str, Any]]:
    yield base, value
    items = (
        value.items() if type(value) is dict else enumerate(value) if type(value) is list else ()
    )
    for key, child in items:
        token = str(key).replace("~", "~0").replace("/", "~1")
        yield from pointers(child, f"{base}/{token}")


@FUZZ
@given(value=JSON_OBJECTS, indent=st.sampled_from([None, 2]), ascii=st.booleans())
def test_json_round_trip_and_every_pointer_is_located(
    workdir: Path, value: dict[str, Any], indent: int | None, ascii: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii)
    if "\x7f" in text:  # a raw DEL is refused (P004); json.dumps writes it raw
        text = json.dumps(value, indent=indent)
    result = parse_bytes(workdir, text.encode(), ".json")
    check(result)
    assert result.problems == [] and result.documents[0].value == value
    doc = result.documents[0]
    lines = text.split("\n")
    decoder = json.JSONDecoder()
    starts = [0]
    for line_text in lines:
        starts.append(starts[-1] + len(line_text) + 1)
    for pointer, expected in pointers(value):
        line, column = doc.locate(pointer)
        assert decoder.raw_decode(text, starts[line - 1] + column - 1)[0] == expected, pointer
        if pointer:
            line, column = doc.locate(pointer, key=True)
            found = decoder.raw_decode(text, starts[line - 1] + column - 1)[0]
            assert found == expected if type(found) is not str else True
            if found != expected or type(expected) is str:
                assert found == split_pointer(pointer)[-1] or found == expected


@FUZZ
@given(
    value=JSON_OBJECTS,
    edits=st.lists(
        st.tuples(
            st.integers(0, 10_000),
            st.sampled_from(["", *'{}[],:"\\0e-.ntf \n', "\\ud800", "\\udc00", "1e999"]),
        ),
        min_size=1,
        max_size=4,
    ),
    suffix=st.sampled_from(SUFFIXES),
)
def test_mutated_json(
    workdir: Path, value: dict[str, Any], edits: list[tuple[int, str]], suffix: str
) -> None:
    text = json.dumps(value)
    for position, replacement in edits:
        i = position % (len(text) + 1)
        text = text[:i] + replacement + text[i + 1 :]
    check(parse_bytes(workdir, text.encode("utf-8", "surrogatepass"), suffix))


@FUZZ
@given(rows=st.lists(JSON_OBJECTS | JSON_VALUES, max_size=6), blank=st.booleans())
def test_jsonl_lines_are_independent(workdir: Path, rows: list[Any], blank: bool) -> None:
    lines = [json.dumps(r) for r in rows]
    if blank and lines:
        lines.insert(len(lines) // 2, "")
    result = parse_bytes(workdir, ("\n".join(lines) + "\n").encode(), ".jsonl")
    check(result)
    good = [(n, r) for n, r in enumerate(rows) if type(r) is dict]
    assert [d.value for d in result.documents] == [r for _, r in good]
    assert len(result.documents) + sum(p.code == "P016" for p in result.problems) == len(rows)


YAMLISH = st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#,?% \n\t\rab01.~<@`\\\x85é")))


@FUZZ
@given(text=YAMLISH)
def test_yamlish_text(workdir: Path, text: str) -> None:
    check(parse_bytes(workdir, text.encode(), ".yaml"))


@FUZZ
@given(
    lines=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["a", "b", "- x", "c:", "&x", "*x", "!t"])),
        max_size=12,
    )
)
def test_yaml_structures(workdir: Path, lines: list[tuple[int, str]]) -> None:
    text = "".join(f"{'  ' * indent}{item}: {item}\n" for indent, item in lines)
    check(parse_bytes(workdir, text.encode(), ".yaml"))


OUR_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


@FUZZ
@given(value=JSON_OBJECTS)
def test_yaml_written_by_pyyaml_reads_back(workdir: Path, value: dict[str, Any]) -> None:
    strings = [v for _, v in pointers(value) if type(v) is str]
    strings += [k for p, _ in pointers(value) if p for k in split_pointer(p)[-1:]]
    # PyYAML leaves '1e5' unquoted (its YAML 1.1 floats need a dot); we read a number there.
    assume(not any(OUR_NUMBER.fullmatch(s) for s in strings))
    # PyYAML's emitter writes NEL/LS/PS raw in quoted keys, where they fold to spaces
    # (PyYAML cannot read its own output back either).
    assume(not any(c in s for s in strings for c in "\x85\u2028\u2029"))
    text = yaml.safe_dump(value, allow_unicode=True)
    result = parse_bytes(workdir, text.encode(), ".yaml")
    check(result)
    assert [p for p in result.problems if p.severity == "error"] == []
    assert result.documents[0].value == value
