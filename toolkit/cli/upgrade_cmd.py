"""`factkit upgrade PATH…`: rewrite format-1 bundles as format 2, in place.

Each bundle file under the paths is converted (`toolkit.upgrade`) and replaced
atomically; `--check` only lists what would change. Files already in format 2 are
left byte-identical; files factkit cannot read are left alone and listed. Exit 0 when
nothing is left to do, 1 with `--check` when a file would change or when a file could
not be upgraded.
"""

from __future__ import annotations

import argparse

from toolkit.cli import EXIT_INVALID, EXIT_OK, Subparsers, emit, os_errors, write_atomic
from toolkit.cli.options import add_command, exit_status

NAME = "upgrade"


def register(subparsers: Subparsers) -> None:
    """Add the `upgrade` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="rewrite format-1 bundles as format 2, in place",
        description=(
            "Rewrite every format-1 bundle file under the paths as format 2, keeping comments, "
            "key order and quoting: adds 'format: 2', turns 'speaker' into 'speakers' and "
            "'asserted_by' into a list, provisions into objects, and an agreement's signed_on, "
            "place and in_force_on into actions."
        ),
        exits=exit_status(
            "nothing left to upgrade", "with --check: a file would change; or a file was skipped"
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to upgrade")
    parser.add_argument(
        "--check", action="store_true", help="list the files that would change; write nothing"
    )


def run(args: argparse.Namespace) -> int:
    """Upgrade (or with --check, list) each bundle file and say what became of it."""
    from toolkit.parsers import discover
    from toolkit.upgrade import upgrade_paths

    entries, _ = discover(args.paths)
    bundles = [e for e in entries if e.role == "bundle"]
    with os_errors("cannot read a bundle"):
        results = upgrade_paths([e.path for e in bundles])
    lines: list[str] = []
    counts = {"upgraded": 0, "current": 0, "skipped": 0}
    for entry, result in zip(bundles, results, strict=True):
        counts[result.outcome] += 1
        if result.outcome == "upgraded":
            if args.check:
                lines.append(f"would upgrade {entry.file}")
            else:
                write_atomic(entry.path, result.text or b"")
                lines.append(f"upgraded {entry.file}")
        elif result.outcome == "skipped":
            lines.append(f"skipped {entry.file}: {result.reason}")
    verb = "would upgrade" if args.check else "upgraded"
    lines.append(
        f"{verb} {counts['upgraded']}, already format 2: {counts['current']}, "
        f"skipped: {counts['skipped']}"
    )
    emit("\n".join(lines) + "\n")
    if counts["skipped"] or (args.check and counts["upgraded"]):
        return EXIT_INVALID
    return EXIT_OK
