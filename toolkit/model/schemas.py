"""Load factkit's own JSON Schemas from `schemas/`: the declared source of every field."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from toolkit.errors import SchemaError

BUNDLE_SCHEMA = "bundle.schema.json"
ACTOR_SCHEMA = "actor.schema.json"
VOCABULARY_SCHEMA = "vocabulary.schema.json"
JUDGEMENT_SCHEMA = "judgement.schema.json"


def schema_dir() -> Path:
    """The `schemas/` folder of the source tree, or its copy installed with the package."""
    source_tree = Path(__file__).resolve().parents[2] / "schemas"
    if (source_tree / BUNDLE_SCHEMA).is_file():
        return source_tree
    # a namespace package: ask for a file in it to get a plain path
    installed = Path(str(resources.files("factkit_schemas").joinpath(BUNDLE_SCHEMA))).parent
    if (installed / BUNDLE_SCHEMA).is_file():
        return installed
    raise SchemaError(f"factkit's schemas are missing: looked in {source_tree} and {installed}")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """One of factkit's own schemas, read once per process."""
    return read_schema(schema_dir() / name)


def read_schema(path: Path) -> dict[str, Any]:
    """A schema file anywhere (uncached): `schema diff` reads another version's schemas."""
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
