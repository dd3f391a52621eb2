"""`factkit codebook`: write the Markdown codebook generated from the schemas and vocabularies.

`make docs` runs it with `--out docs/codebook.md`; without `--out` it prints to stdout.
The Example column comes from the dataset in `--data` (default `data`, when it exists).
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
            "Generate the codebook from the schemas and vocabularies: every exported "
            "table and column with its type, meaning and an example from the dataset, every "
            "vocabulary code, and the file formats."
        ),
        exits=exit_status("written"),
    )
    add_output_file(parser, "--out", "the codebook")
    parser.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="the dataset whose first values fill the Example column (default: data, if it "
        "exists; without it, the schema's examples)",
    )


def run(args: argparse.Namespace) -> int:
    """Render the codebook and deliver it."""
    from toolkit.export.codebook import dataset_examples, render
    from toolkit.model.model import load_model

    data = args.data if args.data is not None else ("data" if Path("data").is_dir() else None)
    examples = dataset_examples([data]) if data is not None else None
    deliver(render(load_model(), examples), args.out)
    return EXIT_OK
