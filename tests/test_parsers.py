"""Parsing stage: files to documents that know their positions, and problems for the rest."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.errors import UsageError
from toolkit.parsers import discover, parse_file
from toolkit.parsers.base import Limits, ParseResult, Role
from toolkit.parsers.locate import LineIndex, editor_lines
from toolkit.problems import Problem


def parse(
    tmp_path: Path,
    name: str,
    content: str | bytes,
    limits: Limits = Limits(),  # noqa: B008 - frozen
    role: Role = "bundle",
) -> ParseResult:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return parse_file(path, name, role, limits, root=tmp_path)


def codes(result: ParseResult) -> list[str]:
    return [p.code for p in result.problems]


def one(result: ParseResult, code: str) -> Problem:
    found = [p for p in result.problems if p.code == code]
    assert len(found) == 1, result.problems
    return found[0]


def where(p: Problem) -> tuple[int | None, int | None, str]:
    return p.line, p.column, p.pointer


def value(result: ParseResult) -> Any:
    assert len(result.documents) == 1, result.problems
    return result.documents[0].value


# --- YAML: typing ----------------------------------------------------------------------


def test_yaml_plain_scalars_follow_strict_json_like_typing(tmp_path: Path) -> None:
    expected = {
        "null": None, "Null": None, "NULL": None, "~": None, "": None,
        "true": True, "False": False, "TRUE": True,
        "0": 0, "-12": -12, "1.5": 1.5, "-0.25e3": -250.0, "1e5": 100000.0, "2E-2": 0.02,
        "tRUE": "tRUE", "nil": "nil", "-x": "-x", "1e": "1e", "1.5.2": "1.5.2", "a - b": "a - b",
    }  # fmt: skip
    text = "".join(f"k{i}: {plain}\n" for i, plain in enumerate(expected))
    result = parse(tmp_path, "a.yaml", text)
    assert result.problems == []
    v = value(result)
    assert v == {f"k{i}": typed for i, typed in enumerate(expected.values())}
    assert type(v["k8"]) is int and type(v["k12"]) is float


def test_yaml_quoted_and_block_scalars_are_always_strings(tmp_path: Path) -> None:
    text = "a: '12'\nb: \"true\"\nc: 'null'\nd: |\n  1\ne: >-\n  NO\nf: ''\n"
    assert value(parse(tmp_path, "a.yaml", text)) == {
        "a": "12",
        "b": "true",
        "c": "null",
        "d": "1\n",
        "e": "NO",
        "f": "",
    }
    assert parse(tmp_path, "a.yaml", text).problems == []


def test_country_no_stays_text_with_a_warning_at_its_position(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "source:\n  country: NO\n")
    assert value(result) == {"source": {"country": "NO"}}
    p = one(result, "P019")
    assert (p.severity, *where(p)) == ("warning", 2, 12, "/source/country")
    assert "the boolean false" in p.message and "'NO'" in p.message


@pytest.mark.parametrize(
    ("scalar", "other"),
    [
        ("NO", "the boolean false"), ("yes", "the boolean true"), ("On", "the boolean true"),
        ("OFF", "the boolean false"), ("y", "the boolean true"), ("n", "the boolean false"),
        ("0o17", "the number 15"), ("012", "the number 10"), ("0x1F", "the number 31"),
        ("1_000", "the number 1000"), ("12:30", "the number 750"), (".inf", "infinity"),
        ("-.inf", "minus infinity"), (".NaN", "not-a-number (NaN)"), ("+1", "the number 1"),
        ("1.", "the number 1.0"), (".5", "the number 0.5"), ("0b101", "the number 5"),
    ],
)  # fmt: skip
def test_yaml11_lookalikes_stay_text_and_warn(tmp_path: Path, scalar: str, other: str) -> None:
    result = parse(tmp_path, "a.yaml", f"v: {scalar}\n")
    assert value(result) == {"v": scalar}
    p = one(result, "P019")
    assert where(p) == (1, 4, "/v") and other in p.message


@pytest.mark.parametrize("scalar", ["2024-06-20", "2024-06-20T10:00:00Z", "hello", "1.5", "no way"])
def test_no_warning_for_dates_words_and_numbers(tmp_path: Path, scalar: str) -> None:
    result = parse(tmp_path, "a.yaml", f"date: {scalar}\n")
    assert result.problems == []
    assert value(result) == {"date": scalar if scalar != "1.5" else 1.5}


def test_plain_keys_are_text_and_warn_when_yaml11_differs(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "1: a\non: b\n'yes': c\nname: d\n")
    assert value(result) == {"1": "a", "on": "b", "yes": "c", "name": "d"}
    assert [where(p) for p in result.problems] == [(1, 1, "/1"), (2, 1, "/on")]
    assert all(p.code == "P019" for p in result.problems)


def test_numbers_out_of_range(tmp_path: Path) -> None:
    ok = "a: 9223372036854775807\nb: -9223372036854775808\n"
    assert value(parse(tmp_path, "a.yaml", ok)) == {"a": 2**63 - 1, "b": -(2**63)}
    bad = parse(tmp_path, "b.yaml", "a: 9223372036854775808\nb: 1e999\nc: " + "9" * 5000 + "\n")
    assert [(p.code, p.line, p.pointer) for p in bad.problems] == [
        ("P018", 1, "/a"),
        ("P018", 2, "/b"),
        ("P018", 3, "/c"),
    ]
    assert len(bad.problems[2].message) < 200  # the token is shortened
    assert bad.documents == []


# --- YAML: refused constructs ----------------------------------------------------------


def test_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    result = parse(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    assert time.perf_counter() - start < 1.0
    assert result.documents == []
    assert set(codes(result)) == {"P012"}
    assert where(result.problems[0]) == (1, 4, "/a") and "&a" in result.problems[0].message
    assert where(result.problems[2]) == (2, 8, "/b/0") and "*a" in result.problems[2].message
    assert len(result.problems) <= 20  # one per anchor and one per alias name


@pytest.mark.parametrize(
    ("scalar", "tag"),
    [("!!str 5", "!!str"), ("!!python/object/apply:os.system ['true']",
                            "!!python/object/apply:os.system"), ("!custom x", "!custom")],
)  # fmt: skip
def test_every_explicit_tag_is_refused(tmp_path: Path, scalar: str, tag: str) -> None:
    result = parse(tmp_path, "a.yaml", f"ok: 1\nv: {scalar}\n")
    p = one(result, "P013")
    assert where(p) == (2, 4, "/v") and f"'{tag}'" in p.message
    assert result.documents == []


def test_merge_key_is_refused(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "base: {a: 1}\nx:\n  <<: {b: 2}\n  '<<': quoted is fine\n")
    assert where(one(result, "P014")) == (3, 3, "/x/<<")


def test_second_document_is_refused(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "a: 1\n---\nb: 2\n")
    assert where(one(result, "P015"))[:2] == (2, 1)
    assert result.documents == []


def test_duplicate_key_at_depth_three_is_reported_at_the_second_key(tmp_path: Path) -> None:
    text = "a:\n  b:\n    c:\n      x: 1\n      y: 2\n      x: 3\n"
    p = one(parse(tmp_path, "a.yaml", text), "P011")
    assert where(p) == (6, 7, "/a/b/c/x")
    assert "first at line 4" in p.message


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path) -> None:
    text = "a: 1\na: 2\nb: !!int 3\nc: &x 4\nd: *x\ne: yes\n? [k]\n: v\n"
    result = parse(tmp_path, "a.yaml", text)
    assert codes(result) == ["P011", "P013", "P012", "P012", "P019", "P021"]
    assert result.documents == []


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n", "a list"), ("hello\n", "a string"), ("12\n", "a number"),
     ("# only a comment\n", "nothing"), ("null\n", "null")],
)  # fmt: skip
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    p = one(parse(tmp_path, "a.yaml", text), "P016")
    assert p.message.endswith(f"found {found}") and p.line == 1


def test_tab_indentation_is_a_syntax_error_with_position(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "a:\n\tb: 1\n")
    p = one(result, "P010")
    assert (p.line, p.column) == (2, 1) and "YAML syntax error" in p.message
    assert p.hint is not None and "tab" in p.hint


def test_syntax_error_keeps_the_problems_found_before_it(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "a: 1\na: 2\nb: [1, 2\n")
    assert codes(result) == ["P011", "P010"]


def test_depth_and_string_limits(tmp_path: Path) -> None:
    limits = Limits(max_depth=3, max_string_chars=5)
    ok = parse(tmp_path, "a.yaml", "a:\n  b:\n    c: abcde\n", limits)
    assert ok.problems == []
    deep = parse(tmp_path, "b.yaml", "a:\n  b:\n    c:\n      d: 1\n", limits)
    assert [(p.code, p.line, p.pointer) for p in deep.problems] == [("L002", 4, "/a/b/c")]
    long = parse(tmp_path, "c.yaml", "a: abcdef\n", limits)
    assert where(one(long, "L003")) == (1, 4, "/a")


def test_very_deep_yaml_is_bounded(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert codes(result) == ["L002"]


# --- YAML: positions -------------------------------------------------------------------


def test_yaml_locates_values_keys_and_falls_back_to_the_parent(tmp_path: Path) -> None:
    text = "facts:\n  - id: f1\n  - id: f2\n    supplier:  USA\n    a/b~c: 1\n"
    doc = parse(tmp_path, "a.yaml", text).documents[0]
    assert doc.locate("/facts/1/supplier") == (4, 16)
    assert doc.locate("/facts/1/supplier", key=True) == (4, 5)
    assert doc.locate("/facts/1/a~1b~0c") == (5, 12)
    assert doc.locate("/facts/1/missing/deeper") == (3, 5)
    assert doc.locate("") == (1, 1)
    assert doc.line == 1 and doc.root == tmp_path and doc.role == "bundle"


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\r"])
def test_yaml_line_numbers_with_crlf_and_lone_cr(tmp_path: Path, brk: str) -> None:
    text = brk.join(["a: 1", "b: 2", "c: NO", ""])
    result = parse(tmp_path, "a.yaml", text)
    assert where(one(result, "P019")) == (3, 4, "/c")
    assert value(result) == {"a": 1, "b": 2, "c": "NO"}


def test_line_index_agrees_with_the_yaml_parser_on_every_break() -> None:
    text = "a: 1\rb: 2\r\nc: 3\x85d: 4\u2028e: 5\u2029f: 'x'\ng: é€😀 z\n"
    index = LineIndex(text, parser_lines=True)
    editor = LineIndex(text)
    lines = editor_lines(text)
    assert lines is not None
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        mark = event.start_mark
        assert mark is not None
        assert index.position(mark.index) == (mark.line + 1, mark.column + 1)
        # and what is reported is the editor's line: NEL, LS and PS break no line there
        assert lines(mark.line + 1, mark.column + 1) == editor.position(mark.index)


def test_control_character_positions_match_editor_lines(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "a: 1\rb: 2\x85c: x\x01\n")
    assert where(one(result, "P004")) == (2, 10, "")


def test_c1_control_in_yaml_is_located_in_characters(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", "a: é€😀\nb: x\x80\n")
    p = one(result, "P004")
    assert (p.line, p.column) == (2, 5) and "U+0080" in p.message


# --- decoding --------------------------------------------------------------------------


def test_utf8_bom_is_a_warning_and_is_stripped(tmp_path: Path) -> None:
    for name in ("a.yaml", "a.json"):
        result = parse(tmp_path, name, b'\xef\xbb\xbf{"a": 1}')
        assert value(result) == {"a": 1}
        assert [(p.code, p.severity) for p in result.problems] == [("P003", "warning")]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_are_refused(tmp_path: Path, encoding: str) -> None:
    data = '{"a": 1}'.encode(encoding)
    if not encoding.endswith("be"):
        assert data[:2] == b"\xff\xfe"  # the codec wrote its little-endian mark
    else:
        data = ("\ufeff" + '{"a": 1}').encode(encoding)
    result = parse(tmp_path, "a.json", data)
    p = one(result, "P002")
    assert (p.line, p.column) == (1, 1) and ("UTF-16" in p.message or "UTF-32" in p.message)
    assert result.documents == []


def test_invalid_utf8_is_located_at_the_first_bad_byte(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.yaml", b"a: 1\nb: caf\xe9 \xff\n")
    p = one(result, "P002")
    assert (p.line, p.column) == (2, 7) and "0xE9" in p.message


def test_nul_and_del_are_located(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.json", b'{"a": "x\x00y",\n "b": "\x7f"}')
    assert [(p.code, p.line, p.column) for p in result.problems] == [("P004", 1, 9), ("P004", 2, 8)]
    assert "NUL" in result.problems[0].message and "DEL" in result.problems[1].message


@pytest.mark.parametrize("content", ["", "  \n\t\r\n", "\ufeff"])
def test_empty_files(tmp_path: Path, content: str) -> None:
    for name in ("a.yaml", "a.json", "a.jsonl"):
        assert "P005" in codes(parse(tmp_path, name, content))


# --- JSON ------------------------------------------------------------------------------


def test_json_document_and_lazy_positions(tmp_path: Path) -> None:
    text = '{\n  "facts": [\n    {"id": "f1"},\n    {"id": "f2", "supplier": "USA"}\n  ]\n}\n'
    doc = parse(tmp_path, "a.json", text).documents[0]
    assert doc.value == {"facts": [{"id": "f1"}, {"id": "f2", "supplier": "USA"}]}
    assert doc.line == 1 and doc.root == tmp_path
    assert doc.locate("/facts/1/supplier") == (4, 30)
    assert doc.locate("/facts/1/supplier", key=True) == (4, 18)
    assert doc.locate("/facts/1/nope") == (4, 5)
    assert doc.locate("/facts/7") == (2, 12)
    assert doc.locate("") == (1, 1)


def test_json_positions_count_cr_and_crlf(tmp_path: Path) -> None:
    doc = parse(tmp_path, "a.json", '{\r\n"a":\r[1,\n 2]}').documents[0]
    assert doc.locate("/a/1") == (4, 2)


def test_json_duplicate_keys_are_located(tmp_path: Path) -> None:
    text = '{\n  "a": {\n    "b": 1,\n    "b": 2\n  },\n  "c": [{"b": 1}, {"b": 2}],\n  "a": 3\n}\n'
    result = parse(tmp_path, "a.json", text)
    assert [(p.code, *where(p)) for p in result.problems] == [
        ("P011", 4, 5, "/a/b"),
        ("P011", 7, 3, "/a"),
    ]
    assert "first at line 3" in result.problems[0].message
    assert result.documents == []


def test_json_non_finite_and_out_of_range_numbers(tmp_path: Path) -> None:
    text = '{"a": [NaN, -Infinity, 1e400, 99999999999999999999, 9223372036854775807, 1.5]}'
    result = parse(tmp_path, "a.json", text)
    assert [(p.code, p.column, p.pointer) for p in result.problems] == [
        ("P017", 8, "/a/0"),
        ("P017", 13, "/a/1"),
        ("P018", 24, "/a/2"),
        ("P018", 31, "/a/3"),
    ]
    assert value(parse(tmp_path, "b.json", '{"n": 9223372036854775807}')) == {"n": 2**63 - 1}


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [('{"a": [1, 2,]}', 1, 13), ('{"a": 1,\n}', 2, 1), ('{"a": 1} {"b": 2}', 1, 10),
     ('{"a": tru}', 1, 7), ('{"a": "x', 1, 7)],
)  # fmt: skip
def test_json_syntax_errors(tmp_path: Path, text: str, line: int, column: int) -> None:
    p = one(parse(tmp_path, "a.json", text), "P010")
    assert (p.line, p.column) == (line, column) and p.message.startswith("JSON syntax error")


def test_json_lone_surrogate_escapes_are_refused(tmp_path: Path) -> None:
    text = r'{"a": "x\ud800", "ok": "\ud83d\ude00", "\udc00": 1}'
    result = parse(tmp_path, "a.json", text)
    assert [(p.code, p.column, p.pointer) for p in result.problems] == [
        ("P002", 7, "/a"),
        ("P002", 40, "/\\udc00"),
    ]
    assert "'\\ud800'" in result.problems[0].message
    assert value(parse(tmp_path, "b.json", r'{"ok": "\ud83d\ude00"}')) == {"ok": "😀"}


def test_json_top_level_and_limits(tmp_path: Path) -> None:
    assert one(parse(tmp_path, "a.json", "[1]"), "P016").message.endswith("a list")
    deep = parse(tmp_path, "b.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert codes(deep) == ["L002"] and deep.problems[0].column == 70
    limits = Limits(max_string_chars=3)
    long = parse(tmp_path, "c.json", '{"ok": "abc", "abcd": "abcdef"}', limits)
    assert [(p.code, p.column, p.pointer) for p in long.problems] == [
        ("L003", 15, "/abcd"),
        ("L003", 23, "/abcd"),
    ]


# --- JSONL -----------------------------------------------------------------------------


def test_jsonl_bad_middle_line_does_not_hide_the_others(tmp_path: Path) -> None:
    text = '{"a": 1}\n{"b": [1,}\n{"c": {"d": 3}}\n'
    result = parse(tmp_path, "a.jsonl", text)
    assert [d.value for d in result.documents] == [{"a": 1}, {"c": {"d": 3}}]
    assert [d.line for d in result.documents] == [1, 3]
    assert [(p.code, p.line, p.column) for p in result.problems] == [("P010", 2, 10)]
    assert result.documents[1].locate("/c/d") == (3, 13)
    assert result.documents[1].locate("/c/d", key=True) == (3, 8)


def test_jsonl_blank_lines_trailing_newline_and_truncated_last_line(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.jsonl", '{"a": 1}\n\n  \n{"b": 2}\n{"c":')
    assert [d.line for d in result.documents] == [1, 4]
    assert [(p.code, p.severity, p.line) for p in result.problems] == [
        ("P020", "warning", 2),
        ("P020", "warning", 3),
        ("P010", "error", 5),
    ]
    assert parse(tmp_path, "b.jsonl", '{"a": 1}\n{"b": 2}\n').problems == []


@pytest.mark.parametrize("brk", ["\r\n", "\r"])
def test_jsonl_crlf_and_lone_cr(tmp_path: Path, brk: str) -> None:
    result = parse(tmp_path, "a.jsonl", brk.join(['{"a": 1}', '{"b": NaN}', '{"c": 3}', ""]))
    assert [d.line for d in result.documents] == [1, 3]
    assert [(p.code, p.line, p.column) for p in result.problems] == [("P017", 2, 7)]


def test_jsonl_line_limit_controls_and_duplicates_spoil_only_their_line(tmp_path: Path) -> None:
    lines = ['{"a": "' + "x" * 60 + '"}', '{"b": "\x7f"}', '{"c": 1, "c": 2}', '{"ok": true}']
    result = parse(tmp_path, "a.jsonl", "\n".join(lines) + "\n", Limits(max_line_bytes=50))
    assert [(p.code, p.line, p.column) for p in result.problems] == [
        ("L005", 1, 1),
        ("P004", 2, 8),
        ("P011", 3, 10),
    ]
    assert [(d.line, d.value) for d in result.documents] == [(4, {"ok": True})]


def test_jsonl_every_line_must_be_an_object(tmp_path: Path) -> None:
    result = parse(tmp_path, "a.jsonl", '[1]\n"x"\n{}\n')
    assert [(p.code, p.line) for p in result.problems] == [("P016", 1), ("P016", 2)]


# --- files -----------------------------------------------------------------------------


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    results: list[ParseResult] = []
    worker = threading.Thread(target=lambda: results.append(parse_file(fifo, "pipe", "bundle")))
    worker.daemon = True
    worker.start()
    worker.join(timeout=5)
    assert results, "parse_file blocked on a FIFO"
    assert codes(results[0]) == ["X702"] and "named pipe" in results[0].problems[0].message


def test_directory_missing_file_unknown_suffix_and_size_limit(tmp_path: Path) -> None:
    (tmp_path / "folder.yaml").mkdir()
    assert codes(parse_file(tmp_path / "folder.yaml", "f", "bundle")) == ["X702"]
    assert codes(parse_file(tmp_path / "missing.yaml", "m", "bundle")) == ["P001"]
    assert codes(parse(tmp_path, "a.txt", "a: 1")) == ["P001"]
    big = parse(tmp_path, "a.yaml", "a: 1234567890\n", Limits(max_file_bytes=10))
    assert codes(big) == ["L001"] and "14 bytes" in big.problems[0].message


def test_actor_role_is_passed_through(tmp_path: Path) -> None:
    doc = parse(tmp_path, "a.yaml", "id: x\n", role="actor").documents[0]
    assert doc.role == "actor" and doc.file == "a.yaml" and doc.path == tmp_path / "a.yaml"


# --- discover --------------------------------------------------------------------------


def make_tree(base: Path) -> Path:
    data = base / "proj" / "data"
    for rel in [
        "actors/a.yaml", "actors/sub/b.yml", "sources/s1.yaml", "sources/s2.json",
        "sources/s3.jsonl", "sources/notes.txt", "texts/t.yaml", ".git/x.yaml",
        ".hidden.yaml", ".factkit-cache/c.json", "other/z.yaml",
    ]:  # fmt: skip
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text("a: 1\n")
    (base / "outside").mkdir()
    (base / "outside" / "o.yaml").write_text("a: 1\n")
    return data


def test_discover_walks_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path / "proj")
    entries, problems = discover(["data"])
    assert [(e.file, e.role) for e in entries] == [
        ("data/actors/a.yaml", "actor"), ("data/actors/sub/b.yml", "actor"),
        ("data/other/z.yaml", "bundle"), ("data/sources/s1.yaml", "bundle"),
        ("data/sources/s2.json", "bundle"), ("data/sources/s3.jsonl", "bundle"),
    ]  # fmt: skip
    assert problems == []
    assert all(e.root == Path("data") and e.path == Path(e.file) for e in entries)
    assert discover(["./data/"])[0][0].file == "./data/actors/a.yaml"


def test_discover_file_argument_brings_its_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path / "proj")
    entries, _ = discover(["data/sources/s1.yaml", "data/actors/a.yaml"])
    assert [(e.file, e.role, e.root) for e in entries] == [
        ("data/sources/s1.yaml", "bundle", Path("data")),
        ("data/actors/a.yaml", "actor", Path("data")),
        ("data/actors/sub/b.yml", "actor", Path("data")),
    ]
    monkeypatch.chdir(tmp_path / "proj" / "data" / "sources")
    entries, _ = discover(["s2.json"])
    assert [(e.file, e.root) for e in entries][:2] == [
        ("s2.json", Path("..")),
        ("../actors/a.yaml", Path("..")),
    ]


def test_discover_file_without_registry_uses_its_folder(tmp_path: Path) -> None:
    (tmp_path / "lone.json").write_text("{}")
    entries, _ = discover([str(tmp_path / "lone.json")])
    assert [(e.role, e.root) for e in entries] == [("bundle", tmp_path)]


def test_discover_refuses_links_out_of_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_tree(tmp_path)
    (data / "sources" / "out.yaml").symlink_to(tmp_path / "outside" / "o.yaml")
    (data / "sources" / "in.yaml").symlink_to(data / "sources" / "s1.yaml")
    (data / "linkdir").symlink_to(tmp_path / "outside")
    (data / "other" / "loop").symlink_to(data)
    monkeypatch.chdir(tmp_path / "proj")
    entries, problems = discover(["data"])
    assert [(p.code, p.file) for p in problems] == [
        ("X705", "data/linkdir"),
        ("X705", "data/sources/out.yaml"),
    ]
    files = [e.file for e in entries]
    assert "data/sources/s1.yaml" in files and "data/sources/in.yaml" not in files
    assert len(files) == len(set(files)) == 6
    assert [p.code for p in discover(["data/sources/out.yaml"])[1]] == ["X705"]


def test_discover_missing_path_and_unknown_type_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        discover([str(tmp_path / "nope")])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(UsageError):
        discover([str(tmp_path / "notes.txt")])


def test_discover_lists_a_file_reached_twice_once(tmp_path: Path) -> None:
    data = make_tree(tmp_path)
    entries, _ = discover([str(data / "sources" / "s1.yaml"), str(data)])
    files = [e.file for e in entries]
    assert len(files) == len(set(os.path.realpath(f) for f in files)) == 6
