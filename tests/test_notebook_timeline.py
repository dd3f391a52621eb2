"""examples/treaty-timeline.ipynb runs and plots the treaty's steps as the data has them."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TREATY = "censor-2024-06-20-russia-coalition/ag-1"


def _exports() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("factkit-timeline-*"))


@pytest.fixture(scope="module")
def run(execute_notebook: Callable[[Path], list[Any]]) -> tuple[list[Any], set[Path]]:
    """The notebook's code cells after a full run, and the temporary exports it left behind."""
    before = _exports()
    code = execute_notebook(EXAMPLES / "treaty-timeline.ipynb")
    return code, _exports() - before


@pytest.fixture(scope="module")
def cells(run: tuple[list[Any], set[Path]]) -> list[Any]:
    return run[0]


def _text(cell: Any) -> str:
    parts = []
    for output in cell.outputs:
        if output.get("output_type") == "stream":
            parts.append(str(output.get("text", "")))
        else:
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "".join(parts)


def _plotted(cells: list[Any]) -> dict[tuple[str, str, str], int]:
    """(date, party, action) -> number of reports, as the last cell prints the plotted table."""
    rows = {}
    for line in _text(cells[-1]).splitlines():
        when, party, action, reports = line.split("\t")
        rows[(when, party, action)] = int(reports)
    return rows


def _in_the_data() -> dict[tuple[str, str, str], int]:
    """The same table read straight from the bundles' YAML, without factkit."""
    agreements: dict[str, dict[str, Any]] = {}
    for path in sorted((ROOT / "data" / "sources").rglob("*.yaml")):
        bundle = yaml.safe_load(path.read_text(encoding="utf-8"))
        source = bundle["source"]["id"]
        for agreement in bundle.get("agreements", []):
            agreements[f"{source}/{agreement['id']}"] = agreement | {"source": source}

    def first(fact_id: str) -> str:
        seen = set()
        while agreements[fact_id].get("same_as") and fact_id not in seen:
            seen.add(fact_id)
            fact_id = agreements[fact_id]["same_as"]
        return fact_id

    sources: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for fact_id, agreement in agreements.items():
        if first(fact_id) != TREATY:
            continue
        for action in agreement.get("actions", []):
            if "date" in action:
                key = (action["date"], action.get("party", "-"), action["action"])
                sources[key].add(agreement["source"])
    return {key: len(found) for key, found in sources.items()}


def test_notebook_runs_and_draws_a_plot(cells: list[Any]) -> None:
    assert all("Traceback" not in _text(cell) for cell in cells)
    images = [o for cell in cells for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1


def test_plotted_steps_are_the_data_steps(cells: list[Any]) -> None:
    plotted = _plotted(cells)
    assert plotted == _in_the_data()
    # each party's own steps, as the reports date them
    assert ("2024-11-06", "RUS", "chamber_approval") in plotted
    assert ("2024-10-24", "RUS", "chamber_approval") in plotted
    assert ("2024-11-09", "RUS", "ratification_law_signed") in plotted
    assert ("2024-11-11", "PRK", "ratification_law_signed") in plotted
    assert plotted[("2024-12-04", "RUS", "exchange_of_instruments")] >= 2
    assert ("2024-12-04", "-", "entry_into_force") in plotted


def test_no_export_is_left_behind(run: tuple[list[Any], set[Path]]) -> None:
    assert run[1] == set()
    assert not (EXAMPLES / "dist").exists()
