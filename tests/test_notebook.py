"""examples/seed.ipynb runs from a fresh clone and answers its questions correctly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SOURCES = EXAMPLES.parent / "data" / "sources"


def _text(output: Any) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    return str(output.get("data", {}).get("text/plain", ""))


@pytest.fixture(scope="module")
def outputs(execute_notebook: Callable[[Path], list[Any]]) -> list[str]:
    """The text of every code cell's outputs after a full run."""
    code = execute_notebook(EXAMPLES / "seed.ipynb")
    return ["".join(_text(o) for o in cell.outputs) for cell in code]


def _modes() -> Counter[str]:
    """Statements per mode in the dataset, read from the bundles without factkit."""
    return Counter(
        statement["mode"]
        for path in SOURCES.rglob("*.yaml")
        for statement in yaml.safe_load(path.read_text(encoding="utf-8")).get("statements", [])
    )


def test_notebook_runs_without_errors(outputs: list[str]) -> None:
    assert f"'statements': {_modes().total()}" in outputs[0]
    assert all("Traceback" not in text for text in outputs)


def test_signatories(outputs: list[str]) -> None:
    text = "\n".join(outputs)
    assert (
        "Vladimir Putin signed 'agreement on a comprehensive strategic partnership' "
        "(signed) on behalf of RUS (Russian Federation)" in text
    )
    assert "Kim Jong-un signed" in text and "on behalf of PRK" in text


def test_supplies_and_denials(outputs: list[str]) -> None:
    text = "\n".join(outputs)
    assert "denied: China -> Russian Federation: weapons" in text
    assert text.count("denied: ") == 1
    assert "3.B" in text and "4.B" in text  # CHPL tiers of optics and machine tools


def test_statement_modes_and_grouping_sizes(outputs: list[str]) -> None:
    text = "\n".join(outputs)
    assert "Ukraine Defense Contact Group: 50, 0 members named" in text
    assert "in Switzerland (June 2024): about 100" in text
    assert "size not given, 4 members named" in text
    for mode, count in _modes().items():
        assert any(mode in line and f" {count} " in line for line in text.splitlines())
