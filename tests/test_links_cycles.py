"""`same_as` cycles by pointer doubling, and dates read as strings, agree with a plain
reading on polars and DuckDB: long paths into a cycle (more rounds than a plan keeps
before it is handed to the engine afresh), dead ends, self links, a repeated id."""

from __future__ import annotations

import datetime

import narwhals as nw
import polars as pl
import pytest

from toolkit.checks.base import CheckContext
from toolkit.checks.links import _cases, _on_cycles
from toolkit.engines import open_engine
from toolkit.frames.base import Frames
from toolkit.model.dates import ends_before, first_day, is_calendar_date, iso_weekday, last_day
from toolkit.model.model import load_model

ENGINES = ["polars", "duckdb"]
FORM = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"  # the schema's date


def _links() -> list[tuple[str, str]]:
    tail = [(f"t{i}", f"t{i + 1}") for i in range(40)] + [("t40", "c0")]
    cycle = [("c0", "c1"), ("c1", "c2"), ("c2", "c0")]
    dead = [("d0", "d1"), ("d1", "d2")]  # d2 links nowhere
    # e0's first link leads to a dead end: its second one, back to e1, is not followed
    repeated = [("e0", "d0"), ("e1", "e0"), ("e0", "e1")]
    pair = [("p0", "p1"), ("p1", "p0"), ("s", "s")]
    return tail + cycle + dead + repeated + pair


def _expected(links: list[tuple[str, str]]) -> set[str]:
    follow: dict[str, str] = {}
    for source, target in links:
        if source != target:
            follow.setdefault(source, target)
    on: set[str] = set()
    for start in follow:
        seen, node = [], start
        while node in follow and node not in seen:
            seen.append(node)
            node = follow[node]
        if node in seen:
            on.update(seen[seen.index(node) :])
    return on


@pytest.mark.parametrize("name", ENGINES)
def test_cycles_found_by_doubling(name: str) -> None:
    pairs = _links()
    frame = pl.DataFrame(
        {
            "_doc": [0] * len(pairs),
            "_ptr": [f"/statements/{i}" for i in range(len(pairs))],
            "_row": list(range(len(pairs))),
            "_table": [0] * len(pairs),
            "id": [a for a, _ in pairs],
            "same_as": [b for _, b in pairs],
        },
        schema_overrides={"_doc": pl.Int64, "_row": pl.Int64, "_table": pl.Int64},
    )
    with open_engine(name) as engine:
        engine.load({})
        ctx = CheckContext(load_model(), Frames(tables={}, documents=[]), engine=engine)
        links = ctx.small(frame)
        found, on_cycle = _on_cycles(ctx, links, _cases(links.filter(nw.col("id") != nw.col("id"))))
        assert found.is_empty()
        assert on_cycle is not None
        got = set(ctx.collect(on_cycle)["id"].to_list())
    assert got == _expected(pairs) == {"c0", "c1", "c2", "p0", "p1"}


@pytest.mark.parametrize("name", ENGINES)
def test_dates_read_as_strings_agree_with_parsed_dates(name: str) -> None:
    days = [datetime.date(1, 1, 1) + datetime.timedelta(days=n) for n in range(0, 3652000, 997)]
    values = [d.isoformat() for d in days] + ["0000-02-29", "1900-02-29", "2023-02-30", "2024"]
    values += ["2024-06", "2024-6-1", "x", "2024-13"]
    frame = pl.DataFrame({"a": values, "b": values[::-1]})
    expected = frame.select(
        valid=first_day(pl.col("a")).is_not_null() & pl.col("a").str.contains(FORM),
        before=last_day(pl.col("a")) < first_day(pl.col("b")),
        weekday=first_day(pl.col("a")).dt.weekday(),
    )
    with open_engine(name) as engine:
        engine.load({"t": frame})
        a, b = nw.col("a"), nw.col("b")
        day = nw.when(is_calendar_date(a) & (a.str.len_chars() == 10)).then(a)
        got = engine.collect(
            engine.table("t")
            .with_columns(
                valid=is_calendar_date(a),
                before=nw.when(is_calendar_date(a) & is_calendar_date(b)).then(ends_before(a, b)),
                weekday=iso_weekday(day),
            )
            .sort("_row")
        )
    assert got["valid"].to_list() == expected["valid"].to_list()
    both = got["valid"] & expected["valid"].reverse()
    assert got.filter(both)["before"].to_list() == expected.filter(both)["before"].to_list()
    full = got["valid"] & (pl.Series(values).str.len_bytes() == 10)
    assert got.filter(full)["weekday"].cast(pl.Int8).to_list() == (
        expected.filter(full)["weekday"].to_list()
    )
