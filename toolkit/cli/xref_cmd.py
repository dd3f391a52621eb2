"""`factkit xref`: propose pairs of records that may be the same thing, and review them.

Without options it prints the best candidates; `--out FILE` writes them all as JSONL;
`--review` asks, pair by pair on the terminal (or any stdin), whether they are the same,
and appends each answer at once to `judgements/<who>.jsonl` in the data folder.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson
import polars as pl

from toolkit.cli import EXIT_INVALID, EXIT_OK, Subparsers, emit, write_atomic
from toolkit.cli.options import add_command, add_engine, add_quiet, engine_options, exit_status
from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.checker import Run

NAME = "xref"
ANSWERS = {
    "s": "same",
    "same": "same",
    "d": "different",
    "different": "different",
    "u": "unsure",
    "unsure": "unsure",
    "k": "skip",
    "skip": "skip",
    "": "skip",
    "q": "quit",
    "quit": "quit",
}


def register(subparsers: Subparsers) -> None:
    """Add the `xref` subcommand and its options."""
    parser = add_command(
        subparsers,
        NAME,
        help="propose records of different sources that may be the same; review them",
        description=(
            "Find agreements, events, supplies and actors that different sources may report "
            "twice (blocked, then scored on names, parties, dates and places), skipping pairs "
            "already joined or judged. Print them, write them with --out, or judge them with "
            "--review; judgements are stored in DATA/judgements/ and validated with the data."
        ),
        exits=exit_status("done", "the data has errors"),
    )
    parser.add_argument(
        "data", nargs="?", default="data", metavar="DATA", help="the data folder (default: data)"
    )
    parser.add_argument("--out", metavar="FILE", help="write every candidate as a JSON line")
    parser.add_argument("--review", action="store_true", help="judge the candidates one by one")
    parser.add_argument(
        "--by", metavar="NAME", help="who judges (default: the login name); names the file"
    )
    parser.add_argument(
        "--min-score", type=float, default=None, metavar="S", help="lowest score proposed (0.6)"
    )
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="candidates printed (default 20)"
    )
    add_quiet(parser, "print nothing but errors")
    add_engine(parser)


def run(args: argparse.Namespace) -> int:
    """Validate the data folder, find the candidates, then print, write or review them."""
    from toolkit import checker

    data = Path(args.data)
    if not data.is_dir():
        raise UsageError(f"{args.data}: not a data folder")
    with engine_options(args):
        found = checker.run([args.data])
    with found:  # its staged parts go when the command is done, not at garbage collection
        return _act(args, found, data)


def _act(args: argparse.Namespace, found: Run, data: Path) -> int:
    """Print, write or review the candidates of a validated run (still open)."""
    from toolkit.resolve.candidates import MIN_SCORE, candidates

    if not found.report.ok:
        emit(
            f"{args.data}: the data has {found.report.errors} errors; "
            "run 'factkit validate' and fix them first\n",
            sys.stderr,
        )
        return EXIT_INVALID
    minimum = MIN_SCORE if args.min_score is None else args.min_score
    pairs = candidates(found.model, dict(found.frames.tables), min_score=minimum)
    if args.out:
        lines = [orjson.dumps(row).decode() + "\n" for row in pairs.iter_rows(named=True)]
        write_atomic(args.out, "".join(lines))
    if args.review:
        by = args.by or getpass.getuser()
        return _review(found, pairs, data, by, sys.stdin, sys.stdout)
    if not args.quiet:
        emit(_listing(pairs, args.limit))
    return EXIT_OK


def _listing(pairs: pl.DataFrame, limit: int) -> str:
    if pairs.is_empty():
        return "no candidates: every likely pair is already joined or judged\n"
    rows = [
        f"{r['score']:.3f}  {r['table']:<11} {r['left']}  ~  {r['right']}"
        for r in pairs.head(limit).iter_rows(named=True)
    ]
    more = (
        f"\n… and {pairs.height - limit} more (--out FILE writes all)"
        if pairs.height > limit
        else ""
    )
    return f"{pairs.height} candidates, best first:\n" + "\n".join(rows) + more + "\n"


def _describe(found: Any, record: str) -> list[str]:
    """A record's fields worth seeing, its evidence and where it is."""
    from toolkit.resolve.kinds import active

    for kind in active(found.model, found.frames.tables):
        frame = found.frames.tables[kind.table].filter(pl.col("id") == record)
        if frame.is_empty():
            continue
        row = frame.row(0, named=True)
        doc = found.frames.documents[row["_doc"]]
        line = doc.locate(row["_ptr"])[0]
        shown = [*kind.names, *kind.parties, kind.date or "", *kind.compared, "evidence"]
        fields = [
            f"{name}: {_text(row[name])}"
            for name in dict.fromkeys(shown)
            if name in row and row[name] not in (None, [])
        ]
        return [f"{record}  ({doc.file}:{line})", *fields]
    return [record]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def _review(
    found: Any, pairs: pl.DataFrame, data: Path, by: str, stdin: TextIO, stdout: TextIO
) -> int:
    """Ask about each pair; append each answer to the reviewer's judgements file at once."""
    from toolkit.resolve.judgements import Judgement, append_judgements, file_for, now

    target = file_for(data, by)
    total, counts = pairs.height, {"same": 0, "different": 0, "unsure": 0}
    session = _Session()
    for number, pair in enumerate(pairs.iter_rows(named=True), start=1):
        if session.decided(pair["left"], pair["right"]):
            continue  # an answer in this session already settled it
        features = ", ".join(
            f"{f} {pair[f]:.2f}"
            for f in ("name", "parties", "date", "place")
            if pair[f] is not None
        )
        left = _describe(found, pair["left"])
        right = _describe(found, pair["right"])
        stdout.write(
            f"\n[{number}/{total}] {pair['table']}  score {pair['score']:.3f} ({features})\n"
            + "  A "
            + "\n    ".join(left)
            + "\n"
            + "  B "
            + "\n    ".join(right)
            + "\n"
            + "same, different, unsure, skip or quit? [s/d/u/k/q] "
        )
        stdout.flush()
        answer = None
        while answer is None:
            line = stdin.readline()
            if not line:  # end of input: stop as if asked to
                answer = "quit"
                break
            answer = ANSWERS.get(line.strip().lower())
            if answer is None:
                stdout.write("please answer s, d, u, k or q: ")
                stdout.flush()
        if answer == "quit":
            break
        if answer == "skip":
            continue
        counts[answer] += 1
        session.record(pair["left"], pair["right"], answer)
        append_judgements(
            target,
            [Judgement(pair["left"], pair["right"], answer, by, now(), score=pair["score"])],  # type: ignore[arg-type]
        )
    decided = sum(counts.values())
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    stdout.write(
        f"\n{decided} judgements written to {target}" + (f" ({summary})" if summary else "") + "\n"
        if decided
        else "\nno judgements written\n"
    )
    return EXIT_OK


class _Session:
    """What the answers given so far settle: pairs joined by 'same' answers, and pairs of
    those groups answered 'different' or 'unsure', so no pair is asked twice in effect."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.apart: set[tuple[str, str]] = set()

    def find(self, record: str) -> str:
        root = record
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        self.parent[record] = root
        return root

    def decided(self, left: str, right: str) -> bool:
        a, b = sorted((self.find(left), self.find(right)))
        return a == b or (a, b) in self.apart

    def record(self, left: str, right: str, answer: str) -> None:
        a, b = sorted((self.find(left), self.find(right)))
        if answer != "same":
            self.apart.add((a, b))
            return
        self.parent[b] = a
        self.apart = {tuple(sorted((self.find(x), self.find(y)))) for x, y in self.apart}  # type: ignore[misc]
