"""`factkit export`: validate, then write typed tables (Parquet, CSV + datapackage.json).

Exit 0 when the export was written, 1 when the data has errors (nothing is
written and the report is printed as `validate` prints it), 2 for usage or
internal errors (left to `main`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from toolkit.cli import EXIT_INVALID, EXIT_OK, Subparsers, emit, print_report
from toolkit.cli.options import (
    add_command,
    add_engine,
    add_no_cache,
    add_paths,
    add_quiet,
    add_report_format,
    exit_status,
    run_options,
)

if TYPE_CHECKING:
    from toolkit.export import ExportResult

NAME = "export"
DEFAULT_OUT = "dist"
DEFAULT_FORMATS = ["parquet", "csv"]


def _formats(value: str) -> list[str]:
    """Comma-separated format names; `toolkit.export` decides which exist (exit 2 if not)."""
    return [v for v in value.split(",") if v.strip()]


def register(subparsers: Subparsers) -> None:
    """Add the `export` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="validate, then write the data as typed tables (Parquet, CSV, SQLite)",
        description=(
            "Validate bundles and actors and, when there are no errors, write one file per "
            "table and format into DIR, replacing the previous export as a whole. Nothing is "
            "written when the data has errors."
        ),
        exits=exit_status("written", "invalid data"),
    )
    add_paths(parser, "export")
    parser.add_argument(
        "--out", default=DEFAULT_OUT, metavar="DIR", help="output folder (default: dist)"
    )
    parser.add_argument(
        "--format",
        dest="formats",
        type=_formats,
        default=DEFAULT_FORMATS,
        metavar="FORMATS",
        help="comma-separated output formats: parquet, csv, sqlite (a SQLite database with "
        "full-text search and Datasette metadata) (default: parquet,csv)",
    )
    parser.add_argument(
        "--layout",
        choices=["files", "partitioned"],
        default="files",
        help="files: one file per table (default); partitioned: each fact table and its "
        "part tables as a hive-partitioned dataset by the source's publication year "
        "(TABLE/published_year=YYYY/…), for exports too large for one file",
    )
    parser.add_argument(
        "--formula-safe",
        action="store_true",
        help="prefix ' to CSV text cells starting with = + - @ TAB or CR (also full-width "
        "and other forms of = + - @, and after leading blanks), against spreadsheet formula "
        "injection (changes those values; Parquet is never changed)",
    )
    parser.add_argument(
        "--include-unreviewed",
        action="store_true",
        help="also export machine-extracted facts nobody has reviewed yet (the review column "
        "marks them); rejected facts are never exported",
    )
    add_quiet(
        parser,
        "no progress bar and no summary when the export is written; the report of a "
        "failed validation is printed as usual",
    )
    add_no_cache(parser)
    add_engine(parser)
    add_report_format(
        parser,
        "format of the validation report (default: text); with json or github the "
        "summary goes to stderr so stdout stays machine-readable",
        flag="--format-report",
    )


def summary(result: ExportResult) -> str:
    """A few lines: where the export went and how many rows each table has."""
    width = max((len(name) for name in result.tables), default=0)
    layout = ", fact tables partitioned by year" if result.layout == "partitioned" else ""
    lines = [
        f"exported {len(result.tables)} tables ({', '.join(result.formats)}{layout}) "
        f"to {os.fspath(result.out)}"
    ]
    lines += [f"  {name:<{width}}  {rows:>7}" for name, rows in result.tables.items()]
    if result.left_out:
        lines.append("left out of this release:")
        lines += [
            f"  {name:<{width}}  {rows:>7}  {reason}"
            for name, reasons in result.left_out.items()
            for reason, rows in reasons.items()
        ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Export, print the report when it has something to say, then the summary."""
    from toolkit.export import export

    with run_options(args):
        result = export(
            list(args.paths),
            args.out,
            formats=args.formats,
            formula_safe=args.formula_safe,
            include_unreviewed=args.include_unreviewed,
            layout=args.layout,
        )
    report = result.report
    if not result.written or report.problems:
        print_report(report, args.format_report)
    if not result.written:
        return EXIT_INVALID
    if not args.quiet:
        emit(summary(result), sys.stdout if args.format_report == "text" else sys.stderr)
    return EXIT_OK
