"""The model is consistent with itself: every field described, every vocabulary used exists,
and the test strategies exercise every column the schema declares."""

from __future__ import annotations

import json
import warnings
from typing import Any

import jsonschema
from hypothesis.errors import NonInteractiveExampleWarning
from strategies import datasets

from toolkit.model.model import load_model
from toolkit.model.schemas import resolve, schema_dir

SCHEMAS = sorted(schema_dir().glob("*.schema.json"))


def _properties(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every declared field; conditions (if/then/not) restate fields, they declare none."""
    out: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            out.append((f"{path}/{key}", value))
        for key, value in node.items():
            if isinstance(value, (dict, list)) and key not in ("if", "then", "else", "not"):
                out += _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _properties(value, f"{path}/{i}")
    return out


def test_schemas_are_valid_draft_2020_12() -> None:
    assert SCHEMAS
    for path in SCHEMAS:
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_field_has_a_description() -> None:
    for path in SCHEMAS:
        schema = json.loads(path.read_text(encoding="utf-8"))
        for where, prop in _properties(schema):
            described = resolve(schema, prop).get("description")  # its own, or its $ref's
            assert described, f"{path.name}{where} has no description"


def test_tables_are_derived_from_the_schema() -> None:
    model = load_model()
    assert list(model.tables)[:19] == [
        "sources",
        "statements",
        "agreements",
        "agreement_parties",
        "agreement_steps",
        "agreement_obligations",
        "agreement_relations",
        "supplies",
        "supply_items",
        "deployments",
        "alignments",
        "alignment_members",
        "events",
        "responses",
        "actors",
        "judgements",  # from the judgement schema
        "clusters",  # the tables resolution derives
        "disagreements",
        "agreement_actions",  # the vocabularies follow
    ]
    for table in model.tables.values():
        assert len(set(table.names)) == len(table.names), table.name
        assert set(table.primary_key) <= set(table.names)
        for fk in table.foreign_keys:
            assert fk.target in model.tables[fk.table].names


def test_strategies_exercise_every_stored_column() -> None:
    """A field added to the schema but not to tests/strategies.py fails here."""
    model = load_model()
    seen: set[tuple[str, ...]] = set()

    def walk(value: Any, path: tuple[str, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                seen.add((*path, key))
                walk(item, (*path, key))
        elif isinstance(value, list):
            for item in value:
                walk(item, path)

    strategy = datasets()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        samples = [strategy.example() for _ in range(60)]
    for dataset in samples:
        for bundle in dataset["bundles"]:
            walk(bundle, ())
        for actor in dataset["actors"]:
            walk(actor, ("actor",))
        for judgement in dataset["judgements"]:
            walk(judgement, ("judgement",))
    missing = []
    for table in model.tables.values():
        if table.kind == "vocabulary":
            continue
        for col in table.columns:
            if not col.path:
                continue
            prefix: tuple[str, ...] = (
                (table.kind,) if table.kind in ("actor", "judgement") else table.record_path
            )
            if table.kind == "part":
                parent = model.tables[table.parent or ""]
                prefix = (*parent.record_path, *table.record_path)
            if table.kind == "source":
                prefix = ()
            if (*prefix, *col.path) not in seen:
                missing.append(f"{table.name}.{col.name}")
    assert not missing, missing


def test_a_broken_vocabulary_is_refused_with_the_reference_validators_words() -> None:
    """Vocabularies are checked by jsonschema-rs; when it refuses one, the reference
    validator gives the reason, as it did alone."""
    import pytest

    from toolkit.errors import SchemaError
    from toolkit.model.schemas import VOCABULARY_SCHEMA, load_schema
    from toolkit.model.vocab import check_vocabulary

    path = schema_dir() / "vocabularies" / "event_kinds.yaml"
    model = load_model()
    assert "event_kinds" in model.vocabularies
    meta = load_schema(VOCABULARY_SCHEMA)
    broken: dict[str, Any] = {"name": "event_kinds", "version": "1", "codes": []}
    with pytest.raises(jsonschema.ValidationError) as reference:
        jsonschema.validate(broken, meta)
    with pytest.raises(SchemaError) as refused:
        check_vocabulary(broken, path)
    assert str(refused.value) == f"vocabulary event_kinds.yaml: {reference.value.message}"
