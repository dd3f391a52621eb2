"""Schema family: each record against its JSON Schema, plus calendar dates over whole tables.

Per-record checks use the compiled validator (jsonschema-rs); the test suite holds
it to agree with the reference `jsonschema` package on every fixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsonschema_rs
import narwhals as nw

from toolkit.checks.base import CheckContext, Failures, failures, make_problem
from toolkit.checks.suggest import code_hint, did_you_mean, non_ascii_hint
from toolkit.frames.base import DOC, PTR
from toolkit.frames.from_json import integer_paths
from toolkit.model.dates import off_calendar
from toolkit.model.model import Model
from toolkit.model.schemas import resolve
from toolkit.parsers.base import Document
from toolkit.parsers.numbers import integral_hint, non_integers
from toolkit.problems import Problem, join_pointer

# What a pattern means, by the $defs entry or property it belongs to.
_EXPECTED = {
    "date": "a date like '2024', '2024-06' or '2024-06-20'",
    "slug": "an id of lower-case ASCII letters and digits joined by hyphens ('vladimir-putin')",
    "factId": "an id of lower-case ASCII letters and digits joined by hyphens ('st-1')",
    "id": "an id of lower-case ASCII letters and digits joined by hyphens ('vladimir-putin')",
    "actorRef": "an actor id ('vladimir-putin') or an ISO 3166-1 alpha-3 code ('RUS')",
    "countryRef": "an ISO 3166-1 alpha-3 code in capitals ('UKR')",
    "country": "an ISO 3166-1 alpha-3 code in capitals ('UKR')",
    "statementRef": "a statement id ('st-1') or dataset-wide id ('<source id>/st-1')",
    "same_as": "a dataset-wide id ('<source id>/<local id>')",
    "url": "an http(s) URL",
    "language": "an ISO 639-1 language code in lower case ('en')",
    "wikidata": "a Wikidata id like 'Q7747'",
}
_JSON_TYPES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
    dict: "an object",
    list: "a list",
}


def _type_name(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _expected_types(types: Sequence[str]) -> str:
    names = {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "object": "an object",
        "array": "a list",
        "null": "null",
    }
    return " or ".join(names.get(t, t) for t in types)


FORMAT = 2  # the bundle format this version reads (the schema's `format` const)


def is_format_1(value: Any) -> bool:
    """A bundle of format 1: no `format` marker, and the source or extraction every format-1
    bundle has (an object with neither is no bundle at all: the schema says what it lacks)."""
    return (
        type(value) is dict
        and "format" not in value
        and ("source" in value or "extraction" in value)
    )


def old_format(doc: Document) -> Problem:
    """S109: a bundle without the format marker is format 1; nothing else in it is checked,
    since every later problem would be an artefact of the old layout."""
    return make_problem(
        doc,
        "S109",
        "",
        found=1,
        current=FORMAT,
        hint=f"run 'factkit upgrade {doc.file}'",
    )


class SchemaChecker:
    """Compiled validators for bundles and actors; build once per run."""

    def __init__(self, model: Model) -> None:
        self.schemas = {"bundle": model.bundle_schema, "actor": model.actor_schema}
        if model.judgement_schema is not None:
            self.schemas["judgement"] = model.judgement_schema
        self.validators = {
            role: jsonschema_rs.validator_for(schema) for role, schema in self.schemas.items()
        }
        self.integer_plan = integer_paths(model)

    def _integral_floats(self, doc: Document, skip: set[str]) -> list[Problem]:
        """S103 at every integer field written as a float (50.0, 5e1): the integer rule
        of `toolkit.parsers.numbers`, which JSON Schema alone does not enforce."""
        if doc.role != "bundle":
            return []
        return [
            make_problem(
                doc,
                "S103",
                pointer,
                expected="an integer",
                found=f"{value!r}, a number with a decimal point or exponent",
                hint=integral_hint(value),
            )
            for pointer, value in non_integers(doc.value, self.integer_plan)
            if value.is_integer() and pointer not in skip
        ]

    def check(self, doc: Document, *, limit: int | None = None) -> list[Problem]:
        """The record's problems; with `limit`, at most that many (errors are produced
        lazily, so a record of a million unknown keys costs no more than `limit`)."""
        validator = self.validators[doc.role]
        if doc.role == "bundle" and is_format_1(doc.value):
            return [old_format(doc)]
        if validator.is_valid(doc.value):
            return self._integral_floats(doc, set())[:limit]
        found: list[Problem] = []
        for err in validator.iter_errors(doc.value):
            found += self._problems(doc, err, limit)
            if limit is not None and len(found) >= limit:
                return found[:limit]
        typed = {p.pointer for p in found if p.code == "S103"}
        return (found + self._integral_floats(doc, typed))[:limit]

    def _node(self, role: str, schema_path: Sequence[Any]) -> dict[str, Any]:
        """The schema object that holds the failing keyword."""
        schema = self.schemas[role]
        node: Any = schema
        for token in schema_path[:-1]:
            node = node[token] if isinstance(node, dict) else node[int(token)]
        return resolve(schema, node) if isinstance(node, dict) else {}

    def _definition(self, role: str, instance_path: Sequence[Any]) -> str | None:
        """The `$defs` entry the field at `instance_path` refers to directly, if any."""
        schema = self.schemas[role]
        node: Any = schema
        for token in instance_path:
            node = resolve(schema, node) if isinstance(node, dict) else {}
            if isinstance(token, int):
                node = node.get("items", {})
            else:
                node = node.get("properties", {}).get(token, {})
        ref = node.get("$ref") if isinstance(node, dict) else None
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None

    def _problems(self, doc: Document, err: Any, limit: int | None = None) -> list[Problem]:
        pointer = join_pointer("", *err.instance_path)
        kind = err.kind.name
        detail = err.kind.as_dict()
        value = err.instance
        path = list(err.schema_path)
        owner = str(path[-2]) if len(path) >= 2 else ""
        if kind == "required":
            # At the key that opens the object, where the field belongs.
            return [make_problem(doc, "S101", pointer, key=True, field=detail["property"])]
        if kind in ("additionalProperties", "unevaluatedProperties"):
            allowed = list(self._node(doc.role, path).get("properties", {}))
            return [
                make_problem(
                    doc,
                    "S102",
                    join_pointer(pointer, name),
                    key=True,
                    field=name,
                    hint=did_you_mean(name, allowed, cutoff=70)
                    or f"allowed here: {', '.join(allowed)}",
                )
                for name in detail["unexpected"][:limit]
            ]
        if kind == "type":
            hint = None
            if "string" in detail["types"] and isinstance(value, (bool, int, float)):
                hint = "put the value in quotes to keep it as text"
            return [
                make_problem(
                    doc,
                    "S103",
                    pointer,
                    expected=_expected_types(detail["types"]),
                    found=_type_name(value),
                    hint=hint,
                )
            ]
        if kind == "enum":
            options = [str(o) for o in detail["options"]]
            synonyms = self._node(doc.role, path).get("x-synonyms", {})
            codes = [{"code": o, "synonyms": synonyms.get(o, [])} for o in options]
            field = str(err.instance_path[-1]) if err.instance_path else "this field"
            return [
                make_problem(
                    doc,
                    "S104",
                    pointer,
                    value=value,
                    allowed=", ".join(options),
                    hint=code_hint(str(value), codes, f"the values of '{field}'"),
                )
            ]
        if kind == "pattern":
            hint = non_ascii_hint(value) if isinstance(value, str) else None
            # the field's own definition first ('factId' for a fact id): the validator
            # names only the definition the pattern sits in ('slug', shared by all ids)
            expected = (
                _EXPECTED.get(self._definition(doc.role, err.instance_path) or "")
                or _EXPECTED.get(owner)
                or _EXPECTED.get(str(err.instance_path[-1:][0]) if err.instance_path else "")
            )
            return [
                make_problem(
                    doc,
                    "S105",
                    pointer,
                    value=value,
                    expected=expected or f"matching {detail['pattern']}",
                    hint=hint,
                )
            ]
        if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return [make_problem(doc, "S106", pointer, value=value, reason=err.message)]
        if kind in (
            "minItems",
            "maxItems",
            "minLength",
            "maxLength",
            "uniqueItems",
            "minProperties",
            "maxProperties",
        ):
            return [make_problem(doc, "S107", pointer, reason=err.message)]
        return [make_problem(doc, "S100", pointer, reason=err.message)]


def check_documents(model: Model, documents: Sequence[Document]) -> list[Problem]:
    checker = SchemaChecker(model)
    return [p for doc in documents for p in checker.check(doc)]


def _whole_match(pattern: str) -> str:
    """`pattern` with its closing `$` as `\\z`: Java (Spark) lets `$` match before a final
    line break ('2023-02-30\\n'), polars and DuckDB do not."""
    return (
        pattern[:-1] + r"\z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
    )


def check_dates(ctx: CheckContext) -> list[Failures]:
    """Well-formed dates that are not on the calendar ('2023-02-30'), over whole tables,
    every date column in one query on the run's engine."""
    # others are S105 already
    pattern = _whole_match(ctx.model.bundle_schema["$defs"]["date"]["pattern"])

    found = [
        ctx.lazy(table.name)
        .filter(nw.col(col.name).str.contains(pattern) & off_calendar(nw.col(col.name)))
        .select(
            DOC,
            nw.concat_str([nw.col(PTR), nw.lit("/" + "/".join(col.path))]).alias("pointer"),
            nw.col(col.name).alias("value"),
        )
        for table in [*ctx.model.record_tables, ctx.model.tables["actors"]]
        for col in table.columns
        if col.kind == "date"
    ]
    if not found:
        return []
    return failures("S108", ctx.collect(nw.concat(found, how="vertical")))
