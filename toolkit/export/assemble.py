"""The export's tables, one at a time: what is decided over every table first (which facts
are released, their clusters, the disagreements, the states named), then each table read,
released, typed, checked and handed on, so that memory holds one table's copies at a time,
not every table's.

`plan` reads only the columns those decisions need (`_doc`, `_ptr`, ids, review fields,
references; the members of clusters of two or more whole): release (`toolkit.export.release`)
runs on that projection, and a row of a table is released when its place (`_doc`, `_ptr`,
unique in a table) is among the projection's kept rows. `tables` then reads each table
whole, once, applies the plan, types it (`toolkit.export.typed`) and takes it out of the
run's tables. What the foreign-key check needs of a table is kept by the caller
(`key_columns`): the check runs once every table has been typed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field

import polars as pl

from toolkit.errors import ExportError
from toolkit.export import release, typed
from toolkit.frames.base import DOC, PTR, Frames, read_columns
from toolkit.model.model import Model
from toolkit.model.tables import Table
from toolkit.resolve.export import Resolution, resolve, with_cluster

# what release changes in a row it keeps, besides keeping it (a link to a fact left out)
CHANGED = ("same_as",)


@dataclass(slots=True)
class Plan:
    """What is decided over every table before any is typed."""

    model: Model
    kept: dict[str, pl.DataFrame]  # released table → (`_doc`, `_ptr`, CHANGED…) of its rows
    states: list[str]  # ISO codes named by released facts but not in the registry
    resolution: Resolution | None
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)
    policy: str = ""
    # tables release kept whole and unchanged: their rows need no join with `kept`
    whole: frozenset[str] = frozenset()

    @property
    def cluster(self) -> pl.DataFrame | None:
        """Record id → `cluster_id`, for the fact and actor tables (None: no resolution)."""
        return self.resolution.cluster if self.resolution is not None else None


def _needed(model: Model) -> dict[str, set[str]]:
    """The columns `plan` reads of each table: what release decides with (ids, review,
    statement and agreement references, `same_as`), what clusters are built from (`id`,
    `source_id`) and the actor references (for the states an export adds)."""
    wanted: dict[str, set[str]] = {}
    for table in model.tables.values():
        if table.kind not in ("fact", "part", "actor"):
            continue
        columns = wanted.setdefault(table.name, set())
        if table.kind == "fact":
            columns |= {"id", "source_id", "review", "extraction_method", *CHANGED}
        if table.kind == "actor":
            columns.add("id")
        if table.kind == "part":
            columns.add(table.columns[0].name)  # the parent's id
        for col in table.columns:
            if col.ref in ("statement", "agreement", *typed.ACTOR_REFS):
                columns.add(col.name)
    return wanted


def _read_documents(
    tables: Mapping[str, pl.DataFrame], docs: list[int], names: Collection[str]
) -> dict[str, pl.DataFrame]:
    """The rows of documents `docs` of the tables `names` (those there are), read by a
    filtered scan when the tables are staged parts (`PartTables.read_documents`)."""
    reader = getattr(tables, "read_documents", None)
    if reader is not None:
        found: dict[str, pl.DataFrame] = reader(docs, names)
        return found
    return {name: _of_documents(frame, docs) for name, frame in tables.items() if name in names}


def _of_documents(frame: pl.DataFrame, docs: list[int]) -> pl.DataFrame:
    return frame.filter(pl.col(DOC).cast(pl.Int64).is_in(pl.Series(docs, dtype=pl.Int64).implode()))


def plan(
    model: Model, tables: Mapping[str, pl.DataFrame], *, include_unreviewed: bool = False
) -> Plan:
    """Decide what the export holds from the columns that decide it (see module doc)."""
    wanted = _needed(model)
    projected = read_columns(tables, wanted)
    if "judgements" in tables:  # a 'same' judgement joins a cluster: read whole (small)
        projected["judgements"] = tables["judgements"]
    chosen = release.release(
        model, Frames(tables=projected, documents=[]), include_unreviewed=include_unreviewed
    )
    released = chosen.frames.tables
    kept = {
        name: released[name].select(DOC, PTR, *(c for c in CHANGED if c in released[name]))
        for name in wanted
        if model.tables[name].kind in ("fact", "part")
    }
    states = typed.referenced_states(model, chosen.frames)

    def members_of(docs: list[int], names: Collection[str]) -> dict[str, pl.DataFrame]:
        rows = _read_documents(tables, docs, names)
        return {
            name: _released(frame.lazy(), _of_documents(kept[name], docs)).collect()
            if name in kept
            else frame
            for name, frame in rows.items()
        }

    resolution = resolve(model, projected, released, members_of)
    whole = frozenset(  # release only drops rows and clears `same_as` (then says so)
        name
        for name, places in kept.items()
        if places.height == projected[name].height
        and release.UNLINKED not in chosen.left_out.get(name, {})
    )
    return Plan(model, kept, states, resolution, chosen.left_out, chosen.policy, whole)


def _released(frame: pl.LazyFrame, keys: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """The rows of `frame` whose place is among `keys`, in `frame`'s order, with the values
    `keys` carries besides the place (those release changed; evidence offsets)."""
    keys = keys.lazy()
    changed = [c for c in keys.collect_schema().names() if c not in (DOC, PTR)]
    columns = frame.collect_schema().names()
    return (
        frame.drop(changed, strict=False)
        .join(keys, on=[DOC, PTR], how="inner", maintain_order="left")
        .select(*columns, *(c for c in changed if c not in columns))
    )


def rows(
    table: Table,
    raw: pl.LazyFrame,
    keys: pl.DataFrame | pl.LazyFrame | None,
    cluster: pl.DataFrame | pl.LazyFrame | None,
) -> pl.LazyFrame:
    """A fact, part or actor table's exported rows, untyped: those of `raw` whose place is
    among `keys` (all, without), with their cluster (fact and actor tables)."""
    if keys is not None:
        raw = _released(raw, keys)
    if cluster is not None and table.kind in ("fact", "actor"):
        raw = with_cluster(raw, cluster)
    return raw


def _typed_table(
    table: Table, plan: Plan, tables: MutableMapping[str, pl.DataFrame]
) -> pl.DataFrame:
    """One table as exported, sorted by its primary key; a staged table is taken out of
    `tables` once read. Release, the cluster join and typing are one query."""
    model = plan.model
    if table.kind == "vocabulary":
        frame = typed.vocabulary_frame(model.vocabularies[table.name], table, model)
        return frame.sort(list(table.primary_key), maintain_order=True)
    if table.kind == "derived":
        if plan.resolution is None:
            raise ExportError(f"{table.name}: no resolution was computed (model bug)")
        return typed.typed_frame(table, plan.resolution.table(table.name), model, sort=True)
    reader = getattr(tables, "lazy", None)  # staged parts: read in the typing query
    raw = reader(table.name) if reader is not None else tables[table.name].lazy()
    keys = plan.kept.get(table.name)
    raw = rows(table, raw, None if table.name in plan.whole else keys, plan.cluster)
    if table.kind == "actor":
        frame = typed.actors(model, raw.collect(), plan.states)
        frame = frame.sort(list(table.primary_key), maintain_order=True)
    else:
        frame = typed.typed_frame(table, raw, model, sort=True)
    del tables[table.name]
    if keys is not None and frame.height != keys.height:  # a place held twice, or lost
        raise ExportError(f"{table.name}: {frame.height} rows released, {keys.height} decided")
    return frame


def exported(
    plan: Plan, tables: MutableMapping[str, pl.DataFrame]
) -> Iterator[tuple[str, pl.DataFrame]]:
    """Each table of the model, in model order: typed, sorted by its primary key and
    checked against its pandera schema; taken out of `tables` as it is read."""
    for table in plan.model.tables.values():
        yield table.name, exported_table(table, plan, tables)


def exported_table(
    table: Table, plan: Plan, tables: MutableMapping[str, pl.DataFrame]
) -> pl.DataFrame:
    """One table as `exported` gives it."""
    frame = _typed_table(table, plan, tables)
    typed.check_table(table, frame, plan.model)
    return frame


def key_columns(model: Model) -> dict[str, list[str]]:
    """The columns of each table the foreign-key check reads: its references and the
    columns others point to."""
    wanted: dict[str, set[str]] = {name: set() for name in model.tables}
    for table, column, target_table, target in typed.references(model):
        wanted[table].add(column)
        wanted[target_table].add(target)
    return {
        name: [c for c in model.tables[name].names if c in columns]
        for name, columns in wanted.items()
    }


def tables(
    model: Model, frames: Frames, *, include_unreviewed: bool = False
) -> dict[str, pl.DataFrame]:
    """Every exported table at once, foreign keys checked: for small data (the codebook's
    examples, tests); the export itself goes table by table (`plan`, `exported`)."""
    staged = frames.tables
    decided = plan(model, staged, include_unreviewed=include_unreviewed)
    out = dict(exported(decided, staged))
    typed.check_foreign_keys(model, out)
    return out
