"""Typed tables: the check tables of a valid run, in the dtypes analysts receive.

The check tables keep raw values (dates as text, codes as strings) so the checks
can report bad input; once a run is valid, these pure functions turn them into
the published form. Every dtype is derived from the model's `Column.kind`, so the
Parquet files, the CSV schema, the pandera schema and the codebook cannot drift
apart. Nothing here reads files or the clock.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import polars as pl
import pycountry

with warnings.catch_warnings():
    # pandera imports pyspark.pandas when pyspark is installed (factkit[spark]), which
    # warns that it does not fully support pandas 3: factkit hands pandera polars frames.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    import pandera.polars as pa

from toolkit.errors import ExportError
from toolkit.frames.base import Frames
from toolkit.model.dates import PRECISION_BY_LENGTH, first_day
from toolkit.model.model import Model
from toolkit.model.tables import PRECISIONS, Column, Table
from toolkit.model.vocab import Vocabulary

PRECISION_DTYPE = pl.Enum(list(PRECISIONS))
ISO_ORIGIN = "iso3166"
REGISTRY_ORIGIN = "registry"
ACTOR_REFS = ("actor", "country")  # references that name an actor or a state

_SIMPLE: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "string_list": pl.List(pl.String()),
    "vocabulary_list": pl.List(pl.String()),
}


def allowed_values(col: Column, model: Model) -> tuple[str, ...]:
    """The closed set of values a column takes, or () when it is open."""
    if col.kind in ("enum", "precision"):
        return col.values or PRECISIONS
    if col.kind in ("vocabulary", "vocabulary_list") and col.vocabulary:
        vocab = model.vocabularies[col.vocabulary]
        return tuple(vocab.code_list) if vocab.closed else ()
    return ()


def column_dtype(col: Column, model: Model) -> pl.DataType:
    """The exported dtype of a column: one place decides it for every format."""
    if col.kind in ("enum", "precision"):
        return pl.Enum(list(allowed_values(col, model)))
    if col.kind == "vocabulary":
        values = allowed_values(col, model)
        # An open vocabulary accepts codes outside its list, so it cannot be an Enum.
        return pl.Enum(list(values)) if values else pl.String()
    return _SIMPLE[col.kind]


def vocabulary_versions(model: Model) -> dict[str, str]:
    """Vocabulary name → version, recorded in every export so codes can be traced."""
    return {name: vocab.version for name, vocab in sorted(model.vocabularies.items())}


def table_schema(table: Table, model: Model) -> pl.Schema:
    """Column names and dtypes of one exported table, in the model's column order."""
    return pl.Schema({col.name: column_dtype(col, model) for col in table.columns})


def _date(name: str) -> pl.Expr:
    """A date prefix as its first day: '2024' → 2024-01-01, '2024-06' → 2024-06-01."""
    return first_day(pl.col(name), strict=True).alias(name)


def _precision(date_name: str, name: str) -> pl.Expr:
    """Precision from the length of the raw date, the only place it is recorded."""
    length = pl.col(date_name).str.len_bytes()
    return length.replace_strict(
        PRECISION_BY_LENGTH, default=None, return_dtype=PRECISION_DTYPE
    ).alias(name)


def _date_of(table: Table, col: Column) -> str:
    """The date column a precision column belongs to (it follows it in the model)."""
    base = col.name.removesuffix("_precision")
    if base == col.name or base not in table.names or table.column(base).kind != "date":
        raise ExportError(f"{table.name}.{col.name}: no date column {base!r} (model bug)")
    return base


def typed_frame(
    table: Table, raw: pl.DataFrame | pl.LazyFrame, model: Model, *, sort: bool = False
) -> pl.DataFrame:
    """A table's rows in its exported dtypes and column order (other columns dropped);
    with `sort`, by its primary key. A lazy `raw` is typed in the same query that makes
    it, so its intermediate copies are not all held at once."""
    exprs: list[pl.Expr] = []
    for col in table.columns:
        if col.kind == "date":
            exprs.append(_date(col.name))
        elif col.kind == "precision":
            exprs.append(_precision(_date_of(table, col), col.name))
        else:
            exprs.append(pl.col(col.name).cast(column_dtype(col, model), strict=True))
    query = raw.lazy().select(exprs)
    if sort:
        query = query.sort(list(table.primary_key), maintain_order=True)
    try:
        return query.collect()
    except pl.exceptions.PolarsError as exc:
        raise ExportError(f"{table.name}: cannot type the table: {exc}") from exc


@cache
def _iso_names() -> dict[str, str]:
    """ISO 3166-1 alpha-3 code → the standard's English short name, as pycountry has it."""
    return {country.alpha_3: country.name for country in pycountry.countries}


def referenced_states(model: Model, frames: Frames) -> list[str]:
    """ISO 3166-1 alpha-3 codes used as actors or countries anywhere but not in the registry."""
    seen: set[str] = set()
    for table in model.tables.values():
        frame = frames.tables.get(table.name)
        if frame is None:
            continue
        for col in table.columns:
            if col.ref not in ACTOR_REFS or col.name not in frame.columns:
                continue
            series = frame[col.name]
            if series.dtype == pl.List(pl.String()):
                series = series.explode()
            seen.update(series.drop_nulls().unique().to_list())
    registry = set(frames.tables["actors"]["id"].drop_nulls().to_list())
    return sorted((seen & set(_iso_names())) - registry)


def _state_rows(codes: Iterable[str], table: Table, model: Model) -> pl.DataFrame:
    """One actor row per state, named as ISO 3166-1 names it; other fields stay null."""
    codes = list(codes)
    data: dict[str, list[Any]] = {name: [None] * len(codes) for name in table.names}
    data["id"] = codes
    data["kind"] = ["state"] * len(codes)
    names = _iso_names()
    data["name"] = [names[code] for code in codes]
    data["country"] = codes
    data["origin"] = [ISO_ORIGIN] * len(codes)
    if "cluster_id" in data:  # a state is its own cluster
        data["cluster_id"] = codes
    return pl.DataFrame(data, schema=table_schema(table, model))


def actors(model: Model, registry: pl.DataFrame, states: list[str]) -> pl.DataFrame:
    """The actors table: the registry's rows, then a row for each state in `states`."""
    table = model.tables["actors"]
    typed = typed_frame(table, registry, model)
    return pl.concat([typed, _state_rows(states, table, model)], how="vertical")


def vocabulary_frame(vocab: Vocabulary, table: Table, model: Model) -> pl.DataFrame:
    """A vocabulary's codes as a table, one row per code, columns from `Vocabulary.table()`."""
    data = {col.name: [code.get(col.path[0]) for code in vocab.codes] for col in table.columns}
    try:
        return pl.DataFrame(data, schema=table_schema(table, model), strict=True)
    except (TypeError, pl.exceptions.PolarsError) as exc:
        raise ExportError(f"vocabulary {vocab.name}: cannot type its codes: {exc}") from exc


def pandera_schema(table: Table, model: Model) -> pa.DataFrameSchema:
    """The exported table's contract, from the same model: dtypes, nulls, keys, closed values."""
    columns: dict[str, pa.Column] = {}
    for col in table.columns:
        dtype = column_dtype(col, model)
        checks: list[pa.Check] = []
        values = list(allowed_values(col, model))
        if values and col.kind != "vocabulary_list":
            checks.append(pa.Check.isin(values))
        elif values:
            checks.append(_elements_in(col.name, values))
        columns[col.name] = pa.Column(
            dtype, nullable=not col.required, checks=checks or None, required=True
        )
    return pa.DataFrameSchema(
        columns, name=table.name, strict=True, ordered=True, unique=list(table.primary_key)
    )


def _elements_in(name: str, values: list[str]) -> pa.Check:
    """Every element of a list column is one of `values` (pandera has no list isin)."""

    def check(data: Any) -> pl.LazyFrame:
        lf: pl.LazyFrame = data.lazyframe
        return lf.select(
            pl.col(data.key).list.eval(pl.element().is_in(values)).list.all().fill_null(True)
        )

    return pa.Check(check, name=f"elements_in_{name}", error=f"elements of {name} in {values}")


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_table(table: Table, frame: pl.DataFrame, model: Model) -> None:
    """Validate one typed table against its pandera schema; a failure is a bug in factkit."""
    try:
        pandera_schema(table, model).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        summary = "; ".join(
            f"{row['column'] or table.name}: {row['check']} ({_short(row['failure_case'])})"
            for row in cases.head(5).iter_rows(named=True)
        )
        more = f" and {cases.height - 5} more" if cases.height > 5 else ""
        raise ExportError(f"{table.name} fails its export schema: {summary}{more}") from exc


def references(model: Model) -> Iterator[tuple[str, str, str, str]]:
    """(table, column, target table, target column) of every reference the export keeps,
    including actor lists that carry no declared foreign key."""
    for table in model.tables.values():
        for fk in table.foreign_keys:
            yield table.name, fk.column, fk.table, fk.target
        for col in table.columns:
            if col.kind == "string_list" and col.ref in ACTOR_REFS:
                yield table.name, col.name, "actors", "id"


def check_foreign_keys(model: Model, tables: Mapping[str, pl.DataFrame | pl.LazyFrame]) -> None:
    """Every reference joins; `tables` need hold only the columns `references` names, and
    may be queries (of the files the export left them in)."""
    for name, column, target_table, target in references(model):
        values = tables[name].lazy().select(pl.col(column).alias("v"))
        if values.collect_schema()["v"] == pl.List(pl.String()):
            values = values.explode("v")
        values = values.drop_nulls().select(pl.col("v").cast(pl.String))
        known = tables[target_table].lazy().select(pl.col(target).cast(pl.String).alias("v"))
        missing = values.join(known, on="v", how="anti", maintain_order="left").collect()
        if missing.height:
            sample = ", ".join(missing.unique(maintain_order=True)["v"].head(5).to_list())
            raise ExportError(f"{name}.{column} does not join {target_table}.{target}: {sample}")
