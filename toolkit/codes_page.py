"""The table of problem codes in docs/codes.md, generated from the catalogue in toolkit/codes.py.

The page's prose is written by hand; only the block between the markers is generated, so the
table cannot drift from the codes a run reports. `make docs` runs
`python -m toolkit.codes_page docs/codes.md`; tests/test_docs.py fails when the committed page
is stale.
"""

from __future__ import annotations

import argparse
import string
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from toolkit.codes import CODES, CodeSpec

START = "<!-- codes:start -->"
END = "<!-- codes:end -->"


def _cell(text: str) -> str:
    """A template as a table cell: each `{param}` shown as ‹param›, pipes escaped."""
    parts = []
    for literal, field, _spec, _conv in string.Formatter().parse(text):
        parts.append(literal)
        if field is not None:
            parts.append(f"‹{field}›")
    return "".join(parts).replace("|", "\\|")


def render_table(specs: Iterable[CodeSpec] | None = None) -> str:
    """One row per code in catalogue order, with a heading row where the family changes."""
    lines = ["| code | rule | severity | message |", "|---|---|---|---|"]
    family = None
    for spec in CODES.values() if specs is None else specs:
        if spec.family != family:
            family = spec.family
            lines.append(f"| | **{family}** | | |")
        lines.append(
            f"| `{spec.code}` | `{spec.name}` | {spec.severity} | {_cell(spec.template)} |"
        )
    return "\n".join(lines)


def update(page: str) -> str:
    """The page with the block between the markers replaced by the current table."""
    head, start, rest = page.partition(START)
    _old, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the page has no {START} … {END} block")
    return f"{head}{START}\n{render_table()}\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the page in place (exit 0), or with --check report whether it is stale (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m toolkit.codes_page", description=__doc__)
    parser.add_argument("page", type=Path, help="the Markdown page holding the markers")
    parser.add_argument("--check", action="store_true", help="only report a stale page")
    args = parser.parse_args(argv)
    try:
        text = args.page.read_text(encoding="utf-8")
        current = update(text)
    except (OSError, ValueError) as exc:
        print(f"codes_page: {exc}", file=sys.stderr)
        return 2
    if current == text:
        return 0
    if args.check:
        print(f"{args.page} is stale: run `make docs`", file=sys.stderr)
        return 1
    args.page.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
