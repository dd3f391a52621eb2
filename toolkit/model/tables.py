"""Derive the table layout from the JSON Schemas, so a field is declared exactly once.

The schemas carry a few annotation keywords that JSON Schema itself lacks:
`x-table`/`x-row` (an array of objects becomes a table, its items are rows),
`x-prefix` (an object merged into another table's columns), `x-date`,
`x-vocabulary`, `x-ref` and `x-grounded` (the source's verbatim words, which the
grounding checks find in its text copy). Everything downstream (flattening, checks, Arrow
types, the Data Package, the codebook) reads the `Table`/`Column` objects built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from toolkit.errors import SchemaError
from toolkit.model.schemas import resolve

Kind = Literal[
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "precision",
    "enum",
    "vocabulary",
    "string_list",
    "vocabulary_list",
]
TableKind = Literal["source", "fact", "part", "actor", "vocabulary", "judgement", "derived"]

PRECISIONS = ("day", "month", "year")
PROVENANCE = ("extraction_method", "extraction_model")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    description: str
    path: tuple[str, ...] = ()  # where the value sits in its record; () for derived columns
    required: bool = False
    values: tuple[str, ...] = ()  # allowed values of an enum column
    vocabulary: str | None = None
    ref: str | None = None  # actor | statement | agreement | fact | country | language | …
    example: Any = None
    computed: bool = False  # filled after the checks (e.g. grounding offsets), not read from input
    grounded: bool = False  # `x-grounded`: verbatim words of the source, found in its text copy


@dataclass(frozen=True, slots=True)
class ForeignKey:
    column: str
    table: str
    target: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    row: str  # what one row is: "statement", "party", …
    kind: TableKind
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    record_path: tuple[str, ...] = ()  # key of the list (or object) holding the rows
    parent: str | None = None
    foreign_keys: tuple[ForeignKey, ...] = field(default=())

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}.{name}")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


# Columns that no schema field holds: they are computed while flattening. Declared here once.
def _derived(name: str, kind: Kind, description: str, **kw: Any) -> Column:
    return Column(name=name, kind=kind, description=description, **kw)


DATASET_ID = _derived("id", "string", "Dataset-wide id: '<source id>/<local id>'.", required=True)
SOURCE_ID = _derived(
    "source_id",
    "string",
    "Id of the source the fact was extracted from.",
    required=True,
    ref="source",
)
POSITION = _derived(
    "position", "integer", "1-based position of the entry in its list, as entered.", required=True
)
BUNDLE_FILE = _derived(
    "bundle_file", "string", "Path of the bundle file, relative to the data folder.", required=True
)
EFFECTIVE_REVIEW = _derived(
    "review",
    "enum",
    "Review state: the fact's own, else its bundle's extraction.review.",
    required=True,
    values=("unreviewed", "accepted", "rejected"),
)
EVIDENCE_START = _derived(
    "evidence_start",
    "integer",
    "Character offset (0-based, Unicode code points) in the source's text copy where the "
    "evidence starts; null when the source has no text copy.",
    computed=True,
)
EVIDENCE_END = _derived(
    "evidence_end",
    "integer",
    "Character offset just after the evidence in the text copy: text[evidence_start:"
    "evidence_end] is the passage the evidence matches.",
    computed=True,
)
ORIGIN = _derived(
    "origin",
    "enum",
    "registry: defined in data/actors/; iso3166: a state referenced by its ISO 3166-1 code.",
    required=True,
    values=("registry", "iso3166"),
)


CLUSTER_ID = _derived(
    "cluster_id",
    "string",
    "The record's cluster: the smallest dataset-wide id among the exported records that "
    "same_as links and 'same' judgements join (its own id when nothing does). Count distinct "
    "cluster_id to count each thing once; the clusters table lists every report of it.",
    required=True,
    computed=True,
)
JUDGEMENT_FILE = _derived(
    "file", "string", "Path of the judgement's file, relative to the data folder.", required=True
)
JUDGEMENT_LINE = _derived(
    "line",
    "integer",
    "Line of the judgement in its file (1 for a YAML or JSON file, the line of a JSONL file).",
    required=True,
)


def precision_column(date_col: Column) -> Column:
    return Column(
        name=f"{date_col.name}_precision",
        kind="precision",
        description=f"Precision of {date_col.name}: day, month or year (the date is the first day"
        " of the month or year).",
        required=date_col.required,
        values=PRECISIONS,
    )


def _columns(
    schema: dict[str, Any],
    node: dict[str, Any],
    prefix: str,
    path: tuple[str, ...],
    required: bool,
    children: list[tuple[str, dict[str, Any], tuple[str, ...]]],
) -> list[Column]:
    """Columns of one object schema, flattening nested objects and collecting child tables."""
    out: list[Column] = []
    node = resolve(schema, node)
    req = set(node.get("required", ()))
    for key, raw in node.get("properties", {}).items():
        if key == "$schema":
            continue
        prop = resolve(schema, raw)
        name = prefix + key
        is_req = required and key in req
        desc = prop.get("description")
        if not desc:
            raise SchemaError(f"field {'/'.join((*path, key))} has no description")
        typ = prop.get("type")
        example = (prop.get("examples") or [None])[0]
        common: dict[str, Any] = dict(
            description=desc, path=(*path, key), required=is_req, example=example
        )
        if "x-table" in prop:
            children.append((key, prop, (*path, key)))
        elif typ == "object":
            out += _columns(schema, prop, name + "_", (*path, key), is_req, children)
        elif typ == "array":
            items = resolve(schema, prop.get("items", {}))
            if items.get("type") != "string":
                raise SchemaError(f"array {name} of non-strings needs x-table")
            vocab = items.get("x-vocabulary")
            out.append(
                Column(
                    name=name,
                    kind="vocabulary_list" if vocab else "string_list",
                    vocabulary=vocab,
                    ref=items.get("x-ref"),
                    **common,
                )
            )
        elif "enum" in prop:
            out.append(Column(name=name, kind="enum", values=tuple(prop["enum"]), **common))
        elif prop.get("x-vocabulary"):
            out.append(
                Column(name=name, kind="vocabulary", vocabulary=prop["x-vocabulary"], **common)
            )
        elif prop.get("x-date"):
            col = Column(name=name, kind="date", **common)
            out += [col, precision_column(col)]
        elif typ in ("string", "integer", "number", "boolean"):
            grounded = bool(prop.get("x-grounded"))
            out.append(
                Column(name=name, kind=typ, ref=prop.get("x-ref"), grounded=grounded, **common)
            )
        else:
            raise SchemaError(f"field {name} has no table type")
    return out


def _fact_columns(cols: list[Column], provenance: list[Column]) -> list[Column]:
    """Put a fact's own fields between its identity and its provenance columns."""
    by_name = {c.name: c for c in cols}
    local = by_name.pop("id")
    local = Column(
        name="local_id",
        kind="string",
        description=local.description,
        path=local.path,
        required=True,
    )
    tail_names = ("evidence", "confidence", "note")
    tail = [by_name.pop(n) for n in tail_names if n in by_name]
    if tail and tail[0].name == "evidence":
        tail[1:1] = [EVIDENCE_START, EVIDENCE_END]
    by_name.pop("review", None)
    own = list(by_name.values())
    return [DATASET_ID, SOURCE_ID, local, *own, *tail, EFFECTIVE_REVIEW, *provenance, CLUSTER_ID]


def _part_table(
    schema: dict[str, Any], key: str, prop: dict[str, Any], parent: Table
) -> list[Table]:
    items = resolve(schema, prop["items"])
    children: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    cols = _columns(schema, items, "", (), True, children)
    if children:
        raise SchemaError(f"{prop['x-table']}: tables nest one level deep at most")
    parent_id = Column(
        name=f"{parent.row}_id",
        kind="string",
        required=True,
        ref=parent.row,
        description=f"Dataset-wide id of the {parent.row} this {prop['x-row']} belongs to.",
    )
    table = Table(
        name=prop["x-table"],
        row=prop["x-row"],
        kind="part",
        description=prop["description"],
        columns=(parent_id, SOURCE_ID, POSITION, *cols),
        primary_key=(parent_id.name, "position"),
        record_path=(key,),
        parent=parent.name,
    )
    return [table]


def bundle_tables(schema: dict[str, Any]) -> list[Table]:
    """Tables of the bundle schema: sources, then each fact table followed by its parts."""
    source_cols: list[Column] = []
    children: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    for key, raw in schema["properties"].items():
        prop = resolve(schema, raw)
        if prop.get("x-table") == "sources":
            source_cols += _columns(schema, prop, prop.get("x-prefix", ""), (key,), True, children)
    # Every fact row repeats how its bundle was extracted, so a table stands on its own.
    provenance = [
        Column(
            name=c.name,
            kind=c.kind,
            description=c.description,
            required=c.required,
            values=c.values,
        )
        for c in source_cols
        if c.name in PROVENANCE
    ]
    fact_tables: list[Table] = []
    for key, raw in schema["properties"].items():
        prop = resolve(schema, raw)
        if "x-table" in prop and prop["x-table"] != "sources":
            items = resolve(schema, prop["items"])
            children = []
            cols = _fact_columns(_columns(schema, items, "", (), True, children), provenance)
            table = Table(
                name=prop["x-table"],
                row=prop["x-row"],
                kind="fact",
                description=prop["description"],
                columns=tuple(cols),
                primary_key=("id",),
                record_path=(key,),
            )
            fact_tables.append(table)
            for ckey, cprop, _ in children:
                fact_tables += _part_table(schema, ckey, cprop, table)
    source_prop = resolve(schema, schema["properties"]["source"])
    sources = Table(
        name="sources",
        row="source",
        kind="source",
        description=source_prop["description"],
        columns=(*source_cols, BUNDLE_FILE),
        primary_key=("id",),
        record_path=("source",),
    )
    return [sources, *fact_tables]


def actor_table(schema: dict[str, Any]) -> Table:
    children: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    cols = _columns(schema, schema, "", (), True, children)
    return Table(
        name=schema["x-table"],
        row=schema["x-row"],
        kind="actor",
        description=schema["description"],
        columns=(*cols, ORIGIN, CLUSTER_ID),
        primary_key=("id",),
    )


def judgement_table(schema: dict[str, Any]) -> Table:
    """One row per judgement record, located by its file and line (a pair may be judged
    more than once; the checks say when that is a contradiction)."""
    children: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    cols = _columns(schema, schema, "", (), True, children)
    return Table(
        name=schema["x-table"],
        row=schema["x-row"],
        kind="judgement",
        description=schema["description"],
        columns=(*cols, JUDGEMENT_FILE, JUDGEMENT_LINE),
        primary_key=("file", "line"),
    )
