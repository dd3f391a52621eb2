"""`factkit synth`: valid realistic data, deterministic, and breaks found where injected."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from toolkit.checker import validate
from toolkit.cli.main import main
from toolkit.export import export
from toolkit.synth import BREAKS, expected_path, synthesize, synthesize_yaml
from toolkit.synth.generator import KINDS


def _expected(path: Path) -> set[tuple[int, str, str]]:
    lines = expected_path(path).read_text(encoding="utf-8").splitlines()
    return {(e["line"], e["code"], e["pointer"]) for e in map(json.loads, lines)}


def test_clean_data_has_no_problem_at_all(tmp_path: Path) -> None:
    out = tmp_path / "bundles.jsonl"
    result = synthesize(out, 3000, seed=1)
    assert result.facts == 3000 and result.breaks == 0
    assert 250 <= result.bundles <= 380  # about ten facts per source
    report = validate([str(tmp_path)])
    assert report.problems == [], [p.to_dict() for p in report.problems[:5]]
    assert _expected(out) == set()


def test_every_fact_kind_every_script_and_machine_provenance(tmp_path: Path) -> None:
    out = tmp_path / "bundles.jsonl"
    synthesize(out, 1500, seed=2)
    bundles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    kinds = {k for b in bundles for k in KINDS if b.get(k)}
    assert kinds == set(KINDS)
    assert all(b["format"] == 2 for b in bundles)
    text = out.read_text(encoding="utf-8")
    assert any("\u0400" <= c <= "\u04ff" for c in text)  # Cyrillic
    assert any("\uac00" <= c <= "\ud7a3" for c in text)  # Hangul
    for bundle in bundles:
        assert bundle["extraction"]["method"] == "model" and bundle["extraction"]["model"]
        assert bundle["extraction"]["review"] == "accepted"
        for key in KINDS:
            for fact in bundle.get(key, ()):
                assert fact["evidence"] and 0 <= fact["confidence"] <= 1
        source = bundle["source"]
        body = (tmp_path / source["text"]).read_text(encoding="utf-8")
        assert all(f["evidence"] in body for f in bundle.get("statements", ()))


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "x.jsonl", tmp_path / "b" / "x.jsonl"
    a.parent.mkdir()
    b.parent.mkdir()
    synthesize(a, 400, seed=7, invalid_rate=0.2)
    synthesize(b, 400, seed=7, invalid_rate=0.2)
    assert a.read_bytes() == b.read_bytes()
    assert (a.parent / "actors" / "x.jsonl").read_bytes() == (
        b.parent / "actors" / "x.jsonl"
    ).read_bytes()
    assert expected_path(a).read_bytes() == expected_path(b).read_bytes()
    c = tmp_path / "c" / "x.jsonl"
    c.parent.mkdir()
    synthesize(c, 400, seed=8)
    assert a.read_bytes() != c.read_bytes()


FACT_KEYS = KINDS


def test_split_output_holds_the_same_bundles_and_breaks_are_found_per_file(
    tmp_path: Path,
) -> None:
    whole, split = tmp_path / "whole" / "x.jsonl", tmp_path / "split" / "x.jsonl"
    whole.parent.mkdir()
    split.parent.mkdir()
    one = synthesize(whole, 2000, seed=9, invalid_rate=0.1)
    parts = synthesize(split, 2000, seed=9, invalid_rate=0.1, facts_per_file=500)
    assert one.paths == (whole,) and not split.exists()
    assert [p.name for p in parts.paths] == [
        "x-0001.jsonl",
        "x-0002.jsonl",
        "x-0003.jsonl",
        "x-0004.jsonl",
    ]
    assert b"".join(p.read_bytes() for p in parts.paths) == whole.read_bytes()
    assert (parts.facts, parts.bundles, parts.breaks) == (one.facts, one.bundles, one.breaks)
    clean = synthesize(tmp_path / "clean.jsonl", 2000, seed=9, facts_per_file=500)
    for path in clean.paths[:-1]:  # a new file at the first bundle boundary past 500 facts
        bundles = map(json.loads, path.read_text(encoding="utf-8").splitlines())
        facts = sum(len(b.get(k, ())) for b in bundles for k in FACT_KEYS)
        assert 500 <= facts < 500 + 12
    entries = [json.loads(line) for line in expected_path(split).read_text().splitlines()]
    expected = {(e["file"], e["line"], e["code"], e["pointer"]) for e in entries}
    report = validate([str(split.parent)])
    found = {(Path(p.file).name, p.line, p.code, p.pointer) for p in report.problems}
    assert found == expected and len({e["file"] for e in entries}) > 1


def test_the_yaml_layout_validates_and_repeats_byte_for_byte(tmp_path: Path) -> None:
    a = synthesize_yaml(tmp_path / "a", 300, seed=6)
    synthesize_yaml(tmp_path / "b", 300, seed=6)
    files = sorted(p.relative_to(a.folder) for p in a.folder.rglob("*.yaml"))
    assert len(files) == a.bundles + a.actors
    for name in files:
        assert (a.folder / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    report = validate([str(a.folder)])
    assert report.problems == [], [p.to_dict() for p in report.problems[:5]]


def test_every_injected_break_is_reported_at_its_line(tmp_path: Path) -> None:
    out = tmp_path / "bundles.jsonl"
    result = synthesize(out, 4000, seed=3, invalid_rate=0.5)
    expected = _expected(out)
    assert len(expected) == result.breaks > 150
    names = {json.loads(line)["break"] for line in expected_path(out).read_text().splitlines()}
    assert names == set(BREAKS)  # every kind of break was drawn
    report = validate([str(tmp_path)])
    found = {(p.line, p.code, p.pointer) for p in report.problems}
    assert found == expected  # each break found at its line, and nothing else
    assert all(p.file.endswith("bundles.jsonl") for p in report.problems)


def test_the_export_carries_every_fact(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    synthesize(data / "bundles.jsonl", 800, seed=4)
    result = export([str(data)], tmp_path / "dist")
    assert result.written and not result.left_out
    facts = sum(result.tables[t] for t in KINDS)
    assert facts == 800
    statements = pl.read_parquet(tmp_path / "dist" / "statements.parquet")
    assert statements["evidence_start"].null_count() == 0  # every span grounds


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "s.jsonl"
    code = main(["synth", "--facts", "120", "--out", str(out), "--seed", "5"])
    assert code == 0 and out.is_file()
    assert "wrote 120 facts" in capsys.readouterr().out
    assert main(["validate", str(tmp_path), "--strict", "--quiet"]) == 0
    split = tmp_path / "split" / "t.jsonl"
    split.parent.mkdir()
    assert main(["synth", "--facts", "120", "--out", str(split), "--facts-per-file", "50"]) == 0
    said = capsys.readouterr().out
    assert "wrote 120 facts" in said and "3 files" in said and "t-0003.jsonl" in said
    assert main(["validate", str(split.parent), "--strict", "--quiet"]) == 0
    assert main(["synth", "--facts", "10", "--out", str(tmp_path / "s.json")]) == 2
    assert main(["synth", "--facts", "0", "--out", str(out)]) == 2
    assert main(["synth", "--facts", "5", "--out", str(out), "--invalid-rate", "2"]) == 2
