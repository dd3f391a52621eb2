"""`factkit codebook`: write the Markdown codebook generated from the schemas and vocabularies.

`make docs` runs it with `--out docs/codebook.md`; without `--out` it prints to stdout.
"""

from __future__ import annotations

import argparse

from toolkit.cli import EXIT_OK, Subparsers, deliver
from toolkit.cli.options import add_command, add_output_file, exit_status

NAME = "codebook"


def register(subparsers: Subparsers) -> None:
    """Add the `codebook` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="print or write the codebook (tables, columns, vocabularies) as Markdown",
        description=(
            "Generate the codebook from the schemas and vocabularies alone: every exported "
            "table and column with its type and meaning, every vocabulary code, and the file "
            "formats."
        ),
        exits=exit_status("written"),
    )
    add_output_file(parser, "--out", "the codebook")


def run(args: argparse.Namespace) -> int:
    """Render the codebook and deliver it."""
    from toolkit.export.codebook import render
    from toolkit.model.model import load_model

    deliver(render(load_model()), args.out)
    return EXIT_OK
