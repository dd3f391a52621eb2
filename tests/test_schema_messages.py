"""A format problem's example is one of the field's own kind."""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.checker import run

DATA = Path(__file__).resolve().parents[1] / "data"
BUNDLE = Path("sources/2024/censor-2024-06-20-russia-coalition.yaml")


def test_a_bad_fact_id_is_explained_with_a_fact_id(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = data / BUNDLE
    path.write_text(
        path.read_text(encoding="utf-8").replace("- id: st-4", "- id: St_4", 1), encoding="utf-8"
    )
    problems = run([str(data)]).report.problems  # and the references to st-4 break
    [problem] = [p for p in problems if p.code == "S105"]
    assert problem.message.endswith("('st-1')"), problem.message
    assert "vladimir-putin" not in problem.message
