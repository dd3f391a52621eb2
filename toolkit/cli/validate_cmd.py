"""`factkit validate`: check bundles and actors, report every problem, exit 0 or 1.

Exit 0 when the data passes (with --strict, warnings fail too), 1 when it does
not; errors in the run itself are left to `main` (exit 2).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from toolkit.cli import (
    EXIT_INVALID,
    EXIT_OK,
    FileLines,
    Subparsers,
    emit,
    use_color,
    write_atomic,
)
from toolkit.reporters import REPORTERS, render
from toolkit.result import Report

NAME = "validate"
DEFAULT_PATHS = ["data"]


@contextmanager
def run_options(args: argparse.Namespace) -> Iterator[None]:
    """The parse cache (unless --no-cache) and, on a terminal without --quiet, a progress
    bar on stderr, for every run inside the block."""
    from toolkit import checker
    from toolkit.cache import ParseCache
    from toolkit.progress import for_terminal

    cache = None if getattr(args, "no_cache", False) else ParseCache()
    progress = for_terminal(sys.stderr, quiet=getattr(args, "quiet", False))
    try:
        with checker.options(cache=cache, progress=progress):
            yield
    finally:
        progress.end()


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
    parser = subparsers.add_parser(
        NAME,
        help="check bundles and actors and report every problem",
        description=(
            "Validate bundle files (YAML, JSON, JSONL) and the actor registry. "
            "Exit status: 0 valid, 1 invalid data, 2 usage or internal error."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        default=DEFAULT_PATHS,
        metavar="PATH",
        help="files or folders to check (default: data)",
    )
    parser.add_argument(
        "--format",
        choices=list(REPORTERS),
        default="text",
        help="report format (default: text)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail (exit 1) on warnings as well as errors"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing when the data passes (and draw no progress bar); report as usual "
        "when it fails",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="parse every YAML file again instead of reusing what .factkit-cache/ (next to "
        "the data folder) holds from earlier runs",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the report to FILE (replaced atomically) instead of stdout",
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


def run(args: argparse.Namespace) -> int:
    """Validate, render in the chosen format, deliver, and turn the verdict into an exit code."""
    with run_options(args), _collector_paused():
        report = _check(list(args.paths))
        if args.changed_since is not None:
            from toolkit.changes import restrict_to_changes

            report = restrict_to_changes(report, list(args.paths), args.changed_since, _check)
    passed = report.passes(strict=args.strict)
    source = FileLines()
    if args.output is not None:
        write_atomic(args.output, render(report, args.format, source=source))
    elif not (args.quiet and passed):
        color = args.format == "text" and use_color(sys.stdout)
        emit(render(report, args.format, source=source, color=color))
    return EXIT_OK if passed else EXIT_INVALID
