"""The fast paths give exactly what the simple ones give.

* JSONL streamed in blocks of lines = the whole file decoded and parsed at once;
* tables flattened column by column, or by polars from the JSON text = value by value;
* CSV cells of floats and lists written by polars = Python's `repr` and `json.dumps`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.strategies import datasets, write_dataset
from toolkit.checker import load_documents, run
from toolkit.checks.texts import _decoded, decode_text
from toolkit.export.csv_writer import _json_lists, _repr_floats
from toolkit.frames.exact import build_frames
from toolkit.model.model import load_model
from toolkit.parsers import collect
from toolkit.parsers.base import Limits, ParseResult
from toolkit.parsers.decode import decode
from toolkit.parsers.json_parser import JsonReader, parse_jsonl
from toolkit.parsers.jsonl_stream import stream_jsonl
from toolkit.parsers.locate import nesting_depth

# --- streaming JSONL ------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        b'{"a": 1}',
        b'{"b": [1, 2, {"c": "\xd0\x9f\xea\xb9\x80"}]}',
        b'{"a": 1, "a": 2}',
        b"[1]",
        b'{"x": NaN}',
        b'{"s": "\\ud800"}',
        b'{"t": "tab\tin"}',
        b"{bad",
        b"   ",
        b"",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b'{"long": "' + b"y" * 90 + b'"}',
        b"\x00",
        b'{"d": ' + b"[" * 70 + b"]" * 70 + b"}",
        b'{"e": 123456789012345678901234}',
        # compact lines, which orjson decodes when it can stand in for the stdlib
        b'{"a":1}',
        b'{"a":1,"a":2}',
        b'{"b":[1,2,{"c":"\xd0\x9f\xea\xb9\x80"}]}',
        b'{"e":9223372036854775808}',
        b'{"e":18446744073709551615}',
        b'{"e":-9223372036854775809}',
        b'{"e":9007199254740993}',
        b'{"f":1e400}',
        b'{"f":-0,"g":1.0,"h":[true,false,null]}',
        b'{"s":"\\ud800"}',
    ]
)
_BREAKS = st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\n"])


def _whole(path: Path, limits: Limits) -> ParseResult:
    """The reference: decode the whole file, then parse every line (as factkit used to)."""
    decoded = decode(path.read_bytes(), str(path), controls=False)
    if decoded.text is None or decoded.failed:
        return ParseResult(problems=decoded.problems)
    result = parse_jsonl(decoded.text, str(path), path, "bundle", limits, None, decoded.controls)
    result.problems[:0] = decoded.problems
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.tuples(_PIECES, _BREAKS), max_size=12),
    last=_PIECES,
    block=st.integers(1, 64),
)
def test_streamed_jsonl_is_the_whole_file(
    pieces: list[tuple[bytes, bytes]], last: bytes, block: int
) -> None:
    data = b"".join(p + b for p, b in pieces) + last
    limits = Limits(max_line_bytes=80, max_depth=64)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.jsonl"
        path.write_bytes(data)
        want = _whole(path, limits)
        got = collect(stream_jsonl(path, str(path), "bundle", limits, None, block_bytes=block))
        assert got.problems == want.problems
        assert [(d.value, d.line) for d in got.documents] == [
            (d.value, d.line) for d in want.documents
        ]
        for a, b in zip(got.documents, want.documents, strict=True):
            assert a.locate("/b/2/c") == b.locate("/b/2/c")
            assert a.locate("/a", key=True) == b.locate("/a", key=True)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**65), 2**65)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=5), _JSON, max_size=5), duplicate=st.booleans())
def test_orjson_stands_in_for_the_stdlib_decoder_only_when_it_gives_the_same(
    value: dict[str, Any], duplicate: bool
) -> None:
    """The same value, types included (1, 1.0 and True differ), and the same problems,
    whichever decoder reads a compact line; a repeated key is never lost."""
    line = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if duplicate and value:
        key = json.dumps(next(iter(value)), ensure_ascii=False)
        line = line[:-1] + ("," if len(value) else "") + key + ":0}"
    raw = line.encode("utf-8", "surrogatepass")
    limits = Limits()
    reader = JsonReader("x.jsonl", Path("x.jsonl"), "bundle", limits, None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # not UTF-8: the stream stops before any decoder sees the line
    fast, fast_problems = reader.document(text, text, 0, 1, None, raw)
    slow, slow_problems = reader.document(text, text, 0, 1, None)
    assert fast_problems == slow_problems
    assert repr(None if fast is None else fast.value) == repr(None if slow is None else slow.value)
    if duplicate and value:
        assert "P011" in [p.code for p in fast_problems]


# --- flattening -----------------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(dataset=datasets(max_bundles=4, max_facts=4), fmt=st.sampled_from(("jsonl", "yaml")))
def test_fast_flattening_is_the_exact_one(dataset: dict[str, Any], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = write_dataset(Path(tmp), dataset, fmt)
        documents, _, _ = load_documents([str(root)], Limits())
        exact = build_frames(load_model(), documents).tables
        fast = run([str(root)]).frames.tables
        for name, frame in exact.items():
            assert fast[name].select(frame.columns).equals(frame), name


def test_an_integer_written_as_a_float_is_taken_as_the_exact_path_takes_it(
    tmp_path: Path,
) -> None:
    """5.0 passes the schema as an integer but is not an int: no table takes it."""
    data = tmp_path / "data"
    (data / "sources").mkdir(parents=True)
    bundle = {
        "source": {"id": "s", "outlet": "o", "published_on": "2024", "language": "en"},
        "extraction": {
            "method": "manual",
            "by": "me",
            "extracted_on": "2024",
            "review": "accepted",
        },
        "supplies": [
            {
                "id": "sp-1",
                "supplier": "RUS",
                "recipient": "PRK",
                "polarity": "affirmed",
                "status": "reported",
                "items": [{"category": "weapons", "quantity": {"value": 5.0}}],
            }
        ],
    }
    (data / "sources" / "b.jsonl").write_text(json.dumps(bundle) + "\n", encoding="utf-8")
    items = run([str(data)]).frames.tables["supply_items"]
    assert items["quantity_value"].to_list() == [None]


# --- CSV cells ------------------------------------------------------------------------------


@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))))
def test_float_cells_are_python_repr(values: list[float | None]) -> None:
    series = pl.Series("f", values, pl.Float64)
    want = [None if v is None else repr(float(v)) for v in series.to_list()]
    assert _repr_floats(series).to_list() == want


@given(st.lists(st.one_of(st.none(), st.lists(st.text()))))
def test_list_cells_are_json_dumps(values: list[list[str] | None]) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    series = pl.Series("l", values, pl.List(pl.String))
    want = [None if v is None else dumps(v) for v in values]
    assert _json_lists(series).to_list() == want


# --- nesting depth --------------------------------------------------------------------------


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TRICKY = st.text(alphabet='[]{}"\\/ abu0é', max_size=8)
_NESTED = st.recursive(
    st.none() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(value=_NESTED, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_nesting_depth_is_the_depth_of_the_value(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    """Brackets, quotes and backslashes inside strings never count."""
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert nesting_depth(text.encode("utf-8")) == _depth(value)


# --- text copies ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    datas=st.lists(
        st.one_of(
            st.binary(max_size=12),
            st.text(max_size=12).map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.text(max_size=8).map(lambda t: ("\ufeff" + t).encode("utf-8", "surrogatepass")),
        ),
        max_size=6,
    )
)
def test_text_copies_decoded_in_bulk_are_decoded_one_by_one(datas: list[bytes]) -> None:
    """`_decoded` is `decode_text` per file: UTF-8 or not text, NUL not text, BOM dropped."""
    text, bad = _decoded(datas)
    for data, got, is_bad in zip(datas, text.to_list(), bad.to_list(), strict=True):
        want = decode_text(data)
        assert is_bad == (want is None), data
        if want is not None:
            assert got == want, data
