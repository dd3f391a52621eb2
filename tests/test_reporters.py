"""Exact output of the text, json and github reporters for hand-built reports."""

from __future__ import annotations

import json

import pytest

from toolkit.errors import UsageError
from toolkit.problems import Problem
from toolkit.reporters import REPORTERS, render
from toolkit.reporters.github import escape_data, escape_property
from toolkit.result import Report

SOURCE_LINES = {
    "data/a.yaml": ["id: f1", "kind:\tquote", '日本語: "x"', "mode: repport"],
    "data/b.json": ['{"id": "f2", "extra": 1}'],
}


def source(file: str, line: int) -> str | None:
    lines = SOURCE_LINES.get(file)
    if lines is None or not 1 <= line <= len(lines):
        return None
    return lines[line - 1]


def sample_report() -> Report:
    """Problems in two files, deliberately out of order."""
    return Report(
        problems=[
            Problem.of("S102", "data/b.json", line=1, column=14, field="extra"),
            Problem.of(
                "S104",
                "data/a.yaml",
                line=4,
                column=7,
                value="repport",
                allowed="report, quote",
                hint="did you mean 'report'?",
            ),
            Problem.of("S101", "data/a.yaml", line=2, column=1, field="mode"),
            Problem.of("P003", "data/a.yaml", bom="UTF-8"),
        ],
        files=2,
        records=3,
    )


# --- text ----------------------------------------------------------------------------


def test_text_full_output_is_grouped_by_file_with_excerpts_hints_and_summary() -> None:
    out = render(sample_report(), "text", source=source)
    assert out == (
        "data/a.yaml: warning[P003 byte-order-mark] file starts with a UTF-8 byte-order mark\n"
        "\n"
        "data/a.yaml:2:1: error[S101 missing-field] required field 'mode' is missing\n"
        "  2 | kind:   quote\n"
        "    | ^\n"
        "\n"
        "data/a.yaml:4:7: error[S104 not-allowed] 'repport' is not one of: report, quote\n"
        "  4 | mode: repport\n"
        "    |       ^\n"
        "  = hint: did you mean 'report'?\n"
        "\n"
        "data/b.json:1:14: error[S102 unknown-field] unknown field 'extra'\n"
        '  1 | {"id": "f2", "extra": 1}\n'
        "    |              ^\n"
        "\n"
        "3 errors, 1 warning in 2 files (3 records)\n"
    )


def test_text_without_source_shows_headers_only() -> None:
    out = render(sample_report(), "text")
    assert " | " not in out
    assert "data/a.yaml:4:7: error[S104 not-allowed]" in out
    assert "  = hint: did you mean 'report'?" in out


def caret_column(out: str) -> int:
    """Column (0-based) of the caret in the excerpt, relative to the excerpt text."""
    lines = out.splitlines()
    text_line = next(line for line in lines if line.startswith("  ") and " | " in line)
    caret_line = next(line for line in lines if line.rstrip().endswith("^"))
    return caret_line.index("^") - (text_line.index("| ") + 2)


def one(problem: Problem, line_text: str) -> str:
    return render(Report([problem]), "text", source=lambda f, n: line_text)


def test_caret_counts_tabs_to_the_next_tab_stop() -> None:
    out = one(Problem.of("S101", "a.yaml", line=1, column=7, field="x"), "kind:\tquote")
    assert "  1 | kind:   quote" in out
    assert caret_column(out) == 8  # under the 'q' of quote


def test_caret_counts_wide_characters_twice() -> None:
    out = one(Problem.of("S101", "a.yaml", line=1, column=7, field="x"), '日本語: "x"')
    assert caret_column(out) == 9  # 3 wide characters + ': "'


def test_caret_past_the_end_of_the_line_sits_just_after_it() -> None:
    out = one(Problem.of("S101", "a.yaml", line=1, column=99, field="x"), "id: f1")
    assert caret_column(out) == len("id: f1")


def test_line_without_column_shows_the_line_but_no_caret() -> None:
    out = one(Problem.of("P020", "a.jsonl", line=1), "   ")
    assert out.startswith("a.jsonl:1: warning[P020 blank-line] blank line in a JSONL file\n")
    assert "^" not in out


def test_long_lines_are_cut_around_the_column() -> None:
    line = "a" * 300 + "X" + "b" * 300
    out = one(Problem.of("S101", "a.json", line=1, column=301, field="x"), line)
    excerpt = next(x for x in out.splitlines() if x.startswith("  1 | "))[len("  1 | ") :]
    assert excerpt.startswith("…") and excerpt.endswith("…")
    assert len(excerpt) <= 162
    assert excerpt[caret_column(out)] == "X"


def test_control_and_bidi_characters_never_reach_the_terminal() -> None:
    problem = Problem.of(
        "S102", "evil\x1b[2J.yaml", line=1, column=5, field="a\u202eb\nc", hint="x\x07"
    )
    out = one(problem, "ab\x1b[31mc\u202ed: 1")
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "evil\\x1b[2J.yaml:1:5: error[S102 unknown-field] unknown field 'a\\u202eb\\nc'" in out
    assert "  1 | ab\ufffd[31mc\ufffdd: 1" in out  # one replacement per character
    assert caret_column(out) == 4
    assert "  = hint: x\\x07" in out


def test_summary_lines() -> None:
    clean = render(Report(files=3, records=10), "text")
    assert clean == "ok: 10 records in 3 files: no problems\n"
    single = render(Report(files=1, records=1), "text")
    assert single == "ok: 1 record in 1 file: no problems\n"
    warning = Report([Problem.of("P020", "a.jsonl", line=2)], files=1, records=2)
    assert render(warning, "text").endswith("\n0 errors, 1 warning in 1 file (2 records)\n")


def test_notices_are_listed_before_the_summary() -> None:
    report = Report(files=1, records=1, notices=["jsonschema-rs missing; using jsonschema"])
    assert render(report, "text") == (
        "note: jsonschema-rs missing; using jsonschema\nok: 1 record in 1 file: no problems\n"
    )


def test_color_only_when_asked() -> None:
    plain = render(sample_report(), "text", source=source)
    colored = render(sample_report(), "text", source=source, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31merror\x1b[0m" in colored
    assert "\x1b[1;33mwarning\x1b[0m" in colored
    assert "\x1b[1;31m3 errors, 1 warning in 2 files (3 records)\x1b[0m" in colored


# --- json ----------------------------------------------------------------------------


def test_json_structure_and_round_trip() -> None:
    out = render(sample_report(), "json")
    assert out.endswith("}\n")
    assert out.startswith('{\n  "version": 1,\n  "summary": {\n    "files": 2,')
    data = json.loads(out)
    assert list(data) == ["version", "summary", "problems"]
    assert data["version"] == 1
    assert data["summary"] == {"files": 2, "records": 3, "errors": 3, "warnings": 1}
    assert [p["code"] for p in data["problems"]] == ["P003", "S101", "S104", "S102"]
    first = data["problems"][2]
    assert list(first) == [
        "file", "line", "column", "pointer", "code", "rule", "severity", "message", "hint",
    ]  # fmt: skip
    assert first == {
        "file": "data/a.yaml",
        "line": 4,
        "column": 7,
        "pointer": "",
        "code": "S104",
        "rule": "not-allowed",
        "severity": "error",
        "message": "'repport' is not one of: report, quote",
        "hint": "did you mean 'report'?",
    }
    assert data["problems"][0]["line"] is None


def test_json_keeps_non_ascii_and_escapes_lone_surrogates() -> None:
    report = Report([Problem.of("S102", "données.yaml", line=1, column=1, field="é\ud800")])
    out = render(report, "json")
    assert '"file": "données.yaml"' in out
    assert "\\ud800" in out
    out.encode("utf-8")  # writable as UTF-8: the surrogate is escaped, not raw
    assert json.loads(out)["problems"][0]["message"] == "unknown field 'é\ud800'"


def test_json_for_a_clean_report() -> None:
    out = render(Report(files=1, records=4), "json")
    assert json.loads(out) == {
        "version": 1,
        "summary": {"files": 1, "records": 4, "errors": 0, "warnings": 0},
        "problems": [],
    }


# --- github --------------------------------------------------------------------------


def test_github_one_command_per_problem_and_a_summary() -> None:
    out = render(sample_report(), "github", source=source)
    assert out.splitlines() == [
        "::warning file=data/a.yaml,title=P003 byte-order-mark::"
        "file starts with a UTF-8 byte-order mark",
        "::error file=data/a.yaml,line=2,col=1,title=S101 missing-field::"
        "required field 'mode' is missing",
        "::error file=data/a.yaml,line=4,col=7,title=S104 not-allowed::"
        "'repport' is not one of: report, quote (hint: did you mean 'report'?)",
        "::error file=data/b.json,line=1,col=14,title=S102 unknown-field::unknown field 'extra'",
        "3 errors, 1 warning in 2 files (3 records)",
    ]
    assert out.endswith("\n")


def test_github_escapes_file_names_and_messages() -> None:
    problem = Problem.of(
        "S102", "dir:x/a,b%.yaml", line=3, field="50%\r\nnext: a,b", hint="use\n'x'"
    )
    line = render(Report([problem]), "github").splitlines()[0]
    assert line == (
        "::error file=dir%3Ax/a%2Cb%25.yaml,line=3,title=S102 unknown-field::"
        "unknown field '50%25%0D%0Anext: a,b' (hint: use%0A'x')"
    )


def test_github_escape_helpers() -> None:
    assert escape_data("100% done\nnext") == "100%25 done%0Anext"
    assert escape_data("a: b, c") == "a: b, c"
    assert escape_property("a: b, c%") == "a%3A b%2C c%25"
    assert escape_data("x\x1by\u202ez") == "x\\x1by\\u202ez"


def test_github_notices_and_clean_summary() -> None:
    report = Report(files=2, records=5, notices=["skipped 1 file\n(symlink)"])
    assert render(report, "github") == (
        "::notice::skipped 1 file%0A(symlink)\nok: 5 records in 2 files: no problems\n"
    )


# --- registry ------------------------------------------------------------------------


def test_registry_names() -> None:
    assert list(REPORTERS) == ["text", "json", "github", "junit", "sarif", "markdown"]


def test_unknown_format_is_a_usage_error_naming_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown report format 'xml'; choose from: text, json"):
        render(Report(), "xml")
