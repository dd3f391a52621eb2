"""Load factkit's own JSON Schemas from `schemas/`: the declared source of every field."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.errors import SchemaError

BUNDLE_SCHEMA = "bundle.schema.json"
ACTOR_SCHEMA = "actor.schema.json"
VOCABULARY_SCHEMA = "vocabulary.schema.json"


def schema_dir() -> Path:
    """The `schemas/` folder beside the package (the project is installed editable)."""
    return Path(__file__).resolve().parents[2] / "schemas"


@cache
def load_schema(name: str) -> dict[str, Any]:
    path = schema_dir() / name
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot load schema {path}: {exc}") from exc
    if not isinstance(value, dict):
        raise SchemaError(f"schema {path} is not a JSON object")
    return value


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local `$ref`s, merging the referring node's own keywords (its description wins)."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise SchemaError(f"unsupported or cyclic $ref {ref!r}")
        seen.add(ref)
        target: Any = schema
        for token in ref[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        own = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **own}
    return node


def schema_version(schema: dict[str, Any]) -> str:
    version = schema.get("x-schema-version")
    if not isinstance(version, str):
        raise SchemaError(f"schema {schema.get('$id')} has no x-schema-version")
    return version
