"""Rewrite format-1 bundles as format 2, in place, changing nothing else.

YAML goes through ruamel.yaml's round-trip mode, which keeps comments, key order and
quoting; JSON and JSONL keep key order and their layout (indent, separators). The
values a conversion builds are written in flow style (`speakers: [jane-doe]`), so a
converted field keeps its one line and the lines below move only by the marker line
(an agreement's `place` block folded into its signature action is the exception).

A file factkit's own reader refuses (a parse or limits error: duplicate keys, tags,
bad bytes) is left alone and reported: converting what the reader would reject could
hide the problem. A file that is already format 2 is not rewritten at all.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from toolkit.parsers import parse_bytes
from toolkit.parsers.base import Limits

FORMAT = 2
Outcome = Literal["upgraded", "current", "skipped"]


@dataclass(frozen=True, slots=True)
class FileUpgrade:
    path: Path
    outcome: Outcome
    reason: str = ""  # why a file was skipped
    text: bytes | None = None  # the upgraded bytes (None unless upgraded)


# --- the conversion, on any mapping (plain dicts from JSON, ruamel's from YAML) ---------


class _Style:
    """Builds flow-style lists and mappings of the document's own kind."""

    def __init__(self, round_trip: bool) -> None:
        self.round_trip = round_trip

    def seq(self, items: list[Any]) -> Any:
        if not self.round_trip:
            return items
        seq = CommentedSeq(items)
        seq.fa.set_flow_style()
        return seq

    def map(self, pairs: list[tuple[str, Any]]) -> Any:
        if not self.round_trip:
            return dict(pairs)
        mapping = CommentedMap(pairs)
        mapping.fa.set_flow_style()
        return mapping


def _replace(record: MutableMapping[str, Any], old: str, new: str, value: Any) -> None:
    """Put `new: value` where `old` was, keeping the key's position and its comment."""
    keys = list(record)
    at = keys.index(old)
    if isinstance(record, CommentedMap):
        comment = record.ca.items.pop(old, None)
        del record[old]
        record.insert(at, new, value)
        if comment is not None:
            record.ca.items[new] = comment
        return
    items = list(record.items())
    items[at] = (new, value)
    record.clear()
    record.update(items)


def _drop(record: MutableMapping[str, Any], key: str) -> None:
    if isinstance(record, CommentedMap):
        record.ca.items.pop(key, None)
    del record[key]


def _records(bundle: MutableMapping[str, Any], key: str) -> list[MutableMapping[str, Any]]:
    found = bundle.get(key)
    if not isinstance(found, list):
        return []
    return [r for r in found if isinstance(r, MutableMapping)]


def _listed(record: MutableMapping[str, Any], old: str, new: str, style: _Style) -> None:
    """`old: x` → `new: [x]` (a value that is already a list stays as it is)."""
    if old in record and not isinstance(record[old], list):
        _replace(record, old, new, style.seq([record[old]]))


def _agreement(record: MutableMapping[str, Any], style: _Style) -> None:
    provisions = record.get("provisions")
    if isinstance(provisions, list):
        for i, code in enumerate(provisions):
            if not isinstance(code, MutableMapping):
                provisions[i] = style.map([("code", code)])
    moved = [k for k in ("signed_on", "place", "in_force_on") if k in record]
    if not moved:
        return
    actions: list[Any] = []
    if "signed_on" in record or "place" in record:
        signature: list[tuple[str, Any]] = [("action", "signature")]
        if "signed_on" in record:
            signature.append(("date", record["signed_on"]))
        if "place" in record:
            place = record["place"]
            if isinstance(place, CommentedMap):
                place.fa.set_flow_style()
            signature.append(("place", place))
        actions.append(style.map(signature))
    if "in_force_on" in record:
        actions.append(style.map([("action", "entry_into_force"), ("date", record["in_force_on"])]))
    _replace(record, moved[0], "actions", style.seq(actions))
    for key in moved[1:]:
        _drop(record, key)


def upgrade_bundle(bundle: MutableMapping[str, Any], style: _Style | None = None) -> bool:
    """Convert one format-1 bundle in place; False when it is already format 2."""
    if "format" in bundle:
        return False
    style = style or _Style(isinstance(bundle, CommentedMap))
    at = 1 if list(bundle)[:1] == ["$schema"] else 0
    if isinstance(bundle, CommentedMap):
        bundle.insert(at, "format", FORMAT)
    else:
        items = list(bundle.items())
        items.insert(at, ("format", FORMAT))
        bundle.clear()
        bundle.update(items)
    for statement in _records(bundle, "statements"):
        _listed(statement, "speaker", "speakers", style)
    for key in ("supplies", "alignments", "events"):
        for fact in _records(bundle, key):
            _listed(fact, "asserted_by", "asserted_by", style)
    for agreement in _records(bundle, "agreements"):
        _agreement(agreement, style)
    return True


# --- files --------------------------------------------------------------------------------


class _NoTimestamps(VersionedResolver):
    """ruamel's resolver without timestamps: an unquoted 2023-02-30 stays the text it is
    (factkit reads every scalar as text and reports the bad date as S108)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        tag = super().resolve(kind, value, implicit)
        return Tag(suffix="tag:yaml.org,2002:str") if str(tag).endswith(":timestamp") else tag


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.Resolver = _NoTimestamps
    yaml.preserve_quotes = True
    yaml.width = 1 << 20  # never re-wrap a long line
    yaml.brace_single_entry_mapping_in_flow_sequence = True  # [{code: a}], not [code: a]
    return yaml


def _indents(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indents of a YAML text, from its first nested list."""
    lines = text.splitlines()
    for above, line in pairwise(lines):
        key = re.match(r"^( *)[^\s#-][^:]*:\s*$", above)
        dash = re.match(r"^( *)- ", line)
        if key and dash:
            offset = len(dash.group(1)) - len(key.group(1))
            return 2, offset + 2, offset
    return 2, 4, 2


def _upgrade_yaml(text: str) -> str | None:
    yaml = _yaml()
    mapping, sequence, offset = _indents(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    value = yaml.load(text)
    if not isinstance(value, CommentedMap) or not upgrade_bundle(value):
        return None
    out = io.StringIO()
    yaml.dump(value, out)
    return out.getvalue()


def _json_indent(text: str) -> int | None:
    found = re.match(r"\{\s*\n( +)\"", text)
    return len(found.group(1)) if found else None


def _upgrade_json(text: str) -> str | None:
    value = json.loads(text)
    if not isinstance(value, dict) or not upgrade_bundle(value):
        return None
    dumped = json.dumps(value, ensure_ascii=False, indent=_json_indent(text))
    return dumped + ("\n" if text.endswith("\n") else "")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _refuse(token: str) -> Any:
    raise ValueError(f"'{token}' is not a JSON number")


def _upgrade_jsonl(text: str) -> str | None:
    """Line by line: a line factkit would refuse (broken, duplicate keys, NaN) stays as
    it is, and is reported by `validate` as before."""
    changed = False
    left = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_refuse)
        except ValueError:
            left += 1
            continue
        compact = ": " not in line and ", " not in line
        if isinstance(value, dict) and upgrade_bundle(value):
            separators = (",", ":") if compact else (", ", ": ")
            lines[i] = json.dumps(value, ensure_ascii=False, separators=separators)
            changed = True
    if left and not changed:
        raise ValueError(f"none of its lines can be read ({left} refused)")
    return "\n".join(lines) if changed else None


_BY_SUFFIX: dict[str, Callable[[str], str | None]] = {
    ".yaml": _upgrade_yaml,
    ".yml": _upgrade_yaml,
    ".json": _upgrade_json,
    ".jsonl": _upgrade_jsonl,
}


def upgrade_bytes(data: bytes, path: Path, limits: Limits | None = None) -> FileUpgrade:
    """What upgrading one bundle file would give, without writing it."""
    convert = _BY_SUFFIX.get(path.suffix.lower())
    if convert is None:
        return FileUpgrade(path, "skipped", "not a bundle file (.yaml, .yml, .json, .jsonl)")
    lines = path.suffix.lower() == ".jsonl"  # broken lines are left alone, line by line
    parsed = parse_bytes(data, path, path.name, "bundle", limits or Limits(), None)
    refused = [
        p
        for p in parsed.problems
        if p.severity == "error" and not (lines and p.code in ("P010", "P011", "P017", "P018"))
    ]
    if refused:
        first = refused[0]
        return FileUpgrade(path, "skipped", f"line {first.line}: {first.message} [{first.code}]")
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data[3 if bom else 0 :].decode("utf-8")
    crlf = "\r\n" in text
    try:
        converted = convert(text.replace("\r\n", "\n") if crlf else text)
    except (ValueError, TypeError, KeyError) as exc:  # the reader took it; keep it safe
        return FileUpgrade(path, "skipped", f"cannot convert: {exc}")
    except Exception as exc:  # ruamel's own errors share no base class worth naming
        return FileUpgrade(path, "skipped", f"cannot convert: {type(exc).__name__}")
    if converted is None:
        return FileUpgrade(path, "current")
    if crlf:
        converted = converted.replace("\n", "\r\n")
    return FileUpgrade(
        path, "upgraded", text=(b"\xef\xbb\xbf" if bom else b"") + converted.encode()
    )


def upgrade_paths(paths: Sequence[Path]) -> list[FileUpgrade]:
    """What upgrading each bundle file would give (the caller writes `text` back)."""
    return [upgrade_bytes(path.read_bytes(), path) for path in paths]
