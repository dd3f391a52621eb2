"""The fast paths give exactly what the simple ones give.

* JSONL streamed in blocks of lines = the whole file decoded and parsed at once;
* YAML by the quick reader (positions found later) = by the strict builder alone;
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
from toolkit.export.csv_writer import _json_lists, _repr_floats
from toolkit.frames.exact import build_frames
from toolkit.model.model import load_model
from toolkit.parsers import collect
from toolkit.parsers.base import Limits, ParseResult
from toolkit.parsers.decode import decode
from toolkit.parsers.json_parser import JsonReader, parse_jsonl
from toolkit.parsers.jsonl_stream import stream_jsonl
from toolkit.parsers.locate import DictLocator, nesting_depth
from toolkit.parsers.yaml_parser import YamlPositions, parse_strict, parse_yaml
from toolkit.stage.text_reading import decode_text
from toolkit.stage.text_reading import decoded as _decoded

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


# --- YAML: the quick reader -----------------------------------------------------------------

_YAML_PLAIN = [
    "a", "b c", "é ü", "12", "-3", "1.5", "2e-3", "true", "False", "null", "~", "",
    "'q'", "'x' # c", '"d\\u00e9"', '"x\\ty"', "{a: 1}", "[1, b]", "{}", "[]",
    "long text of some length",
]  # fmt: skip
_YAML_ODD = [
    "yes", "NO", "on", "y", "012", "0x1F", "0o7", "1:30", "1_000", "2024-06-20", "1e5", "-0",
    "-", ".5", ".inf", ".NaN", "+1", "99999999999999999999999", "1e999", '"\\ud800"', "&a v",
    "*a", "!!str s", "!t x", "<<", "a/b", "a~b", "[1, yes]", "{a: &b c}", "|\n  t",
]  # fmt: skip
_YAML_KEYS = ["k", "k2", "x", "y z", "'q'", '"a/b"', '""', "long key of some length"]
_YAML_ODD_KEYS = ["'k'", "yes", "1", "-k", ".k", "<<", "~", "null", "&a k", "*a", "!t k", "[a]"]


def _mostly(plain: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """Plain items nine times in ten, so that many whole files are plain too."""
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(odd if n == 0 else plain))


_YAML_SCALARS = _mostly(_YAML_PLAIN, _YAML_ODD)
_YAML_KEY = _mostly(_YAML_KEYS, _YAML_ODD_KEYS)


def _mapping(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(st.tuples(_YAML_KEY, values), max_size=5, unique_by=lambda kv: kv[0])


_YAML_TREES = st.recursive(
    _YAML_SCALARS,
    lambda inner: st.one_of(_mapping(inner), st.lists(inner, max_size=4).map(tuple)),
    max_leaves=25,
)
# a bundle is a mapping; any other root nine times in ten would teach the quick reader little
_YAML_ROOTS = st.integers(0, 9).flatmap(lambda n: _YAML_TREES if n == 0 else _mapping(_YAML_TREES))


def _yaml(node: Any, indent: int) -> str:
    """Block YAML for a tree of scalars (text), mappings (lists of pairs), lists (tuples)."""
    pad = "  " * indent
    if isinstance(node, list):
        if not node:
            return f"{pad}{{}}\n"
        out = []
        for key, value in node:
            if isinstance(value, str):
                out.append(f"{pad}{key}: {value}\n")
            else:
                out.append(f"{pad}{key}:\n{_yaml(value, indent + 1)}")
        return "".join(out)
    if isinstance(node, tuple):
        if not node:
            return f"{pad}[]\n"
        return "".join(
            f"{pad}- {v}\n" if isinstance(v, str) else f"{pad}-\n{_yaml(v, indent + 1)}"
            for v in node
        )
    return f"{pad}{node}\n"


def _same_yaml(text: str, limits: Limits) -> None:
    path = Path("x.yaml")
    got = parse_yaml(text, "x.yaml", path, "bundle", limits, None)
    want = parse_strict(text, "x.yaml", path, "bundle", limits, None)
    assert got.problems == want.problems
    assert [d.value for d in got.documents] == [d.value for d in want.documents]
    for mine, theirs in zip(got.documents, want.documents, strict=True):
        strict = theirs.locator
        assert isinstance(strict, DictLocator)
        for pointer in [*strict.values, *strict.keys, "/missing", "/0/x"]:
            for key in (False, True):
                assert mine.locate(pointer, key=key) == theirs.locate(pointer, key=key)
    cached = YamlPositions(text.encode("utf-8"), limits)  # as a cache hit holds them
    for doc in want.documents:
        for pointer in doc.locator.values:  # type: ignore[attr-defined]
            assert cached.locate(pointer) == doc.locate(pointer)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tree=_YAML_ROOTS,
    head=_mostly(["", "---\n", "# c\n"], ["%YAML 1.1\n---\n", "--- !t\n", "--- &a\n"]),
    tail=_mostly(["", "...\n"], ["---\nb: 1\n", "  bad: [\n", "\t\n", "---\n"]),
    depth=_mostly(["64"], ["1", "2", "3", "4"]).map(int),
    chars=_mostly(["1000000"], ["4", "12"]).map(int),
)
def test_the_quick_yaml_reader_is_the_strict_one(
    tree: Any, head: str, tail: str, depth: int, chars: int
) -> None:
    text = head + _yaml(tree, 0) + tail
    _same_yaml(text, Limits(max_depth=depth, max_string_chars=chars, max_problems_per_file=5))


def test_the_quick_yaml_reader_is_the_strict_one_on_every_item() -> None:
    """Each scalar and key of the strategies above, alone in an otherwise plain file."""
    for item in _YAML_PLAIN + _YAML_ODD:
        for text in (
            f"k: {item}\n",
            f"k:\n  - {item}\n  - 1\n",
            f"k:\n  a: {item}\n",
            f"k: [{item}]\n",
            f"{item}\n",
            f"- {item}\n",
        ):
            _same_yaml(text, Limits())
            _same_yaml(text, Limits(max_depth=1, max_string_chars=4))
    for key in _YAML_KEYS + _YAML_ODD_KEYS:
        for text in (
            f"{key}: v\n",
            f"k: 1\n{key}: v\n",
            f"a:\n  {key}: 1\n  b: 2\n  {key}: 3\n",
            f"{{{key}: 1}}\n",
        ):
            _same_yaml(text, Limits())


def test_the_quick_yaml_reader_is_the_strict_one_on_every_fixture() -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    paths = sorted(fixtures.rglob("*.yaml")) + sorted(fixtures.rglob("*.yml"))
    assert len(paths) > 50
    for path in paths:
        decoded = decode(path.read_bytes(), path.name, yaml=True)
        if decoded.text is not None and not decoded.failed:
            _same_yaml(decoded.text, Limits())


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
        "format": 2,
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
