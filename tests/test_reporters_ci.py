"""The CI formats: JUnit XML, SARIF 2.1.0 and the Markdown job summary.

SARIF output is validated against the official SARIF 2.1.0 JSON Schema, vendored
in tests/schemas/ (see its README). JUnit has no single official schema; the XML
is parsed back with xml.etree and held to the element and attribute rules of the
common JUnit schema, Jenkins xunit's junit-10.xsd, encoded in `check_junit` below.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from toolkit.checker import validate
from toolkit.cli.main import main
from toolkit.codes import CODES
from toolkit.problems import Problem
from toolkit.reporters import REPORTERS, render
from toolkit.reporters.summary import blob_base, render_markdown
from toolkit.result import Report

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
SARIF_SCHEMA = json.loads((HERE / "schemas" / "sarif-schema-2.1.0.json").read_text("utf-8"))

NASTY = "bad\x01value <&> ]]> \ufffe \u202e [link](https://example.com) @user"


def sample() -> Report:
    return Report(
        problems=[
            Problem.of("S101", "data/a.yaml", line=2, column=3, field="mode", hint="add 'mode'"),
            Problem.of("S104", "data/a.yaml", line=4, column=7, value=NASTY, allowed="x, y"),
            Problem.of("P019", "data/a.yaml", line=5, column=1, value="no", other="false"),
            Problem.of("P020", "data/c.jsonl", line=3),
            Problem.of("P001", "data/unreadable", reason="permission denied"),
        ],
        files=3,
        records=4,
        notices=["--changed-since: unknown git ref 'x'; reporting every file"],
        checked_files=["data/a.yaml", "data/b.yaml", "data/c.jsonl"],
    )


# --- JUnit ------------------------------------------------------------------------------

# junit-10.xsd: allowed attributes (required ones first) and children of each element.
JUNIT_RULES = {
    "testsuites": ((), {"name", "time", "tests", "failures", "errors"}, {"testsuite"}),
    "testsuite": (
        ("name", "tests", "failures", "errors"),
        {
            "name",
            "tests",
            "failures",
            "errors",
            "group",
            "time",
            "skipped",
            "timestamp",
            "hostname",
            "id",
            "package",
            "file",
            "log",
            "url",
        },
        {"testsuite", "properties", "testcase", "system-out", "system-err"},
    ),
    "testcase": (
        ("name",),
        {"name", "time", "classname", "group"},
        {"skipped", "error", "failure", "system-out", "system-err"},
    ),
    "failure": ((), {"type", "message"}, set()),
    "system-out": ((), set(), set()),
}


def check_junit(element: ET.Element) -> None:
    """Raise AssertionError where `element` breaks the junit-10.xsd structure."""
    required, allowed, children = JUNIT_RULES[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, element.attrib)
    for name in required:
        assert name in element.attrib, (element.tag, name)
    for name in ("tests", "failures", "errors", "skipped"):
        if name in element.attrib:
            assert element.attrib[name].isdigit(), (element.tag, name)
    for child in element:
        assert child.tag in children, (element.tag, child.tag)
        check_junit(child)


def parse_junit(report: Report) -> ET.Element:
    text = render(report, "junit")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    check_junit(root)
    return root


def test_junit_one_case_per_file_and_a_failure_per_error() -> None:
    root = parse_junit(sample())
    [suite] = root
    cases = {case.attrib["name"]: case for case in suite.iter("testcase")}
    assert list(cases) == ["data/a.yaml", "data/b.yaml", "data/c.jsonl", "data/unreadable"]
    assert all(case.attrib["classname"] == "factkit" for case in cases.values())
    assert [f.attrib["type"] for f in cases["data/a.yaml"].iter("failure")] == ["S101", "S104"]
    assert list(cases["data/b.yaml"]) == []  # a clean file passes
    assert [f.attrib["type"] for f in cases["data/unreadable"].iter("failure")] == ["P001"]
    # Warnings are listed, not failures: a warning alone does not fail a file.
    assert list(cases["data/c.jsonl"].iter("failure")) == []
    out = cases["data/c.jsonl"].find("system-out")
    assert out is not None and out.text is not None and "warning[P020 blank-line]" in out.text
    counts = {"tests": "4", "failures": "2", "errors": "0"}
    for element in (root, suite):
        assert {k: element.attrib[k] for k in counts} == counts


def test_junit_failure_text_and_hint() -> None:
    root = parse_junit(sample())
    failure = next(root.iter("failure"))
    assert failure.attrib["message"] == "data/a.yaml:2:3: required field 'mode' is missing"
    assert failure.text is not None and "(hint: add 'mode')" in failure.text


def test_junit_survives_untrusted_text() -> None:
    root = parse_junit(sample())  # parsing at all proves the XML is well formed
    message = next(f.attrib["message"] for f in root.iter("failure") if f.attrib["type"] == "S104")
    assert "\\x01" in message and "\\ufffe" in message and "\\u202e" in message
    assert "<&> ]]>" in message


def test_junit_notices_and_empty_report() -> None:
    root = parse_junit(sample())
    notes = root.find("testsuite/system-out")
    assert notes is not None and notes.text is not None and "unknown git ref" in notes.text
    empty = parse_junit(Report())
    assert empty.attrib["tests"] == "0" and empty.attrib["failures"] == "0"


def test_junit_of_a_real_run() -> None:
    report = validate([str(FIXTURES / "invalid" / "unknown-actor" / "data")])
    root = parse_junit(report)
    assert root.attrib["tests"] == str(report.files)
    assert int(root.attrib["failures"]) == 1


# --- SARIF ------------------------------------------------------------------------------


def sarif(report: Report) -> dict[str, Any]:
    log = json.loads(render(report, "sarif"))
    validator = jsonschema.Draft7Validator(
        SARIF_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    assert isinstance(log, dict)
    return log


def test_sarif_validates_against_the_official_schema() -> None:
    sarif(sample())
    sarif(Report())


def test_sarif_rules_are_the_code_catalogue() -> None:
    [run] = sarif(sample())["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "factkit" and driver["version"]
    assert [rule["id"] for rule in driver["rules"]] == list(CODES)
    s101 = driver["rules"][list(CODES).index("S101")]
    assert s101["name"] == "missing-field"
    assert s101["shortDescription"] == {"text": "Missing field"}
    assert s101["defaultConfiguration"] == {"level": "error"}


def test_sarif_results() -> None:
    [run] = sarif(sample())["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == 5
    first = results[0]
    assert first["ruleId"] == "S101" and rules[first["ruleIndex"]]["id"] == "S101"
    assert first["level"] == "error"
    assert first["message"]["text"] == "required field 'mode' is missing (hint: add 'mode')"
    assert first["properties"]["hint"] == "add 'mode'"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "data/a.yaml", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 2, "startColumn": 3}
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["P019"] == "warning"
    unreadable = next(r for r in results if r["ruleId"] == "P001")
    assert "region" not in unreadable["locations"][0]["physicalLocation"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert "unknown git ref" in notes[0]["message"]["text"]


def test_sarif_uri_escapes_and_lone_surrogates() -> None:
    report = Report([Problem.of("S102", "data/a b#.yaml", line=1, field="\ud800")])
    text = render(report, "sarif")
    text.encode("utf-8")  # no lone surrogate reaches the output
    [run] = sarif(report)["runs"]
    [result] = run["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "data/a%20b%23.yaml"
    )


def test_sarif_of_a_real_run() -> None:
    report = validate([str(FIXTURES / "invalid" / "unknown-actor" / "data")])
    [run] = sarif(report)["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["R301"]


# --- Markdown summary -------------------------------------------------------------------

GITHUB = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "owner/data",
    "GITHUB_SHA": "abc123",
}


def test_summary_counts_and_plain_locations() -> None:
    text = render_markdown(sample(), base=None, env={})
    assert text.startswith("## ❌ factkit: 3 errors, 2 warnings in 3 files (4 records)\n")
    assert "| S101 | missing-field | error | 1 |" in text
    assert "| P020 | blank-line | warning | 1 |" in text
    assert "- `data/a.yaml:2` **error** S101 missing-field: required field" in text
    assert "`](" not in text  # no links without GitHub


def test_summary_links_on_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    base = blob_base(GITHUB)
    assert base == "https://github.com/owner/data/blob/abc123/"
    text = render_markdown(sample(), base=base, env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert "[`data/a.yaml:2`](https://github.com/owner/data/blob/abc123/data/a.yaml#L2)" in text
    assert blob_base({"GITHUB_REPOSITORY": "owner/data"}) is None


def test_summary_escapes_markdown_in_messages() -> None:
    text = render_markdown(sample(), base=None, env={})
    assert "\\[link\\](https://example.com)" in text
    assert "\\<\\&\\>" in text and "\\@user" in text
    assert "[link](" not in text


def test_summary_lists_the_first_problems_only() -> None:
    many = Report([Problem.of("P020", "data/a.jsonl", line=n) for n in range(1, 31)], files=1)
    text = render_markdown(many, base=None, first=20, env={})
    assert "### First 20 problems" in text
    assert text.count("\n- ") == 20
    assert "…and 10 more" in text


def test_summary_of_a_clean_run() -> None:
    text = render_markdown(Report(files=2, records=5), base=None, env={})
    assert text == "## ✅ factkit: no problems in 2 files (5 records)\n\n"


# --- registry and command line ---------------------------------------------------------


def test_formats_are_registered() -> None:
    assert {"junit", "sarif", "markdown"} <= set(REPORTERS)


@pytest.mark.parametrize("fmt", ["junit", "sarif", "markdown"])
def test_cli_formats(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(FIXTURES / "invalid" / "unknown-actor" / "data")
    assert main(["validate", data, "--format", fmt]) == 1
    assert "R301" in capsys.readouterr().out
