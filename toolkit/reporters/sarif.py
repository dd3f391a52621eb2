"""SARIF 2.1.0, the interchange format of code-scanning views (GitHub, Azure DevOps, IDEs).

One run whose `tool.driver` lists every rule of the code catalogue (id = code,
name = rule name, shortDescription = title, defaultConfiguration.level =
severity), then one result per problem with its file as a relative URI and its
line and column as the region. Columns count characters (code points), which the
run declares in `columnKind`.

A hint is advice, not an edit SARIF's `fixes` could apply, so it goes into the
message text ("... (hint: ...)") and, alone, into `properties.hint`; the JSON
pointer goes into `properties.pointer`. `partialFingerprints` identify a
problem by file, code, pointer and message, so a code-scanning view keeps
tracking it when lines move. Run-level notices become tool notifications.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from toolkit.codes import CODES
from toolkit.problems import Problem
from toolkit.result import Report

if TYPE_CHECKING:
    from toolkit.reporters import LineSource

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL = "factkit"
FINGERPRINT = "factkitProblem/v1"
SRCROOT = "%SRCROOT%"

_SURROGATE = re.compile("[\ud800-\udfff]")


def _version() -> str:
    import importlib.metadata  # here: it costs every run 30 ms to import

    try:
        return importlib.metadata.version("factkit")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def rules() -> list[dict[str, Any]]:
    """The code catalogue as SARIF reportingDescriptors, in catalogue order."""
    return [
        {
            "id": spec.code,
            "name": spec.name,
            "shortDescription": {"text": spec.title},
            "defaultConfiguration": {"level": spec.severity},
            "properties": {"family": spec.family, "tags": [spec.family]},
        }
        for spec in CODES.values()
    ]


def artifact_uri(file: str) -> tuple[str, str | None]:
    """The URI of a reported file and its base id: relative paths stay relative to the root.

    Code-scanning views resolve relative URIs against the checked-out repository,
    which is the working folder factkit runs in on CI.
    """
    if os.path.isabs(file):
        return Path(file).as_uri(), None
    posix = PurePosixPath(*Path(os.path.normpath(file)).parts).as_posix()
    return quote(posix, safe="/"), SRCROOT


def _fingerprint(problem: Problem) -> str:
    key = "\0".join((problem.file, problem.code, problem.pointer, problem.message))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def result(problem: Problem, index: dict[str, int]) -> dict[str, Any]:
    """One SARIF result for one problem."""
    text = problem.message
    if problem.hint:
        text += f" (hint: {problem.hint})"
    uri, base = artifact_uri(problem.file)
    location: dict[str, Any] = {"uri": uri}
    if base:
        location["uriBaseId"] = base
    physical: dict[str, Any] = {"artifactLocation": location}
    if problem.line:
        region: dict[str, Any] = {"startLine": problem.line}
        if problem.column:
            region["startColumn"] = problem.column
        physical["region"] = region
    properties: dict[str, Any] = {"pointer": problem.pointer}
    if problem.hint:
        properties["hint"] = problem.hint
    out: dict[str, Any] = {
        "ruleId": problem.code,
        "level": "warning" if problem.severity == "warning" else "error",
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT: _fingerprint(problem)},
        "properties": properties,
    }
    if problem.code in index:
        out["ruleIndex"] = index[problem.code]
    return out


def build(report: Report) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    driver_rules = rules()
    index = {rule["id"]: i for i, rule in enumerate(driver_rules)}
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if report.notices:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": note}} for note in report.notices
        ]
    run = {
        "tool": {
            "driver": {
                "name": TOOL,
                "version": _version(),
                "rules": driver_rules,
            }
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [result(p, index) for p in sorted(report.problems, key=Problem.sort_key)],
        "properties": report.summary(),
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def render(report: Report, *, source: LineSource | None = None, color: bool = False) -> str:
    """The SARIF log as indented JSON; `source` and `color` are unused.

    Non-ASCII text is written as is; a lone surrogate (from a JSON escape in a
    bundle) is written back as an escape, so the output is always valid UTF-8.
    """
    text = json.dumps(build(report), ensure_ascii=False, indent=2)
    return _SURROGATE.sub(_escape_surrogate, text) + "\n"
