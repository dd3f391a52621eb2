"""Controlled vocabularies: data files in `schemas/vocabularies/`, checked when loaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from toolkit.errors import SchemaError
from toolkit.model.schemas import VOCABULARY_SCHEMA, load_schema, schema_dir
from toolkit.model.tables import Column, Kind, Table

_FIELD_KINDS: dict[str, Kind] = {"list": "string_list", "boolean": "boolean", "string": "string"}


@dataclass(frozen=True, slots=True)
class Vocabulary:
    name: str
    version: str
    title: str
    description: str
    closed: bool
    fields: dict[str, dict[str, str]]
    codes: tuple[dict[str, Any], ...]

    @property
    def code_list(self) -> list[str]:
        return [c["code"] for c in self.codes]

    def table(self) -> Table:
        cols = [
            Column("code", "string", f"Code of the {self.name} vocabulary.", ("code",), True),
            Column("label", "string", "Human-readable label.", ("label",), True),
            Column("description", "string", "What the code covers.", ("description",), True),
            Column(
                "parent",
                "string",
                "Code of the broader category, if any.",
                ("parent",),
                ref=self.name,
            ),
        ]
        for name, spec in self.fields.items():
            cols.append(Column(name, _FIELD_KINDS[spec["type"]], spec["description"], (name,)))
        return Table(
            name=self.name,
            row="code",
            kind="vocabulary",
            description=self.description,
            columns=tuple(cols),
            primary_key=("code",),
        )


def _read_yaml(path: Path) -> Any:
    # Our own loader, so vocabularies obey the same YAML rules as contributions.
    from toolkit.parsers import parse_file

    result = parse_file(path, str(path), "bundle")
    errors = [p for p in result.problems if p.severity == "error"]
    if errors or not result.documents:
        first = errors[0] if errors else None
        raise SchemaError(f"vocabulary {path.name}: {first.message if first else 'empty'}")
    return result.documents[0].value


def _is_valid(value: Any, meta: dict[str, Any]) -> bool:
    """jsonschema-rs's verdict, False when it cannot give one (the reference decides)."""
    try:
        return bool(jsonschema_rs.validator_for(meta).is_valid(value))
    except Exception:  # a meta-schema jsonschema-rs refuses: leave it to the reference
        return False


def check_vocabulary(value: Any, path: Path, meta: dict[str, Any] | None = None) -> Vocabulary:
    """Raise SchemaError unless the file is a consistent vocabulary.

    `meta` is the vocabulary schema to check against (default: factkit's own); another
    version's vocabularies are checked against that version's schema.
    """
    meta = meta if meta is not None else load_schema(VOCABULARY_SCHEMA)
    if not _is_valid(value, meta):
        # the reference validator says why (and refuses a meta-schema that is not one);
        # it is imported only then: it costs a run more time than everything else here
        import jsonschema

        try:
            jsonschema.validate(value, meta)
        except jsonschema.ValidationError as exc:
            raise SchemaError(f"vocabulary {path.name}: {exc.message}") from exc
    name = value["name"]
    if name != path.stem:
        raise SchemaError(f"vocabulary {path.name} is named {name!r}")
    fields = value.get("fields") or {}
    codes = value["codes"]
    seen: set[str] = set()
    for entry in codes:
        code = entry["code"]
        if code in seen:
            raise SchemaError(f"vocabulary {name}: code {code!r} twice")
        seen.add(code)
        extra = set(entry) - {"code", "label", "description", "parent", "synonyms"}
        if extra - set(fields) or set(fields) - set(entry):
            raise SchemaError(
                f"vocabulary {name}: code {code!r} fields differ from {sorted(fields)}"
            )
    _check_synonyms(name, codes)
    parents = {c["code"]: c.get("parent") for c in codes}
    for code in parents:
        chain: list[str] = []
        cur: str | None = code
        while cur is not None:
            if cur in chain:
                raise SchemaError(f"vocabulary {name}: parent cycle {' -> '.join(chain)}")
            if cur not in parents:
                raise SchemaError(f"vocabulary {name}: unknown parent {cur!r}")
            chain.append(cur)
            cur = parents[cur]
    return Vocabulary(
        name=name,
        version=value["version"],
        title=value["title"],
        description=value["description"],
        closed=value.get("closed", True),
        fields=fields,
        codes=tuple(codes),
    )


def _check_synonyms(name: str, codes: list[dict[str, Any]]) -> None:
    """A synonym names one code: it is no code itself and belongs to no other code."""
    owner: dict[str, str] = {c["code"]: c["code"] for c in codes}
    for entry in codes:
        for synonym in entry.get("synonyms") or ():
            key = synonym.lower()
            if key in owner:
                raise SchemaError(
                    f"vocabulary {name}: synonym {synonym!r} of {entry['code']!r} "
                    f"is also {owner[key]!r}"
                )
            owner[key] = entry["code"]


def load_vocabularies(
    folder: Path | None = None, meta: dict[str, Any] | None = None
) -> dict[str, Vocabulary]:
    folder = folder or schema_dir() / "vocabularies"
    out: dict[str, Vocabulary] = {}
    for path in sorted(folder.glob("*.yaml")):
        vocab = check_vocabulary(_read_yaml(path), path, meta)
        out[vocab.name] = vocab
    return out
