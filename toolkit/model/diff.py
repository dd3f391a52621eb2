"""What changed between two versions of the model, and whether readers of the export break.

The schemas are the single source of the exported tables, so a schema change is a
change to the Parquet files people have written code against. Every change to a
table, column, type or vocabulary is listed and classified for those *readers*:

breaking (a reader's code or assumptions can fail)
    a table or column removed or renamed; a column's type changed (any change of
    kind, vocabulary or reference: an Enum column becoming a String one is still
    a new type); a column that was always filled may now be null (required →
    optional); an enum value or vocabulary code removed; a closed vocabulary
    opened (values outside its list may appear); the primary key changed.
compatible
    a table, column, enum value or code added; a column that may be null is now
    always filled (optional → required); a vocabulary closed; wording changed;
    columns reordered (Parquet is read by name).
warning
    a vocabulary's codes changed without the right version bump, or the schema
    changed while `x-schema-version` did not.

Contributors see some changes the other way round: a new *required* field makes
every existing bundle without it invalid. Those entries stay classified for
readers, and their message says what contributors must do.

The gate (`SchemaDiff.passes`) fails on a breaking change unless the major part
of the bundle schema's `x-schema-version`, the dataset's version, was raised; it
covers the actor table too (the actor schema's own version is not consulted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from toolkit.model.model import Model, load_model_at
from toolkit.model.tables import Column, Table
from toolkit.model.vocab import Vocabulary

Severity = Literal["breaking", "compatible", "warning"]
SEVERITIES: tuple[Severity, ...] = ("breaking", "warning", "compatible")


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: what kind, where (`table.column`, a vocabulary), how bad, in words."""

    kind: str
    subject: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "severity": self.severity,
            "message": self.message,
        }


def _version(text: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.severity == "breaking"]

    @property
    def major_raised(self) -> bool:
        return _version(self.new_version)[:1] > _version(self.old_version)[:1]

    @property
    def passes(self) -> bool:
        """No breaking change, or the major version says readers must expect them."""
        return not self.breaking or self.major_raised

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.changes if c.severity == s) for s in SEVERITIES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "major_raised": self.major_raised,
            "passes": self.passes,
            "counts": self.counts(),
            "changes": [c.to_dict() for c in self.changes],
        }


class _Found(list[Change]):
    """The changes found so far; one short call per change keeps the rules readable."""

    def breaking(self, kind: str, subject: str, message: str) -> None:
        self.append(Change(kind, subject, "breaking", message))

    def compatible(self, kind: str, subject: str, message: str) -> None:
        self.append(Change(kind, subject, "compatible", message))

    def warning(self, kind: str, subject: str, message: str) -> None:
        self.append(Change(kind, subject, "warning", message))


def _contributors(col: Column) -> str:
    if col.path:
        return "; contributors: bundles without it no longer validate"
    return ""


def _names(values: list[str]) -> str:
    return ("values " if len(values) > 1 else "value ") + ", ".join(repr(v) for v in values)


def _column_changes(out: _Found, table: str, old: Column, new: Column) -> None:
    at = f"{table}.{new.name}"
    if old.kind != new.kind:
        out.breaking("column-type-changed", at, f"type changed from {old.kind} to {new.kind}")
    elif old.values != new.values:
        removed = [v for v in old.values if v not in new.values]
        added = [v for v in new.values if v not in old.values]
        if removed:
            out.breaking("value-removed", at, f"{_names(removed)} no longer allowed")
        if added:
            out.compatible("value-added", at, f"{_names(added)} now allowed")
        if not removed and not added:
            out.compatible("value-order-changed", at, "values reordered")
    if old.vocabulary != new.vocabulary:
        message = f"codes now come from vocabulary {new.vocabulary!r}, not {old.vocabulary!r}"
        out.breaking("column-vocabulary-changed", at, message)
    if old.ref != new.ref:
        message = f"now refers to {new.ref or 'nothing'} instead of {old.ref or 'nothing'}"
        out.breaking("column-reference-changed", at, message)
    if old.required and not new.required:
        out.breaking("column-nullable", at, "may now be null; readers that assume a value break")
    elif new.required and not old.required:
        out.compatible("column-required", at, "now always filled" + _contributors(new))
    if old.description != new.description:
        out.compatible("column-described", at, "description changed")


def _renames(removed: list[Column], added: list[Column]) -> list[tuple[Column, Column]]:
    """Pairs (old, new) that look like one column renamed: same type, values and description.

    A date's precision column (whose description names the date) follows its date.
    """
    pairs: list[tuple[Column, Column]] = []
    free = list(added)

    def signature(col: Column) -> tuple[object, ...]:
        return (col.kind, col.values, col.vocabulary, col.ref, col.description)

    for old in removed:
        match = next((new for new in free if signature(new) == signature(old)), None)
        if old.kind != "precision" and match is not None:
            pairs.append((old, match))
            free.remove(match)
    by_name = {c.name: c for c in removed}
    for old, new in list(pairs):
        before = by_name.get(f"{old.name}_precision")
        after = next((c for c in free if c.name == f"{new.name}_precision"), None)
        if before is not None and after is not None:
            pairs.append((before, after))
            free.remove(after)
    return pairs


def _table_changes(out: _Found, old: Table, new: Table) -> None:
    name = new.name
    if old.kind != new.kind or old.parent != new.parent:
        under = f" under {new.parent}" if new.parent else ""
        out.breaking("table-changed", name, f"now a {new.kind} table{under}")
    if old.primary_key != new.primary_key:
        keys = f"({', '.join(old.primary_key)}) to ({', '.join(new.primary_key)})"
        out.breaking("primary-key-changed", name, f"primary key changed from {keys}")
    old_cols = {c.name: c for c in old.columns}
    new_cols = {c.name: c for c in new.columns}
    removed = [c for c in old.columns if c.name not in new_cols]
    added = [c for c in new.columns if c.name not in old_cols]
    renamed = _renames(removed, added)
    for before, after in renamed:
        message = f"renamed to {after.name!r}; readers selecting {before.name!r} break"
        out.breaking("column-renamed", f"{name}.{before.name}", message)
    gone = {b.name for b, _ in renamed}
    arrived = {a.name for _, a in renamed}
    for col in removed:
        if col.name not in gone:
            message = "column removed; readers selecting it break"
            out.breaking("column-removed", f"{name}.{col.name}", message)
    for col in added:
        if col.name not in arrived:
            required = ", required" if col.required else ""
            note = _contributors(col) if col.required else ""
            message = f"column added ({col.kind}{required}){note}"
            out.compatible("column-added", f"{name}.{col.name}", message)
    for col in new.columns:
        if col.name in old_cols:
            _column_changes(out, name, old_cols[col.name], col)
    if [c for c in old_cols if c in new_cols] != [c for c in new_cols if c in old_cols]:
        message = "columns reordered (Parquet is read by name; positional CSV readers are not)"
        out.compatible("columns-reordered", name, message)


def _code_changes(out: _Found, old: Vocabulary, new: Vocabulary) -> None:
    name = new.name
    old_codes = {c["code"]: c for c in old.codes}
    new_codes = {c["code"]: c for c in new.codes}
    removed = [c for c in old_codes if c not in new_codes]
    added = [c for c in new_codes if c not in old_codes]
    for code in removed:
        out.breaking("code-removed", name, f"code {code!r} removed; filters on it find nothing")
    for code in added:
        out.compatible("code-added", name, f"code {code!r} added")
    for code, entry in new_codes.items():
        before = old_codes.get(code)
        if before is not None and before != entry:
            fields = sorted(k for k in {*before, *entry} if before.get(k) != entry.get(k))
            out.compatible("code-changed", name, f"code {code!r}: {', '.join(fields)} changed")
    if old.closed and not new.closed:
        message = "vocabulary is now open: values outside its codes may appear (Enum to String)"
        out.breaking("vocabulary-opened", name, message)
    elif new.closed and not old.closed:
        out.compatible("vocabulary-closed", name, "vocabulary is now closed")
    before_v, after_v = _version(old.version), _version(new.version)
    kind = "vocabulary-version-not-raised"
    if (removed or added) and after_v <= before_v:
        out.warning(kind, name, f"codes changed but version {new.version} was not raised")
    elif removed and after_v[:1] <= before_v[:1]:
        out.warning(kind, name, f"codes removed but the major of {new.version} was not raised")
    elif added and after_v[:2] <= before_v[:2]:
        out.warning(kind, name, f"codes added but the minor of {new.version} was not raised")


def diff_models(old: Model, new: Model) -> SchemaDiff:
    """Every change from `old` to `new`, classified for readers of the export."""
    out = _Found()
    for name, table in old.tables.items():
        if name not in new.tables and table.kind != "vocabulary":
            out.breaking("table-removed", name, "table removed; readers loading it break")
    for name, table in new.tables.items():
        before = old.tables.get(name)
        if before is not None:
            _table_changes(out, before, table)
        elif table.kind != "vocabulary":
            out.compatible("table-added", name, "table added")
    for name in old.vocabularies:
        if name not in new.vocabularies:
            out.breaking("vocabulary-removed", name, "vocabulary (and its table) removed")
    for name, vocab in new.vocabularies.items():
        if name in old.vocabularies:
            _code_changes(out, old.vocabularies[name], vocab)
        else:
            out.compatible("vocabulary-added", name, "vocabulary (and its table) added")
    old_v, new_v = _version(old.version), _version(new.version)
    subject = "x-schema-version"
    if new_v < old_v:
        out.warning("schema-version-lowered", subject, f"went down from {old.version}")
    elif out and new_v == old_v:
        out.warning("schema-version-not-raised", subject, "unchanged although the schema changed")
    return SchemaDiff(old.version, new.version, tuple(out))


def diff_folders(old: Path, new: Path) -> SchemaDiff:
    """Compare the `schemas/` folders at `old` and `new` (each the folder itself)."""
    return diff_models(load_model_at(old), load_model_at(new))


def render_text(diff: SchemaDiff, old_label: str = "old", new_label: str = "new") -> str:
    """A listing grouped by severity and a verdict line."""
    head = f"schema diff: {diff.old_version} ({old_label}) -> {diff.new_version} ({new_label})"
    if not diff.changes:
        return f"{head}: no changes\n"
    lines = [head]
    for severity in SEVERITIES:
        for change in diff.changes:
            if change.severity == severity:
                lines.append(f"  {severity:<10}  {change.subject}: {change.message}")
    counts = ", ".join(f"{n} {s}" for s, n in diff.counts().items() if n)
    lines.append(f"{len(diff.changes)} change{'s' if len(diff.changes) != 1 else ''}: {counts}")
    breaking = len(diff.breaking)
    if not breaking:
        lines.append("ok: no breaking change for readers of the export")
    elif diff.major_raised:
        lines.append(
            f"ok: {breaking} breaking change{'s' if breaking != 1 else ''} allowed: the major "
            f"version was raised ({diff.old_version} -> {diff.new_version})"
        )
    else:
        lines.append(
            f"fail: {breaking} breaking change{'s' if breaking != 1 else ''} for readers of the "
            f"export; raise the major of x-schema-version in bundle.schema.json (now "
            f"{diff.new_version}) to release them"
        )
    return "\n".join(lines) + "\n"


def render_json(diff: SchemaDiff, old_label: str = "old", new_label: str = "new") -> str:
    data = {"old": old_label, "new": new_label, **diff.to_dict()}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
