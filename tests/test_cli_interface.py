"""The command line's interface, pinned: every command's usage line, what each option
parses to (names, aliases, defaults, types), which arguments are refused, and the exit
statuses its --help states.

Scripts, Makefiles and CI jobs call these commands; a change here breaks them, so it
must be deliberate (and in the CHANGELOG), never a side effect of reorganising code.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from toolkit.cli.main import build_parser, main

USAGE = {
    "": "[-h] [--version] COMMAND ...",
    "validate": "[-h] [--format {text,json,github,junit,sarif,markdown}] [--strict] [-q] "
    "[--no-cache] "
    "[--engine {polars,duckdb,spark}] [--spark-master URL] [--spark-remote sc://HOST:PORT] "
    "[--memory-limit SIZE] "
    "[-o FILE] [--profile FILE] [--changed-since REF] [PATH ...]",
    "export": "[-h] [--out DIR] [--format FORMATS] [--layout {files,partitioned}] "
    "[--formula-safe] [--include-unreviewed] [-q] "
    "[--no-cache] "
    "[--engine {polars,duckdb,spark}] [--spark-master URL] [--spark-remote sc://HOST:PORT] "
    "[--memory-limit SIZE] "
    "[--format-report {text,json,github,junit,sarif,markdown}] [PATH ...]",
    "codebook": "[-h] [-o FILE] [--data DIR]",
    "schema": "[-h] [--actor] ACTION ...",
    "schema diff": "[-h] [--format {text,json}] OLD NEW",
    "new": "[-h] --id SOURCE_ID --outlet NAME --published YYYY-MM-DD [--language CODE] "
    "[--url URL] [--title TEXT] [--method {manual,model,assisted}] [--model NAME] [--by NAME] "
    "[--extracted-on YYYY-MM-DD] [--data DIR] [--force]",
    "synth": "[-h] --facts N --out FILE.jsonl [--seed S] [--invalid-rate R] "
    "[--facts-per-file M] [-q]",
    "upgrade": "[-h] [--check] PATH [PATH ...]",
    "review": "[-h] --base REF [--format {text,markdown}] [-o FILE] [PATH ...]",
    "xref": "[-h] [--out FILE] [--review] [--by NAME] [--min-score S] [--limit N] [-q] "
    "[--engine {polars,duckdb,spark}] [--spark-master URL] [--spark-remote sc://HOST:PORT] "
    "[--memory-limit SIZE] "
    "[DATA]",
}

ENGINE = {"engine": None, "spark_master": None, "spark_remote": None, "memory_limit": None}
VALIDATE = {
    "paths": ["data"],
    "format": "text",
    "strict": False,
    "quiet": False,
    "no_cache": False,
    **ENGINE,
    "output": None,
    "profile": None,
    "changed_since": None,
}
EXPORT = {
    "paths": ["data"],
    "out": "dist",
    "formats": ["parquet", "csv"],
    "layout": "files",
    "formula_safe": False,
    "include_unreviewed": False,
    "quiet": False,
    "no_cache": False,
    **ENGINE,
    "format_report": "text",
}
NEW = {
    "source_id": "a-b",
    "outlet": "O",
    "published": "2024",
    "language": "en",
    "url": None,
    "title": None,
    "method": "manual",
    "model": None,
    "by": None,
    "extracted_on": None,
    "data": "data",
    "force": False,
}
NEW_ARGS = ["new", "--id", "a-b", "--outlet", "O", "--published", "2024"]
SYNTH = {
    "facts": 5,
    "out": "x.jsonl",
    "seed": 0,
    "invalid_rate": 0.0,
    "facts_per_file": None,
    "quiet": False,
}

PARSED: list[tuple[list[str], dict[str, Any]]] = [
    (["validate"], VALIDATE),
    (
        [
            "validate",
            "a",
            "b",
            "--format",
            "sarif",
            "--strict",
            "-q",
            "--no-cache",
            "-o",
            "r.txt",
            "--changed-since",
            "main",
        ],
        {
            **VALIDATE,
            "paths": ["a", "b"],
            "format": "sarif",
            "strict": True,
            "quiet": True,
            "no_cache": True,
            "output": "r.txt",
            "changed_since": "main",
        },
    ),
    (["validate", "--quiet", "--output", "r.txt"], {**VALIDATE, "quiet": True, "output": "r.txt"}),
    (["export"], EXPORT),
    (
        [
            "export",
            "d",
            "--out",
            "o",
            "--format",
            "csv,,parquet",
            "--formula-safe",
            "--include-unreviewed",
            "--quiet",
            "--no-cache",
            "--format-report",
            "github",
        ],
        {
            **EXPORT,
            "paths": ["d"],
            "out": "o",
            "formats": ["csv", "parquet"],
            "formula_safe": True,
            "include_unreviewed": True,
            "quiet": True,
            "no_cache": True,
            "format_report": "github",
        },
    ),
    (["export", "-q"], {**EXPORT, "quiet": True}),
    (["export", "--layout", "partitioned"], {**EXPORT, "layout": "partitioned"}),
    (["codebook"], {"out": None, "data": None}),
    (["codebook", "-o", "c.md"], {"out": "c.md", "data": None}),
    (["codebook", "--out", "c.md"], {"out": "c.md", "data": None}),
    (["codebook", "--data", "d"], {"out": None, "data": "d"}),
    (["schema"], {"actor": False, "schema_action": None}),
    (["schema", "--actor"], {"actor": True, "schema_action": None}),
    (
        ["schema", "diff", "A", "B", "--format", "json"],
        {"actor": False, "schema_action": "diff", "old": "A", "new": "B", "format": "json"},
    ),
    (NEW_ARGS, NEW),
    (
        [
            *NEW_ARGS,
            "--language",
            "uk",
            "--url",
            "https://x",
            "--title",
            "T",
            "--method",
            "model",
            "--model",
            "m",
            "--by",
            "me",
            "--extracted-on",
            "2024-07-01",
            "--data",
            "d",
            "--force",
        ],
        {
            **NEW,
            "language": "uk",
            "url": "https://x",
            "title": "T",
            "method": "model",
            "model": "m",
            "by": "me",
            "extracted_on": "2024-07-01",
            "data": "d",
            "force": True,
        },
    ),
    (["synth", "--facts", "5", "--out", "x.jsonl"], SYNTH),
    (
        [
            "synth",
            "--facts",
            "1_000",
            "--out",
            "x.jsonl",
            "--seed",
            "7",
            "--invalid-rate",
            "0.5",
            "--facts-per-file",
            "200",
            "--quiet",
        ],
        {
            **SYNTH,
            "facts": 1000,
            "seed": 7,
            "invalid_rate": 0.5,
            "facts_per_file": 200,
            "quiet": True,
        },
    ),
    (["synth", "--facts", "5", "--out", "x.jsonl", "-q"], {**SYNTH, "quiet": True}),
    (["validate", "--engine", "duckdb"], {**VALIDATE, "engine": "duckdb"}),
    (
        ["validate", "--engine", "duckdb", "--memory-limit", "2GB"],
        {**VALIDATE, "engine": "duckdb", "memory_limit": "2GB"},
    ),
    (
        ["export", "--engine", "spark", "--spark-remote", "sc://h:15002"],
        {**EXPORT, "engine": "spark", "spark_remote": "sc://h:15002"},
    ),
]

REFUSED = [
    ["validate", "--format", "xml"],
    ["validate", "--output"],
    ["export", "--format-report", "xml"],
    ["validate", "--engine", "pandas"],
    ["codebook", "x"],
    ["schema", "diff", "A"],
    ["schema", "diff", "A", "B", "--format", "github"],
    ["new", "--id", "a-b", "--outlet", "O"],
    ["new", *NEW_ARGS[1:], "--method", "guess"],
    ["synth", "--facts", "0", "--out", "x.jsonl"],
    ["synth", "--facts", "5", "--out", "x.jsonl", "--invalid-rate", "1.5"],
    ["synth", "--out", "x.jsonl"],
    ["synth", "--facts", "5", "--out", "x.jsonl", "--facts-per-file", "0"],
]


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every parser by its command path ('' for factkit itself, 'schema diff')."""
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        found[path] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}".strip())

    walk(build_parser(), "")
    return found


def test_usage_lines_are_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line each
    usage = {path: p.format_usage() for path, p in _parsers().items()}
    expected = {p: f"usage: {' '.join(['factkit', p]).strip()} {u}\n" for p, u in USAGE.items()}
    assert usage == expected


@pytest.mark.parametrize("argv, expected", PARSED, ids=[" ".join(a) for a, _ in PARSED])
def test_parsed_options_are_pinned(argv: list[str], expected: dict[str, Any]) -> None:
    parsed = vars(build_parser().parse_args(argv))
    assert parsed.pop("command") == argv[0]
    parsed.pop("_command")
    assert parsed == expected


@pytest.mark.parametrize("argv", REFUSED, ids=[" ".join(a) for a in REFUSED])
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("factkit: error: ") and err.count("\n") == 1


def test_every_command_states_its_exit_status() -> None:
    """`--help` of every command (and of `schema diff`) ends with what each exit code
    means, worded the same way everywhere."""
    statuses = {}
    for path, parser in _parsers().items():
        text = parser.epilog if path == "" else parser.description
        assert text is not None, path
        _, found, statuses[path] = text.partition("Exit status: ")
        assert found and statuses[path].startswith("0 ") and statuses[path].endswith("."), path
        assert "2 usage or internal error" in statuses[path] or path == "schema diff", path
    assert statuses == {
        "": "0 valid, 1 invalid data, 2 usage or internal error.",
        "validate": "0 valid, 1 invalid data, 2 usage or internal error.",
        "export": "0 written, 1 invalid data, 2 usage or internal error.",
        "codebook": "0 written, 2 usage or internal error.",
        "schema": "0 printed, or no breaking change (diff), 1 breaking change, "
        "2 usage or internal error.",
        "schema diff": "0 no breaking change (or the major of x-schema-version was raised), "
        "1 breaking change, 2 a side cannot be read.",
        "new": "0 written, 2 usage or internal error.",
        "synth": "0 written, 2 usage or internal error.",
        "upgrade": "0 nothing left to upgrade, 1 with --check: a file would change; or a file "
        "was skipped, 2 usage or internal error.",
        "review": "0 written, 2 usage or internal error.",
        "xref": "0 done, 1 the data has errors, 2 usage or internal error.",
    }


def test_shared_options_are_worded_alike() -> None:
    """An option several commands take reads the same in each (it is defined once)."""
    parsers = _parsers()

    def helps(dest: str) -> dict[str, str | None]:
        return {
            path: action.help
            for path, parser in parsers.items()
            for action in parser._actions
            if action.dest == dest
        }

    assert len(set(helps("no_cache").values())) == 1 and len(helps("no_cache")) == 2
    paths = helps("paths")
    assert paths == {
        "validate": "files or folders to check (default: data)",
        "export": "files or folders to export (default: data)",
        "upgrade": "files or folders to upgrade",
        "review": "files or folders to review (default: data)",
    }
