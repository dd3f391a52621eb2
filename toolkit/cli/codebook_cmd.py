"""`factkit codebook`: write the Markdown codebook generated from the schemas and vocabularies.

`make docs` runs it with `--out docs/codebook.md`; without `--out` it prints to stdout.
"""

from __future__ import annotations

import argparse

from toolkit.cli import EXIT_OK, Subparsers, emit, write_atomic

NAME = "codebook"


def register(subparsers: Subparsers) -> None:
    """Add the `codebook` subcommand and its options."""
    parser = subparsers.add_parser(
        NAME,
        help="print or write the codebook (tables, columns, vocabularies) as Markdown",
        description=(
            "Generate the codebook from the schemas and vocabularies alone: every exported "
            "table and column with its type and meaning, every vocabulary code, and the file "
            "formats. Exit status: 0 written, 2 usage or internal error."
        ),
    )
    parser.add_argument(
        "-o",
        "--out",
        metavar="FILE",
        help="write to FILE (replaced atomically) instead of stdout",
    )


def run(args: argparse.Namespace) -> int:
    """Render the codebook and deliver it."""
    from toolkit.export.codebook import render
    from toolkit.model.model import load_model

    text = render(load_model())
    if args.out is not None:
        write_atomic(args.out, text)
    else:
        emit(text)
    return EXIT_OK
