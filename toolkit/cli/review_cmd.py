"""`factkit review`: the facts a change adds, changes and removes, beside their evidence.

For a pull request of machine-extracted facts: the reviewer reads facts, each with its
review state and its evidence in the sentence of the text copy around it, instead of
YAML diffs. `--format markdown` is for a CI job summary (`make summary REVIEW=REF`).
"""

from __future__ import annotations

import argparse

from toolkit.cli import EXIT_OK, Subparsers, deliver
from toolkit.cli.options import add_command, add_format, add_output_file, add_paths, exit_status

NAME = "review"


def register(subparsers: Subparsers) -> None:
    """Add the `review` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="list the facts a change adds, changes and removes, with their evidence",
        description=(
            "Compare the facts under PATH with those at the merge base of REF and HEAD "
            "(committed, staged, unstaged and untracked changes count) and list each fact "
            "added, changed or removed with its fields, review state and evidence in the "
            "sentence of the text copy around it."
        ),
        exits=exit_status("written"),
    )
    add_paths(parser, "review")
    parser.add_argument(
        "--base", required=True, metavar="REF", help="the git ref to compare with (origin/main)"
    )
    add_format(parser, ("text", "markdown"), "output format (default: text)")
    add_output_file(parser, "--output", "the review")


def run(args: argparse.Namespace) -> int:
    """Compare, render, deliver; git or the ref missing is a usage error (exit 2)."""
    from toolkit.changes import ChangesUnavailable
    from toolkit.errors import UsageError
    from toolkit.reporters.review import render
    from toolkit.review import review_changes

    try:
        review = review_changes(list(args.paths), args.base)
    except ChangesUnavailable as exc:
        raise UsageError(f"review --base {args.base}: {exc}") from exc
    deliver(render(review, args.format), args.output)
    return EXIT_OK
