"""Clusters found in label rounds on an engine agree with a plain union-find, on polars
and DuckDB: random graphs with links to unknown ids, self links and repeated links, and
chains long enough to need more rounds than a plan keeps before it is handed to the
engine afresh. And G606, now on the engine, still reports a duplicate once per copy."""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.checker import validate
from toolkit.engines import open_engine
from toolkit.engines.base import Engine
from toolkit.resolve.cluster import labels

ENGINES = ["polars", "duckdb"]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _union_find(nodes: list[str], links: list[tuple[str, str]]) -> dict[str, str]:
    """Each node's smallest connected id; links to unknown ids are left out."""
    parent = {n: n for n in nodes}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in links:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            parent[max(ra, rb)] = min(ra, rb)
    return {n: root(n) for n in nodes}


class _Counted:
    """An engine that counts what it collects: one collect per round, and the restages."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.collects = engine, 0

    def small(self, frame: pl.DataFrame) -> nw.LazyFrame[Any]:
        return self.engine.small(frame)

    def collect(self, frame: nw.LazyFrame[Any]) -> pl.DataFrame:
        self.collects += 1
        return self.engine.collect(frame)


def _found(where: _Counted, nodes: list[str], links: list[tuple[str, str]]) -> dict[str, str]:
    ids = pl.DataFrame({"id": nodes}, schema={"id": pl.String})
    pairs = pl.DataFrame(links, schema={"left": pl.String, "right": pl.String}, orient="row")
    label = labels(where, where.small(ids), where.small(pairs))
    got = {} if label is None else dict(where.collect(label).iter_rows())
    return {n: got.get(n, n) for n in nodes}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with open_engine(request.param) as found:
        yield found


_IDS = st.sampled_from([f"n{i:02d}" for i in range(30)])


@settings(max_examples=40, deadline=None)
@given(
    nodes=st.lists(_IDS, min_size=1, max_size=30, unique=True),
    links=st.lists(st.tuples(_IDS | st.just("unknown"), _IDS), max_size=40),
)
def test_label_rounds_agree_with_union_find(
    engine: Engine, nodes: list[str], links: list[tuple[str, str]]
) -> None:
    assert _found(_Counted(engine), nodes, links) == _union_find(nodes, links)


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_long_chains_take_several_rounds_and_end_in_one_cluster(engine: Engine, order: str) -> None:
    nodes = [f"c{i:04d}" for i in range(600)]
    chain = list(nodes)
    if order == "descending":
        chain.reverse()
    elif order == "shuffled":
        random.Random(13).shuffle(chain)
    links = [*itertools.pairwise(chain), ("x", "y"), ("c0001", "c0001")]
    where = _Counted(engine)
    found = _found(where, [*nodes, "x", "y"], links)
    assert found == _union_find([*nodes, "x", "y"], links)
    assert set(found.values()) == {"c0000", "x"}
    # the edges, then one collect per round: hooks, doublings until none changes a label
    assert where.collects > 4


@pytest.mark.parametrize("name", ENGINES)
def test_a_duplicate_is_reported_once_per_copy(tmp_path: Path, name: str) -> None:
    """The second source's bundle copied under many names: every copy repeats the quote
    the agreement and the supply of the first source, and each copy is one warning per
    fact, not one per pair of copies."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "invalid" / "duplicate-across-bundles" / "data", data)
    copies = 40
    bundle = data / "sources" / "src-b.yaml"
    for n in range(copies):
        shutil.copy(bundle, bundle.with_name(f"src-c{n:02d}.yaml"))
    found = [p for p in validate([str(data)], engine=name).problems if p.code == "G606"]
    assert len(found) == 3 * (copies + 1)
    assert {p.line for p in found} == {14, 22, 37}
    assert all(p.message.endswith(f"src-a.yaml:{p.line}") for p in found)
