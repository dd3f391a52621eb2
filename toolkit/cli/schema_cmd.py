"""`factkit schema`: print a JSON Schema for editors; `factkit schema diff OLD NEW`: the gate.

`factkit schema` prints `schemas/bundle.schema.json` (`--actor`: the actor schema)
so a dataset repository can keep a copy editors validate against while typing.

`factkit schema diff OLD NEW` compares two versions of the schemas. Each side is a
folder that holds a `schemas/` folder (or is one), else a git ref whose `schemas/`
is read with `git archive` (a folder of that name wins over a ref). Exit 0 when
readers of the export are safe or the major version was raised, 1 on a breaking
change without it, 2 when a side cannot be read.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path

from toolkit.cli import EXIT_OK, Subparsers, emit, os_errors
from toolkit.cli.options import add_command, add_format, exit_status, verdict
from toolkit.errors import UsageError

NAME = "schema"


def register(subparsers: Subparsers) -> None:
    """Add `schema` and its `diff` action."""
    parser = add_command(
        subparsers,
        NAME,
        help="print the bundle JSON Schema, or compare two versions of the schemas",
        description=(
            "Print the bundle JSON Schema (for editors), or with 'diff' list every change "
            "between two versions of the schemas and fail on a change that breaks readers."
        ),
        exits=exit_status("printed, or no breaking change (diff)", "breaking change"),
    )
    parser.add_argument(
        "--actor", action="store_true", help="print the actor schema instead of the bundle's"
    )
    actions = parser.add_subparsers(dest="schema_action", metavar="ACTION")
    diff = add_command(
        actions,
        "diff",
        help="compare two versions of the schemas",
        description=(
            "List every change to tables, columns, types and vocabularies between OLD and NEW, "
            "each a folder (holding schemas/, or schemas/ itself) or a git ref."
        ),
        exits=exit_status(
            "no breaking change (or the major of x-schema-version was raised)",
            "breaking change",
            "a side cannot be read",
        ),
    )
    diff.add_argument("old", metavar="OLD", help="the base: a folder or a git ref")
    diff.add_argument("new", metavar="NEW", help="the proposal: a folder or a git ref")
    add_format(diff, ["text", "json"], "output format (default: text)")


def _print_schema(actor: bool) -> int:
    from toolkit.model.schemas import ACTOR_SCHEMA, BUNDLE_SCHEMA, schema_dir

    path = schema_dir() / (ACTOR_SCHEMA if actor else BUNDLE_SCHEMA)
    with os_errors(f"cannot read {path}"):
        text = path.read_text(encoding="utf-8")
    emit(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def _schemas_in_repo(root: Path) -> str:
    """Where factkit's schemas sit in the repository (POSIX, relative); 'schemas' if elsewhere."""
    from toolkit.model.schemas import schema_dir

    try:
        return Path(os.path.realpath(schema_dir())).relative_to(root).as_posix()
    except ValueError:
        return "schemas"


def side(spec: str, stack: ExitStack) -> Path:
    """The schemas folder `spec` names; a git ref is extracted into a folder `stack` removes."""
    from toolkit.changes import ChangesUnavailable, extract_tree, repo_root, resolve_ref
    from toolkit.model.schemas import BUNDLE_SCHEMA

    path = Path(spec)
    if path.is_dir():
        if (path / "schemas" / BUNDLE_SCHEMA).is_file():
            return path / "schemas"
        if (path / BUNDLE_SCHEMA).is_file():
            return path
        raise UsageError(f"{spec}: holds neither schemas/{BUNDLE_SCHEMA} nor {BUNDLE_SCHEMA}")
    try:
        root = repo_root(Path.cwd())
        commit = resolve_ref(root, spec)
    except ChangesUnavailable as exc:
        raise UsageError(f"{spec}: not a folder, and not a git ref ({exc})") from exc
    rel = _schemas_in_repo(root)
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="factkit-schema-")))
    try:
        extract_tree(root, commit, tmp, [rel])
    except ChangesUnavailable as exc:
        raise UsageError(f"{spec}: cannot read {rel}/ at that ref: {exc}") from exc
    return tmp / rel


def _diff(args: argparse.Namespace) -> int:
    from toolkit.model.diff import diff_folders, render_json, render_text

    with ExitStack() as stack:
        diff = diff_folders(side(args.old, stack), side(args.new, stack))
    render = render_json if args.format == "json" else render_text
    emit(render(diff, args.old, args.new))
    return verdict(diff.passes)


def run(args: argparse.Namespace) -> int:
    """Print a schema, or diff two versions and turn the verdict into an exit code."""
    if args.schema_action == "diff":
        return _diff(args)
    return _print_schema(args.actor)
