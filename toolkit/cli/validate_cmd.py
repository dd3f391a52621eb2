"""`factkit validate`: check bundles and actors, report every problem, exit 0 or 1.

Exit 0 when the data passes (with --strict, warnings fail too), 1 when it does
not; errors in the run itself are left to `main` (exit 2).
"""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager

from toolkit.cli import FileLines, Subparsers, print_report, write_atomic
from toolkit.cli.options import (
    add_command,
    add_engine,
    add_no_cache,
    add_output_file,
    add_paths,
    add_quiet,
    add_report_format,
    exit_status,
    run_options,
    verdict,
)
from toolkit.reporters import render
from toolkit.result import Report

NAME = "validate"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cycle collector off for a validation: it leaves next to no cyclic garbage (a few
    dozen objects for 100,000 facts) while the collector would scan, more than once, the
    millions of objects the loaded documents and tables are made of (half a second of a
    run over 5,000 YAML files). Not for an export: pandas leaves cycles that hold tables."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def register(subparsers: Subparsers) -> None:
    """Add the `validate` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="check bundles and actors and report every problem",
        description="Validate bundle files (YAML, JSON, JSONL) and the actor registry.",
        exits=exit_status("valid", "invalid data"),
    )
    add_paths(parser, "check")
    add_report_format(parser, "report format (default: text)")
    parser.add_argument(
        "--strict", action="store_true", help="fail (exit 1) on warnings as well as errors"
    )
    add_quiet(
        parser,
        "print nothing when the data passes (and draw no progress bar); report as usual "
        "when it fails",
    )
    add_no_cache(parser)
    add_engine(parser)
    add_output_file(parser, "--output", "the report")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help=(
            "write where the run spent its time and memory, stage by stage, to FILE (JSON: "
            "each stage's seconds, the process's peak memory when it ended and how much it "
            "raised it)"
        ),
    )
    parser.add_argument(
        "--changed-since",
        metavar="REF",
        help=(
            "validate everything but report only problems in files changed since the git "
            "ref REF and problems the change caused elsewhere (full report, with a note, "
            "when git or REF is missing)"
        ),
    )


def _check(paths: list[str]) -> Report:
    # Looked up at call time: keeps --help fast and lets tests replace toolkit.checker.validate.
    from toolkit import checker

    report: Report = checker.validate(paths)
    return report


def _profiled(paths: list[str], profile: str) -> Report:
    """A run whose stages' time and memory are written to `profile` as JSON."""
    from toolkit import checker

    with checker.run(paths) as done:
        stages = done.profile()
    peak = max((float(s["peak_mb"]) for s in stages), default=0.0)
    text = json.dumps({"peak_mb": peak, "stages": stages}, indent=2) + "\n"
    write_atomic(profile, text)
    return done.report


def run(args: argparse.Namespace) -> int:
    """Validate, render in the chosen format, deliver, and turn the verdict into an exit code."""
    with run_options(args), _collector_paused():
        if args.profile is not None:
            report = _profiled(list(args.paths), args.profile)
        else:
            report = _check(list(args.paths))
        if args.changed_since is not None:
            from toolkit.changes import restrict_to_changes

            report = restrict_to_changes(report, list(args.paths), args.changed_since, _check)
    passed = report.passes(strict=args.strict)
    if args.output is not None:
        write_atomic(args.output, render(report, args.format, source=FileLines()))
    elif not (args.quiet and passed):
        print_report(report, args.format)
    return verdict(passed)
