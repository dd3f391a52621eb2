"""A value the schema rejected is reported once; other mistakes of its record still are."""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.checker import validate

CASE = Path(__file__).resolve().parents[1] / "fixtures" / "invalid" / "speakers-shape-reported-once"


def _codes(tmp_path: Path, old: str, new: str) -> list[str]:
    data = tmp_path / "data"
    shutil.copytree(CASE / "data", data)
    bundle = data / "sources" / "src-a.yaml"
    text = bundle.read_text(encoding="utf-8")
    assert old in text
    bundle.write_text(text.replace(old, new, 1), encoding="utf-8")
    return sorted(p.code for p in validate([str(data)]).problems)


def test_a_rejected_speaker_is_one_error(tmp_path: Path) -> None:
    assert _codes(tmp_path, "speakers: jane-doe", "speakers: jane-doe") == ["S103"]


def test_a_badly_formed_speaker_is_not_also_unknown(tmp_path: Path) -> None:
    # 'Jane Doe' is no actor id (S105); that it names no actor (R301) is the same mistake
    assert _codes(tmp_path, "speakers: jane-doe", "speakers: [Jane Doe]") == ["S105"]


def test_another_mistake_of_the_same_record_is_still_reported(tmp_path: Path) -> None:
    # the statement's `about` is rejected, and it has no speaker: both are reported
    codes = _codes(tmp_path, "speakers: jane-doe", "about: RUS")
    assert codes.count("S103") == 1 and "C507" in codes and "G608" in codes


def test_a_rejected_text_path_is_not_also_a_path_outside(tmp_path: Path) -> None:
    # a list where the text copy's path is expected: its S103 (beside the case's own
    # rejected speaker), and no X701 about what stands in for the path
    data = tmp_path / "data"
    shutil.copytree(CASE / "data", data)
    bundle = data / "sources" / "src-a.yaml"
    text = bundle.read_text(encoding="utf-8")
    bundle.write_text(text.replace("  text: ../texts/src-a.txt", "  text: [../texts/src-a.txt]"))
    problems = validate([str(data)]).problems
    assert sorted((p.code, p.pointer) for p in problems) == [
        ("S103", "/source/text"),
        ("S103", "/statements/0/speakers"),
    ]
