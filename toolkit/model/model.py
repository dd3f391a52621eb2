"""The assembled model: schemas, vocabularies and tables, checked for internal consistency."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from toolkit.errors import SchemaError
from toolkit.model.resolution import RESOLUTION_TABLES
from toolkit.model.schemas import (
    ACTOR_SCHEMA,
    BUNDLE_SCHEMA,
    JUDGEMENT_SCHEMA,
    VOCABULARY_SCHEMA,
    read_schema,
    schema_dir,
    schema_version,
)
from toolkit.model.tables import ForeignKey, Table, actor_table, bundle_tables, judgement_table
from toolkit.model.vocab import Vocabulary, load_vocabularies

# What a reference names, mapped to the table and column it joins.
_REF_TARGETS = {
    "source": ("sources", "id"),
    "actor": ("actors", "id"),
    "country": ("actors", "id"),
    "statement": ("statements", "id"),
    "agreement": ("agreements", "id"),
    "supply": ("supplies", "id"),
    "alignment": ("alignments", "id"),
    "deployment": ("deployments", "id"),
    "event": ("events", "id"),
}
# "fact" (any fact table) has no single target table, so no foreign key: R307 resolves it.


@dataclass(frozen=True, slots=True)
class Model:
    version: str
    bundle_schema: dict[str, Any]
    actor_schema: dict[str, Any]
    vocabularies: dict[str, Vocabulary]
    tables: dict[str, Table]
    # None for a schemas folder from before judgements existed (`schema diff` reads old ones)
    judgement_schema: dict[str, Any] | None = None

    @property
    def fact_tables(self) -> list[Table]:
        return [t for t in self.tables.values() if t.kind == "fact"]

    @property
    def record_tables(self) -> list[Table]:
        """Tables filled from bundles (sources, facts and their parts), in schema order."""
        return [t for t in self.tables.values() if t.kind in ("source", "fact", "part")]


def _with_foreign_keys(table: Table, tables: dict[str, Table]) -> Table:
    fks: list[ForeignKey] = []
    for col in table.columns:
        if col.kind == "vocabulary" and col.vocabulary:
            fks.append(ForeignKey(col.name, col.vocabulary, "code"))
        elif col.ref in _REF_TARGETS and col.kind == "string":
            target, key = _REF_TARGETS[col.ref]
            fks.append(ForeignKey(col.name, target, key))
        elif col.ref in tables and col.kind == "string":  # a vocabulary's own parent
            fks.append(ForeignKey(col.name, col.ref, "code"))
    for fk in fks:
        if fk.table not in tables or fk.target not in tables[fk.table].names:
            raise SchemaError(f"{table.name}.{fk.column} refers to missing {fk.table}.{fk.target}")
    return Table(
        name=table.name,
        row=table.row,
        kind=table.kind,
        description=table.description,
        columns=table.columns,
        primary_key=table.primary_key,
        record_path=table.record_path,
        parent=table.parent,
        foreign_keys=tuple(fks),
    )


@cache
def load_model() -> Model:
    """Build the model once per process, on first use (never at import)."""
    return load_model_at(schema_dir())


def load_model_at(schemas: Path) -> Model:
    """The model of the `schemas/` folder at `schemas` (uncached): `schema diff` compares two."""
    bundle = read_schema(schemas / BUNDLE_SCHEMA)
    actor = read_schema(schemas / ACTOR_SCHEMA)
    meta = read_schema(schemas / VOCABULARY_SCHEMA)
    vocabularies = load_vocabularies(schemas / "vocabularies", meta)
    tables: dict[str, Table] = {}
    judgement_path = schemas / JUDGEMENT_SCHEMA
    judgement = read_schema(judgement_path) if judgement_path.is_file() else None
    own = [*bundle_tables(bundle), actor_table(actor)]
    if judgement is not None:
        own += [judgement_table(judgement), *RESOLUTION_TABLES]
    for table in own:
        tables[table.name] = table
    for vocab in vocabularies.values():
        if vocab.name in tables:
            raise SchemaError(f"vocabulary {vocab.name} clashes with a table name")
        tables[vocab.name] = vocab.table()
    for table in tables.values():
        for col in table.columns:
            if col.vocabulary and col.vocabulary not in vocabularies:
                raise SchemaError(f"{table.name}.{col.name}: no vocabulary {col.vocabulary!r}")
    tables = {name: _with_foreign_keys(t, tables) for name, t in tables.items()}
    return Model(
        version=schema_version(bundle),
        bundle_schema=bundle,
        actor_schema=actor,
        vocabularies=vocabularies,
        tables=tables,
        judgement_schema=judgement,
    )
