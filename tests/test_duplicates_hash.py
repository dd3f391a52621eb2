"""G606 groups facts on a hash of their key (`Engine.with_hash`) and compares whole keys
only for the pairs it finds: the hook hashes alike within an engine, to Int64, and a hash
shared by different keys (forced here: every key alike, or by its length) still gives
the report that grouping on the keys gives, problem for problem."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl
import pytest

from toolkit.checker import validate
from toolkit.checks import duplicates
from toolkit.engines import open_engine
from toolkit.engines.base import ROW, Engine, engine_class

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ["polars", "duckdb", "spark"]


@contextmanager
def _engine(name: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    options = {"session": request.getfixturevalue("spark")} if name == "spark" else {}
    with open_engine(name, **options) as engine:
        yield engine


@pytest.mark.parametrize("name", ENGINES)
def test_equal_strings_hash_alike_to_int64(name: str, request: pytest.FixtureRequest) -> None:
    texts = ["a", "b", None, "a", "é" * 500, "b"]
    with _engine(name, request) as engine:
        engine.load({"t": pl.DataFrame({"k": texts}, schema={"k": pl.String})})
        out = engine.collect(engine.with_hash(engine.table("t"), "k", "_h")).sort(ROW)
    assert out.schema["_h"] == pl.Int64
    assert out["k"].to_list() == texts
    h = out["_h"].to_list()
    assert h[0] == h[3] and h[1] == h[5] and h[2] is None
    assert len({h[0], h[1], h[4]}) == 3


def _constant(self: Engine, frame: nw.LazyFrame[Any], column: str, alias: str) -> Any:
    return frame.with_columns(nw.lit(7, nw.Int64()).alias(alias))


def _by_length(self: Engine, frame: nw.LazyFrame[Any], column: str, alias: str) -> Any:
    return frame.with_columns((nw.col(column).str.len_chars() % 3).cast(nw.Int64()).alias(alias))


@pytest.fixture(scope="module")
def duplicated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The duplicate fixture with its second source copied under more names: quotes, a
    supply and an agreement repeated from several sources."""
    data = tmp_path_factory.mktemp("dup") / "data"
    shutil.copytree(ROOT / "fixtures" / "invalid" / "duplicate-across-bundles" / "data", data)
    bundle = data / "sources" / "src-b.yaml"
    for n in range(3):
        shutil.copy(bundle, bundle.with_name(f"src-c{n}.yaml"))
    return data


# not on Spark: two runs over the dataset there take minutes; the hook is the only part
# of the check that differs between engines, and is tested above
@pytest.mark.parametrize("hashed", [_constant, _by_length], ids=["constant", "length"])
@pytest.mark.parametrize("name", ["polars", "duckdb"])
def test_a_shared_hash_gives_the_report_of_the_keys(
    name: str,
    hashed: Any,
    duplicated: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # and the shipped dataset, whose duplicates are linked (same_as)
    paths = [str(duplicated), str(ROOT / "data")]
    grouped: list[str] = []
    pairs = duplicates._pairs

    def spied(facts: nw.LazyFrame[Any], by: str) -> nw.LazyFrame[Any]:
        grouped.append(by)
        return pairs(facts, by)

    monkeypatch.setattr(duplicates, "_pairs", spied)
    with _engine(name, request) as engine:
        expected = [p.to_dict() for p in validate(paths, engine=engine).problems]
    assert grouped == ["_hash"] * 3  # no collision: keys compared for the pairs alone
    assert sum(p["code"] == "G606" for p in expected) == 12
    grouped.clear()
    monkeypatch.setattr(engine_class(name), "with_hash", hashed)
    with _engine(name, request) as engine:
        found = [p.to_dict() for p in validate(paths, engine=engine).problems]
    assert "_key" in grouped  # the colliding facts were grouped again on their keys
    assert found == expected
