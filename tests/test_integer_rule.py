"""An integer field written as a float is refused at its line, never exported as null.

JSON Schema calls 50.0 an integer; the tables take only ints. One rule
(`toolkit.parsers.numbers`) decides for the schema check and every flattener, in YAML,
JSON, JSONL and the large-file JSONL path; these tests hold every format to it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

import toolkit.parsers.fast_lane as fast_lane
from toolkit.checker import run
from toolkit.parsers.numbers import flushes_to_zero, is_integer, non_integers

SEED = Path(__file__).resolve().parent.parent / "data"
BUNDLE = SEED / "sources/2024/censor-2024-06-20-russia-coalition.yaml"
SIZE, QTY = "__SIZE__", "__QTY__"


def _bundle() -> dict[str, object]:
    """The seed bundle with placeholders for alignment al-2's size and a quantity."""
    value = yaml.safe_load(BUNDLE.read_text(encoding="utf-8"))
    for alignment in value["alignments"]:
        if alignment["id"] == "al-2":
            alignment["size"]["value"] = SIZE
    value["supplies"][1]["items"][0]["quantity"] = {"value": QTY, "unit": "shipments"}
    return value


def _write(folder: Path, form: str, size: str, qty: str) -> tuple[Path, int, int]:
    """The seed dataset with the bundle in `form`; the lines of the two tokens."""
    shutil.copytree(SEED, folder, ignore=shutil.ignore_patterns("sources"))
    value = _bundle()
    if form == "yaml":
        text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=1000)
    elif form == "json":
        text = json.dumps(value, ensure_ascii=False, indent=2)
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"
    text = text.replace(f"'{SIZE}'", SIZE).replace(f'"{SIZE}"', SIZE)
    text = text.replace(f"'{QTY}'", QTY).replace(f'"{QTY}"', QTY)
    lines = text.splitlines()
    size_line = next(i for i, line in enumerate(lines, 1) if SIZE in line)
    qty_line = next(i for i, line in enumerate(lines, 1) if QTY in line)
    text = text.replace(SIZE, size).replace(QTY, qty)
    path = folder / "sources" / "2024" / f"bundle.{form}"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path, size_line, qty_line


def _refused(folder: Path, form: str, size: str, qty: str) -> None:
    _, size_line, qty_line = _write(folder, form, size, qty)
    result = run([str(folder)])
    found = {(p.code, p.line, p.pointer) for p in result.report.problems}
    assert ("S103", size_line, "/alignments/1/size/value") in found, found
    assert ("S103", qty_line, "/supplies/1/items/0/quantity/value") in found, found
    assert result.report.errors


@pytest.mark.parametrize("form", ["yaml", "json", "jsonl"])
@pytest.mark.parametrize("token", ["50.0", "5e1", "1e18", "1e19", "5.0E+1"])
def test_an_integer_written_as_a_float_is_refused_at_its_line(
    tmp_path: Path, form: str, token: str
) -> None:
    _refused(tmp_path / "data", form, token, token)


def test_an_integer_written_as_a_float_is_refused_on_the_large_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_lane.FastLane, "wanted", staticmethod(lambda sizes: True))
    _refused(tmp_path / "data", "jsonl", "50.0", "1e18")


@pytest.mark.parametrize("form", ["yaml", "json", "jsonl"])
def test_an_integer_written_as_an_integer_is_exported_exactly(tmp_path: Path, form: str) -> None:
    _write(tmp_path / "data", form, "50", "1000000000000000000")
    result = run([str(tmp_path / "data")])
    assert not result.report.errors, result.report.problems
    sizes = result.frames.tables["alignments"]["size_value"].to_list()
    assert 50 in sizes
    quantities = result.frames.tables["supply_items"]["quantity_value"].to_list()
    assert 10**18 in quantities


@pytest.mark.parametrize("form", ["yaml", "json", "jsonl"])
def test_a_number_that_underflows_to_zero_is_refused(tmp_path: Path, form: str) -> None:
    path, _, _ = _write(tmp_path / "data", form, "50", "7")
    text = path.read_text(encoding="utf-8")
    key = "confidence: 1" if form == "yaml" else '"confidence": 1' if form == "json" else None
    if key is None:
        text = text.replace('"confidence":1', '"confidence":1e-400', 1)
    else:
        text = text.replace(key, key + "e-400", 1)
    path.write_text(text, encoding="utf-8")
    codes = [p.code for p in run([str(tmp_path / "data")]).report.problems]
    assert "P018" in codes


def test_the_rule_itself() -> None:
    assert is_integer(50) and not is_integer(50.0) and not is_integer(True)
    assert flushes_to_zero("1e-400", 0.0) and not flushes_to_zero("0.0e5", 0.0)
    assert not flushes_to_zero("1e-300", 1e-300)
    plan = [("alignments", None, (("size", "value"),))]
    value = {"alignments": [{"size": {"value": 5}}, {"size": {"value": 5.0}}, "x"]}
    assert list(non_integers(value, plan)) == [("/alignments/1/size/value", 5.0)]
