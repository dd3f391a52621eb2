"""Fuzzing the whole validator: random bytes, JSON and YAML in a data folder, end to end.

test_parsers_fuzz.py holds the parsers to their contract (no exception, well-formed
problems, plain JSON values) and test_mutations.py feeds arbitrary JSON values through
`validate`. Here the input is hostile text, not values: random bytes under every
suffix, JSON texts with the tokens the issue lists (NaN, huge numbers, deep nesting,
duplicate keys, bidi characters) cut and spliced, and YAML assembled from the
fragments that trip YAML tools (anchors, aliases, tags, merge keys, flow and block
styles mixed, tabs, a second document, directives). Each goes through
`toolkit.checker.validate` and then every reporter; a test passes only when every
outcome is a structured Report whose problems have known codes, 1-based positions and
files inside the data folder, and which every format can render.

The budget is FACTKIT_FUZZ_EXAMPLES examples in all (default 150, about 25 s), split
between the three tests; set it to thousands for a long hunt.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.checker import validate
from toolkit.cli import FileLines
from toolkit.codes import CODES
from toolkit.reporters import REPORTERS, render
from toolkit.result import Report

TOTAL = int(os.environ.get("FACTKIT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=max(1, TOTAL // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")
ACTOR = b"id: jane-doe\nkind: person\nname: Jane Doe\n"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def validate_files(workdir: Path, files: dict[str, bytes]) -> Report:
    """A fresh data folder holding `files` (relative path → bytes), validated; the
    report is checked and rendered in every format before it is returned."""
    data = workdir / "data"
    shutil.rmtree(data, ignore_errors=True)
    (data / "actors").mkdir(parents=True)
    (data / "actors" / "jane-doe.yaml").write_bytes(ACTOR)
    for rel, content in files.items():
        path = data / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    report = validate([str(data)])
    check_structured(report, data)
    return report


def check_structured(report: Report, data: Path) -> None:
    assert isinstance(report, Report)
    assert report.files >= 1 and report.records >= 0
    root = os.path.realpath(data)
    for p in report.problems:
        spec = CODES[p.code]
        assert (p.rule, p.severity) == (spec.name, spec.severity), p
        assert isinstance(p.message, str) and p.message, p
        for n in (p.line, p.column):
            assert n is None or (type(n) is int and n >= 1), p
        assert p.column is None or p.line is not None, p
        assert p.pointer == "" or p.pointer.startswith("/"), p
        real = os.path.realpath(p.file)
        assert real == root or real.startswith(root + os.sep), p.file
        for text in (p.message, p.hint or "", p.pointer, p.file):
            text.encode("utf-8")  # every report can be written out
    for fmt in REPORTERS:
        rendered = render(report, fmt, source=FileLines())
        rendered.encode("utf-8")
        if fmt == "json":
            assert len(json.loads(rendered)["problems"]) == len(report.problems)


# --- random bytes ---------------------------------------------------------------------------

MAGIC = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\x89PNG\r\n\x1a\n", b"\x1f\x8b"])


@FUZZ
@given(
    head=MAGIC,
    body=st.binary(max_size=300),
    suffix=st.sampled_from(SUFFIXES),
    actor=st.booleans(),
)
def test_random_bytes(workdir: Path, head: bytes, body: bytes, suffix: str, actor: bool) -> None:
    folder = "actors" if actor else "sources"
    report = validate_files(workdir, {f"{folder}/x{suffix}": head + body})
    if not (head + body).strip(b" \t\r\n"):  # nothing but blanks: an empty file
        assert "P005" in report.by_code()


# --- JSON texts -----------------------------------------------------------------------------

HOSTILE_STRINGS = st.sampled_from(
    ["st-1", "jane-doe", "RUS", "NO", "2024-02-30", "=SUM(A1)", "a\u202eb", "x\u200by",
     "\u0430ct-putin", "e\u0301", "\\ud800", "", " ", "../../etc/passwd", "/dev/zero"]
)  # fmt: skip
TOKENS = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e400", "18446744073709551616", "9" * 400, "-0",
     "0.1", "true", "null", '"\\u0000"', '"\\ud800"']
)  # fmt: skip
KEYS = st.sampled_from(
    ["source", "extraction", "statements", "supplies", "events", "id", "text", "speaker",
     "mode", "published_on", "language", "outlet", "method", "by", "extracted_on", "review"]
)  # fmt: skip


def _json_value(depth: int = 0) -> st.SearchStrategy[str]:
    """JSON text (possibly invalid): objects of bundle-like keys, repeated keys, hostile
    strings and tokens, and now and then a deep nest."""
    leaf = TOKENS | HOSTILE_STRINGS.map(json.dumps) | st.integers(0, 3).map(str)
    if depth >= 3:
        return leaf
    inner = _json_value(depth + 1)
    member = st.tuples(KEYS | st.text(max_size=4), inner).map(
        lambda kv: f"{json.dumps(kv[0])}: {kv[1]}"
    )
    obj = st.lists(member, max_size=5).map(lambda ms: "{" + ", ".join(ms) + "}")
    arr = st.lists(inner, max_size=4).map(lambda vs: "[" + ", ".join(vs) + "]")
    deep = st.integers(60, 300).map(lambda n: "[" * n + "1" + "]" * n)
    return st.one_of(leaf, obj, arr, deep)


@st.composite
def json_texts(draw: st.DrawFn) -> bytes:
    members = draw(st.lists(st.tuples(KEYS, _json_value(1)), min_size=1, max_size=5))
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in members) + "}"
    for _ in range(draw(st.integers(0, 3))):  # cut or splice what the decoder trips on
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(["", ",", "}", "]", '"', "\\", "\n", "\r", "\x00", "/*"]))
        text = text[:at] + piece + text[at + draw(st.integers(0, 2)) :]
    return text.encode("utf-8", "surrogatepass")


@FUZZ
@given(
    docs=st.lists(json_texts(), min_size=1, max_size=3),
    jsonl=st.booleans(),
    end=st.sampled_from(["\n", "", "\r\n", "\n\n"]),
)
def test_random_json(workdir: Path, docs: list[bytes], jsonl: bool, end: str) -> None:
    if jsonl:
        files = {"sources/x.jsonl": b"\n".join(docs) + end.encode()}
    else:
        files = {f"sources/x{i}.json": d + end.encode() for i, d in enumerate(docs)}
    validate_files(workdir, files)


# --- YAML texts -----------------------------------------------------------------------------

SCALARS = st.sampled_from(
    ["jane-doe", "st-1", "NO", "off", "0o17", "1_000", "12:30", "2024-06-20", "2024-02-30",
     "~", "null", "'quoted'", '"dq \\u202e"', "|\n      block\n", ">-\n      folded\n",
     "1e400", ".inf", "=cmd", "a\u200bb", "[x, y]", "{a: 1}", "RUS", "direct_quote"]
)  # fmt: skip
MARKS = st.sampled_from(
    ["", "", "", "&a ", "*a", "!!python/object/apply:os.system ['true'] ", "!!str ",
     "!include ", "!!binary ", "&b ", "*b"]
)  # fmt: skip
LINE_KEYS = KEYS | st.sampled_from(["<<", "? [k]", "a\tb", "'quoted key'", "id", "id"])


@st.composite
def yaml_texts(draw: st.DrawFn) -> bytes:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 12))):
        indent = "  " * draw(st.integers(0, 3))
        if draw(st.integers(0, 9)) == 0:
            indent = draw(st.sampled_from(["\t", " \t", "   "])) + indent
        dash = draw(st.sampled_from(["", "", "- "]))
        key = draw(LINE_KEYS)
        mark = draw(MARKS)
        value = "" if mark.startswith("*") else draw(SCALARS)
        lines.append(f"{indent}{dash}{key}: {mark}{value}".rstrip())
    extra = draw(st.sampled_from(["", "", "---\nx: 1", "...", "%YAML 1.1\n---", "# c", "- a"]))
    where = draw(st.integers(0, len(lines)))
    lines.insert(where, extra)
    brk = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return brk.join(lines).encode("utf-8")


@FUZZ
@given(text=yaml_texts(), actor=st.booleans())
def test_random_yaml(workdir: Path, text: bytes, actor: bool) -> None:
    rel = "actors/y.yaml" if actor else "sources/y.yaml"
    report = validate_files(workdir, {rel: text})
    found = report.by_code()
    if b"!!python" in text or b"!include" in text:  # never constructed, always refused
        assert "P013" in found or "P010" in found or "P015" in found, found
