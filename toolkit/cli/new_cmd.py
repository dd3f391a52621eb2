"""`factkit new`: write a bundle skeleton for one source, valid before anything is added.

A first-time contributor should start from a file that already passes, so every
later problem is one they just typed. The skeleton has the schema pointer (the
`$schema` key and the yaml-language-server modeline, so editors validate while
typing), the source and extraction blocks filled from the options, and each fact
section empty with a commented example to copy. The options are checked against
the bundle schema's own patterns first: a bad id or date is a usage error here,
not a file that fails later. An existing file is never replaced without --force.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from toolkit.cli import EXIT_OK, Subparsers, emit, os_errors, write_atomic
from toolkit.cli.options import add_command, exit_status
from toolkit.errors import UsageError

NAME = "new"
METHODS = ("manual", "model", "assisted")

# Commented examples under each empty section; YYYY-MM-DD becomes the publication date so
# an uncommented example is not dated after its source. Actors are ISO codes, which
# resolve in every dataset, except the grouping, which must be a registry actor.
EXAMPLES = """\
# Who said what. To add a fact, replace '[]' by a copy of the example below without
# its leading '# ', then fill it in; the other sections work the same way.
statements: []
# - id: st-1                          # unique among all facts of this bundle
#   speakers: [USA]                   # actor ids from data/actors/ or ISO 3166-1 alpha-3 codes
#   mode: paraphrase                  # direct_quote, partial_quote or paraphrase
#   text: The words as the source gives them.
#   said_on: "YYYY-MM-DD"             # leave out any date the source does not give
#   said_on_basis: stated             # stated, dateline or relative (then said_on_words)
#   topics: [diplomacy]               # codes from schemas/vocabularies/statement_topics.yaml
#   evidence: The sentence of the article this fact rests on.

# Agreements, their parties and the steps of their life (signature, ratification, ...).
agreements: []
# - id: ag-1
#   title: Agreement on defence cooperation
#   kind: treaty                      # schemas/vocabularies/agreement_kinds.yaml
#   status: signed                    # agreement_statuses; leave out when the source gives none
#   parties:
#     - actor: USA
#       role: party                   # party, signatory, guarantor or observer
#     - actor: UKR
#       role: party
#   actions:                          # schemas/vocabularies/agreement_actions.yaml
#     - {action: signature, date: "YYYY-MM-DD", place: {name: Kyiv, country: UKR}}
#   provisions:                       # schemas/vocabularies/agreement_provisions.yaml
#     - {code: defense, article: "4"}

# Supplies of goods between actors, affirmed or denied.
supplies: []
# - id: sp-1
#   supplier: USA
#   recipient: UKR
#   items:
#     - category: ammunition          # schemas/vocabularies/supply_categories.yaml
#       description: 155 mm shells
#       quantity: {value: 1000, approximate: true}
#   polarity: affirmed                # affirmed or denied
#   status: reported                  # reported, planned, ordered or delivered
#   asserted_by: [st-1]               # the statements that report it, if any
#   # sourcing: alleged               # alleged or disputed, only where the source says so

# Personnel sent from one state to another.
deployments: []
# - id: dp-1
#   sender: USA
#   host: UKR
#   personnel: military_instructors   # schemas/vocabularies/personnel_kinds.yaml
#   size: {value: 100, approximate: true}
#   polarity: affirmed                # affirmed or denied
#   status: reported                  # reported, planned, deployed or withdrawn

# Coalitions and groupings with their members.
alignments: []
# - id: al-1
#   grouping: ukraine-defense-contact-group   # a grouping actor from data/actors/
#   members:
#     - {actor: USA, degree: full}    # full or partial
#     - {actor: UKR, degree: full}
#   size: {value: 50, approximate: true}

# Meetings, visits, summits, signings, votes, accusations and denials.
events: []
# - id: ev-1
#   kind: meeting                     # schemas/vocabularies/event_kinds.yaml
#   date: "YYYY-MM-DD"
#   place: {name: Kyiv, country: UKR}
#   participants: [USA, UKR]
#   about: [ag-1]                     # the facts the event concerns, if any

# Answers to a fact: confirmed, denied, neither_confirmed_nor_denied, ...
responses: []
# - id: rs-1
#   to: sp-1                          # the fact answered (any bundle: '<source id>/sp-1')
#   by: [UKR]                         # or by_group: the group in the source's words
#   response: neither_confirmed_nor_denied
"""


def register(subparsers: Subparsers) -> None:
    """Add the `new` subcommand."""
    parser = add_command(
        subparsers,
        NAME,
        help="write a new, valid bundle skeleton for one source",
        description=(
            "Write DATA/sources/<year>/<id>.yaml for one source: schema pointer, source and "
            "extraction filled in, empty fact sections with commented examples. The file "
            "validates as written. An existing file is kept unless --force is given."
        ),
        exits=exit_status("written"),
    )
    parser.add_argument(
        "--id",
        required=True,
        dest="source_id",
        metavar="SOURCE_ID",
        help="source id, lower-case words joined by hyphens",
    )
    parser.add_argument(
        "--outlet", required=True, metavar="NAME", help="the outlet that published the document"
    )
    parser.add_argument(
        "--published",
        required=True,
        metavar="YYYY-MM-DD",
        help="publication date (YYYY-MM or YYYY when that is all that is known)",
    )
    parser.add_argument(
        "--language",
        default="en",
        metavar="CODE",
        help="ISO 639-1 language of the document as extracted (default: en)",
    )
    parser.add_argument("--url", metavar="URL", help="where the document was published")
    parser.add_argument("--title", metavar="TEXT", help="the headline")
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="manual",
        help="how the facts are extracted (default: manual)",
    )
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="the model and version used (required unless --method manual)",
    )
    parser.add_argument(
        "--by", metavar="NAME", help="who extracts (default: git user.name, else the login name)"
    )
    parser.add_argument(
        "--extracted-on", metavar="YYYY-MM-DD", help="date of the extraction (default: today)"
    )
    parser.add_argument(
        "--data", default="data", metavar="DIR", help="the data folder (default: data)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")


def _bundle_schema() -> dict[str, Any]:
    from toolkit.model.model import load_model

    return load_model().bundle_schema


def _field(schema: dict[str, Any], *path: str) -> dict[str, Any]:
    """The resolved schema node at `path` of the bundle schema's properties."""
    from toolkit.model.schemas import resolve

    node: dict[str, Any] = schema
    for key in path:
        node = resolve(schema, node["properties"][key])
    return node


def _check(value: str, node: dict[str, Any], option: str, what: str) -> str:
    if not value.isprintable() or not value.strip():
        raise UsageError(f"{option}: must be one line of visible text")
    pattern = node.get("pattern")
    if isinstance(pattern, str) and not re.search(pattern, value):
        raise UsageError(f"{option}: {value!r} is not {what}")
    limit = node.get("maxLength")
    if isinstance(limit, int) and len(value) > limit:
        raise UsageError(f"{option}: longer than {limit} characters")
    return value


def _date(value: str, node: dict[str, Any], option: str) -> str:
    _check(value, node, option, "a date (YYYY-MM-DD, YYYY-MM or YYYY)")
    padded = value + "-01-01"[len(value) - 4 :] if len(value) < 10 else value
    try:
        dt.date.fromisoformat(padded)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not a date on the calendar") from None
    return value


def _default_by() -> str:
    """git's user.name when git knows one (the name on the contributor's commits)."""
    exe = shutil.which("git")
    if exe is not None:
        try:
            proc = subprocess.run(
                [exe, "config", "user.name"],
                capture_output=True,
                text=True,
                check=False,
                stdin=subprocess.DEVNULL,
            )
            if proc.returncode == 0 and proc.stdout.strip():
                return proc.stdout.strip()
        except OSError:
            pass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is a subset of it)."""
    return json.dumps(value, ensure_ascii=False)


def schema_pointer(bundle_dir: Path, data: Path) -> str:
    """Relative path from the bundle's folder to the bundle schema editors should load.

    A `schemas/` folder beside the data folder wins (factkit's own repository, or a
    dataset repository that saved `factkit schema` there); else the installed copy.
    """
    from toolkit.model.schemas import BUNDLE_SCHEMA, schema_dir

    beside = data.resolve().parent / "schemas" / BUNDLE_SCHEMA
    target = beside if beside.is_file() else schema_dir() / BUNDLE_SCHEMA
    try:
        return Path(os.path.relpath(target, bundle_dir.resolve())).as_posix()
    except ValueError:  # another drive on Windows: no relative path exists
        return target.as_uri()


def scaffold(
    *,
    source_id: str,
    outlet: str,
    published: str,
    language: str,
    method: str,
    by: str,
    extracted_on: str,
    pointer: str,
    url: str | None = None,
    title: str | None = None,
    model: str | None = None,
) -> str:
    """The text of a new bundle; values are assumed checked (see `run`)."""
    lines = [
        f"$schema: {pointer}",
        f"# yaml-language-server: $schema={pointer}",
        "# Written by `factkit new`. Fill in what the source reports, delete the sections you",
        "# do not need, then run `make validate` (or `factkit validate data`).",
        "# Every field is described in docs/codebook.md.",
        "format: 2",
        "",
        "source:",
        f"  id: {source_id}",
    ]
    if title:
        lines.append(f"  title: {_quoted(title)}")
    lines += [f"  outlet: {_quoted(outlet)}", f'  published_on: "{published}"']
    if url:
        lines.append(f"  url: {_quoted(url)}")
    lines += [
        f"  language: {language}",
        f"  # text: ../../texts/{source_id}.txt   # plain-text copy of the article, for grounding",
        "",
        "extraction:",
        f"  method: {method}",
        f"  by: {_quoted(by)}",
    ]
    if model:
        lines.append(f"  model: {_quoted(model)}")
    lines += [f'  extracted_on: "{extracted_on}"', "  review: unreviewed", ""]
    return "\n".join(lines) + "\n" + EXAMPLES.replace("YYYY-MM-DD", published)


def run(args: argparse.Namespace) -> int:
    """Check the options, write the file (never over another unless --force), say where."""
    schema = _bundle_schema()
    source_id = _check(
        args.source_id,
        _field(schema, "source", "id"),
        "--id",
        "an id (lower-case words joined by hyphens)",
    )
    published = _date(args.published, _field(schema, "source", "published_on"), "--published")
    language = _check(
        args.language, _field(schema, "source", "language"), "--language", "an ISO 639-1 code"
    )
    url = None
    if args.url is not None:
        url = _check(args.url, _field(schema, "source", "url"), "--url", "an http(s) URL")
    title = None if args.title is None else _check(args.title, {}, "--title", "")
    outlet = _check(args.outlet, {}, "--outlet", "")
    if args.method != "manual" and not args.model:
        raise UsageError(f"--method {args.method} needs --model NAME (the model and its version)")
    model = None if args.model is None else _check(args.model, {}, "--model", "")
    by = _check(args.by if args.by is not None else _default_by(), {}, "--by", "")
    today = dt.date.today().isoformat()
    extracted_on = _date(
        args.extracted_on or today, _field(schema, "extraction", "extracted_on"), "--extracted-on"
    )
    data = Path(args.data)
    if not data.is_dir():
        raise UsageError(f"{args.data}: no such folder (pass the data folder with --data)")
    target = data / "sources" / published[:4] / f"{source_id}.yaml"
    if target.exists() and not args.force:
        raise UsageError(f"{target} already exists; pass --force to replace it")
    text = scaffold(
        source_id=source_id,
        outlet=outlet,
        published=published,
        language=language,
        method=args.method,
        by=by,
        extracted_on=extracted_on,
        url=url,
        title=title,
        model=model,
        pointer=schema_pointer(target.parent, data),
    )
    with os_errors(f"cannot create {target.parent}", UsageError):
        target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text)
    emit(f"wrote {target}\nnext: add the facts, then run `factkit validate {args.data}`\n")
    return EXIT_OK
