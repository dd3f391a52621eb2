"""`factkit synth`: generate realistic machine-extracted bundles for benchmarks and tests.

Writes FILE.jsonl and, beside it, the actor registry and text copies it references, so
`factkit validate` and `factkit export` run on FILE's folder as on any dataset.
"""

from __future__ import annotations

import argparse
import sys

from toolkit.cli import EXIT_OK, Subparsers, emit
from toolkit.cli.options import add_command, add_quiet, exit_status
from toolkit.errors import UsageError

NAME = "synth"


def _count(value: str) -> int:
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return rate


def register(subparsers: Subparsers) -> None:
    """Add the `synth` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="generate synthetic machine-extracted bundles (for benchmarks and tests)",
        description=(
            "Write N facts as JSONL bundles (about ten facts per source, every fact kind, "
            "method: model, review: accepted) to FILE, and beside it the actor registry "
            "(actors/<name>.jsonl) and a text copy per source (texts/<name>/), so that "
            "FILE's folder validates and exports like any dataset. With --invalid-rate R, "
            "about R of the bundles get one known break each; the expected problems go to "
            "the hidden sidecar .<name>.expected.jsonl. The same arguments give the same "
            "bytes."
        ),
        exits=exit_status("written"),
    )
    parser.add_argument("--facts", type=_count, required=True, metavar="N", help="facts to write")
    parser.add_argument(
        "--out", required=True, metavar="FILE.jsonl", help="the bundle file to write"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (0)")
    parser.add_argument(
        "--invalid-rate",
        type=_rate,
        default=0.0,
        metavar="R",
        help="share of bundles to break in one known way each (default: 0)",
    )
    parser.add_argument(
        "--facts-per-file",
        type=_count,
        default=None,
        metavar="M",
        help="split the bundles into NAME-0001.jsonl, NAME-0002.jsonl, … of about M facts "
        "each instead of one FILE (a JSONL file may hold at most 1 GiB, about two "
        "million facts)",
    )
    add_quiet(parser, "no progress bar and no summary line")


def run(args: argparse.Namespace) -> int:
    """Generate the data and say where it went."""
    from pathlib import Path

    from toolkit.progress import for_terminal
    from toolkit.synth import synthesize

    out = Path(args.out)
    if out.suffix.lower() != ".jsonl":
        raise UsageError(f"{args.out}: the output must be a .jsonl file")
    if not out.parent.is_dir():
        raise UsageError(f"{out.parent}: no such folder")
    progress = for_terminal(sys.stderr, quiet=args.quiet)
    progress.begin("generating", args.facts)
    try:
        result = synthesize(
            out,
            args.facts,
            seed=args.seed,
            invalid_rate=args.invalid_rate,
            progress=lambda n: progress.advance(n, n),
            facts_per_file=args.facts_per_file,
        )
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    finally:
        progress.end()
    if not args.quiet:
        where = (
            str(result.path)
            if len(result.paths) < 2
            else f"{len(result.paths)} files {result.paths[0]} … {result.paths[-1].name}"
        )
        emit(
            f"wrote {result.facts} facts in {result.bundles} bundles to {where}, "
            f"{result.actors} actors, {result.breaks} injected breaks; "
            f"validate or export {result.folder}\n"
        )
    return EXIT_OK
