"""A YAML or JSON file of millions of tiny values costs seconds and bounded memory: past
`max_values_per_file` it is refused at the value where the limit is passed (L008),
parsed once, its positions never all recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.checker import run
from toolkit.parsers.base import Limits

DATA = Path(__file__).resolve().parents[1] / "data"
LIMITS = Limits(max_values_per_file=1_000)


def _folder(tmp_path: Path, name: str, text: str) -> Path:
    data = tmp_path / "data"
    (data / "sources").mkdir(parents=True)
    (data / "sources" / name).write_text(text, encoding="utf-8")
    return data


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("list.yaml", "x: [" + ",".join(["1"] * 5000) + "]\n", 1),
        ("map.yaml", "".join(f"k{i:05d}: 1\n" for i in range(5000)), 500),
        ("list.json", '{"x": [' + ",".join(["1"] * 5000) + "]}\n", 1),
        ("map.json", "{" + ",".join(f'"k{i}": 1' for i in range(5000)) + "}\n", 1),
    ],
)
def test_a_file_of_too_many_tiny_values_is_refused_at_the_limit(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    data = _folder(tmp_path, name, text)
    problems = run([str(data)], limits=LIMITS).report.problems
    assert [(p.code, p.line) for p in problems] == [("L008", line)]
    assert "1000 values" in problems[0].message


def test_the_seed_bundle_is_far_within_the_value_limit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    assert not run([str(data)], limits=Limits(max_values_per_file=2_000)).report.problems
