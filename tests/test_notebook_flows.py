"""examples/supply-flows.ipynb runs, and its pictures draw exactly the data's flows and groupings.

The notebook lists what its figures show from their arrows and markers (`gid`s); this
test derives the same list from its own export of the dataset (conftest's `seed_export`)
and compares.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import toolkit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _text(output: Any) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    return str(output.get("data", {}).get("text/plain", ""))


@pytest.fixture(scope="module")
def run(execute_notebook: Callable[[Path], list[Any]]) -> tuple[list[str], list[Any]]:
    """The text of every code cell's outputs after a full run, and every output."""
    pytest.importorskip("matplotlib")
    code = execute_notebook(EXAMPLES / "supply-flows.ipynb")
    texts = ["".join(_text(o) for o in cell.outputs) for cell in code]
    return texts, [o for cell in code for o in cell.outputs]


@pytest.fixture(scope="module")
def dataset(seed_export: tuple[Any, Path]) -> toolkit.Dataset:
    """The dataset's export (conftest's `seed_export`), loaded."""
    return toolkit.load(seed_export[1])


def _listed(texts: list[str], prefix: str) -> list[str]:
    lines = "\n".join(texts).splitlines()
    return [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]


def test_the_flow_arrows_are_the_supplies(
    run: tuple[list[str], list[Any]], dataset: toolkit.Dataset
) -> None:
    items = dataset["supply_items"].sort("supply_id", "position")
    expected = []
    for supply in dataset["supplies"].iter_rows(named=True):
        own = items.filter(pl.col("supply_id") == supply["id"])["category"].cast(pl.String)
        fields = [supply["id"], supply["supplier"], supply["recipient"], supply["polarity"]]
        expected.append("|".join([*fields, ",".join(own.to_list())]))
    drawn = _listed(run[0], "flow: ")
    assert drawn == sorted(expected)
    denied = [d for d in drawn if d.split("|")[3] == "denied"]
    assert len(denied) == 1 and denied[0].endswith("|CHN|RUS|denied|weapons")


def test_the_grouping_markers_are_the_members(
    run: tuple[list[str], list[Any]], dataset: toolkit.Dataset
) -> None:
    alignments = dataset["alignments"]
    members = dataset["alignment_members"].join(
        alignments.select("id", "grouping"), left_on="alignment_id", right_on="id"
    )
    expected = [f"{g}|{a}|{d}" for g, a, d in members.select("grouping", "actor", "degree").rows()]
    expected += [
        f"{g}|{leader}|leader"
        for g, leader in alignments.select("grouping", "led_by").rows()
        if leader is not None
    ]
    assert _listed(run[0], "member: ") == sorted(expected)
    assert "russia-partner-coalition-2024|CHN|partial" in expected


def test_the_figures_are_drawn(run: tuple[list[str], list[Any]]) -> None:
    images = [o for o in run[1] if "image/png" in o.get("data", {})]
    assert len(images) == 2
    assert all("Traceback" not in text for text in run[0])
