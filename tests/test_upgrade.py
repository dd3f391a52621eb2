"""`factkit upgrade`: format-1 bundles become format 2 without losing or inventing a fact.

The format-1 inputs and their format-1 CSV exports are snapshots taken before format 2
(tests/data/v1/README.md). Each is upgraded in a temporary copy, exported with format 2,
and the new tables are folded back into the format-1 columns: the two must be equal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from toolkit.checker import validate
from toolkit.cli.main import main
from toolkit.upgrade import upgrade_bundle, upgrade_bytes

V1 = Path(__file__).resolve().parent / "data" / "v1"
CASES = ["seed", "minimal", "all-dates-precisions", "curly-quotes-in-text"]
CASES.append("grounding-after-normalisation")
ROOT = Path(__file__).resolve().parents[1]


def _read(folder: Path, table: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{table}.csv", infer_schema=False)


def _fold(out: Path) -> dict[str, pl.DataFrame]:
    """The format-2 export in format 1's columns (what the upgrade moved, moved back)."""
    statements = _read(out, "statements")
    speakers = statements["speakers"].map_elements(
        lambda v: json.loads(v)[0] if v else None, return_dtype=pl.String
    )
    statements = statements.with_columns(speakers.alias("speaker"))
    supplies = _read(out, "supplies").with_columns(
        pl.col("asserted_by").map_elements(lambda v: json.loads(v)[0], return_dtype=pl.String)
    )
    alignments = _read(out, "alignments").with_columns(
        pl.col("asserted_by").map_elements(lambda v: json.loads(v)[0], return_dtype=pl.String)
    )
    steps = _read(out, "agreement_steps")
    signed = steps.filter(pl.col("action") == "signature").select(
        pl.col("agreement_id").alias("id"),
        pl.col("date").alias("signed_on"),
        pl.col("date_precision").alias("signed_on_precision"),
        "place_name",
        "place_country",
    )
    in_force = steps.filter(pl.col("action") == "entry_into_force").select(
        pl.col("agreement_id").alias("id"),
        pl.col("date").alias("in_force_on"),
        pl.col("date_precision").alias("in_force_on_precision"),
    )
    provisions = (
        _read(out, "agreement_obligations")
        .group_by("agreement_id", maintain_order=True)
        .agg(pl.col("code"))
        .select(
            pl.col("agreement_id").alias("id"),
            pl.col("code")
            .map_elements(lambda v: json.dumps(list(v)), return_dtype=pl.String)
            .alias("provisions"),
        )
    )
    agreements = (
        _read(out, "agreements")
        .join(signed, on="id", how="left")
        .join(in_force, on="id", how="left")
        .join(provisions, on="id", how="left")
    )
    return {
        "statements": statements,
        "supplies": supplies,
        "alignments": alignments,
        "agreements": agreements,
        **{
            name: _read(out, name)
            for name in ("sources", "agreement_parties", "supply_items", "alignment_members")
        },
        "events": _read(out, "events"),
    }


@pytest.mark.parametrize("case", CASES)
def test_upgrade_keeps_every_exported_fact(case: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(V1 / case, data)
    assert validate([str(data)]).errors > 0  # format 1: S109
    assert main(["upgrade", str(data)]) == 0
    assert validate([str(data)]).errors == 0
    out = tmp_path / "out"
    assert main(["export", str(data), "--out", str(out)]) == 0
    folded = _fold(out)
    for table, frame in folded.items():
        before = _read(V1 / "export" / case, table)
        after = frame.select(before.columns)
        assert after.equals(before), (case, table, after, before)


def test_upgrade_is_idempotent_and_check_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(V1 / "seed", data)
    bundle = next((data / "sources").rglob("*.yaml"))
    original = bundle.read_bytes()
    assert main(["upgrade", "--check", str(data)]) == 1
    assert bundle.read_bytes() == original
    assert main(["upgrade", str(data)]) == 0
    once = bundle.read_bytes()
    assert main(["upgrade", str(data)]) == 0
    assert bundle.read_bytes() == once
    assert main(["upgrade", "--check", str(data)]) == 0


def test_upgrade_keeps_comments_quoting_and_lines(tmp_path: Path) -> None:
    text = (
        "# a comment on top\n"
        "source:\n"
        "  id: s  # trailing comment\n"
        "agreements:\n"
        "  - id: ag-1\n"
        "    status: 'signed'\n"
        '    signed_on: "2024-06-19"\n'
        "    provisions:\n"
        "      - defense\n"
        "      - consultation\n"
        "    parties: [{actor: RUS, role: party}]\n"
        "statements:\n"
        "  - id: st-1\n"
        "    speaker: RUS  # who\n"
        "supplies:\n"
        "  - id: sp-1\n"
        "    asserted_by: st-1\n"
    )
    result = upgrade_bytes(text.encode(), tmp_path / "b.yaml")
    assert result.outcome == "upgraded" and result.text is not None
    lines = result.text.decode().splitlines()
    assert lines[0] == "# a comment on top"
    assert lines[1] == "format: 2"
    assert lines[3] == "  id: s  # trailing comment"
    assert lines[6] == "    status: 'signed'"
    assert lines[7] == '    actions: [{action: signature, date: "2024-06-19"}]'
    assert lines[9:11] == ["      - {code: defense}", "      - {code: consultation}"]
    assert lines[14] == "    speakers: [RUS] # who"  # the comment keeps its column where it can
    assert lines[17] == "    asserted_by: [st-1]"
    assert len(lines) == len(text.splitlines()) + 1
    again = upgrade_bytes(result.text, tmp_path / "b.yaml")
    assert again.outcome == "current"


def test_place_and_entry_into_force_become_actions() -> None:
    bundle = {
        "source": {"id": "s"},
        "agreements": [
            {
                "id": "ag-1",
                "signed_on": "2024-06-19",
                "place": {"name": "Pyongyang", "country": "PRK"},
                "in_force_on": "2024-12-04",
                "status": "in_force",
            }
        ],
    }
    assert upgrade_bundle(bundle)
    assert list(bundle) == ["format", "source", "agreements"]
    agreement = bundle["agreements"][0]
    assert list(agreement) == ["id", "actions", "status"]
    assert agreement["actions"] == [
        {
            "action": "signature",
            "date": "2024-06-19",
            "place": {"name": "Pyongyang", "country": "PRK"},
        },
        {"action": "entry_into_force", "date": "2024-12-04"},
    ]
    assert not upgrade_bundle(bundle)


def test_json_and_jsonl_keep_key_order_and_layout(tmp_path: Path) -> None:
    record = {"source": {"id": "s"}, "statements": [{"id": "st-1", "speaker": "RUS"}]}
    lines = json.dumps(record) + "\n{broken\n" + json.dumps(record) + "\n"
    result = upgrade_bytes(lines.encode(), tmp_path / "b.jsonl")
    assert result.text is not None
    first, broken, last, _ = result.text.decode().split("\n")
    assert broken == "{broken"
    assert first == last
    assert first.startswith('{"format": 2, "source": {"id": "s"}, "statements": [{"id": "st-1", ')
    assert '"speakers": ["RUS"]' in first
    whole = upgrade_bytes(json.dumps(record, indent=2).encode(), tmp_path / "b.json")
    assert whole.text is not None and whole.text.decode().startswith('{\n  "format": 2,\n')


def test_unreadable_files_are_left_alone(tmp_path: Path) -> None:
    text = b"source:\n  id: a\n  id: b\n"
    result = upgrade_bytes(text, tmp_path / "b.yaml")
    assert result.outcome == "skipped" and "P011" in result.reason


def test_every_fixture_is_format_2_or_unreadable() -> None:
    """The fixtures were upgraded; what is left in format 1 is what factkit cannot read
    (and the case that shows S109)."""
    for path in sorted((ROOT / "fixtures").rglob("sources/*")):
        if path.suffix not in (".yaml", ".json", ".jsonl") or not path.is_file():
            continue
        if "old-format" in path.parts:
            assert upgrade_bytes(path.read_bytes(), path).outcome == "upgraded"
            continue
        result = upgrade_bytes(path.read_bytes(), path)
        assert result.outcome in ("current", "skipped"), path


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(V1 / "minimal", data)
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "upgrade", "--check", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "would upgrade" in done.stdout


def test_a_format_1_jsonl_file_is_one_problem(tmp_path: Path) -> None:
    """Every line of an old JSONL file is format 1: S109 once, at its first line, and
    nothing else (no check runs on the old layout)."""
    data = tmp_path / "data"
    shutil.copytree(V1 / "minimal", data)
    source = next((data / "sources").glob("*.yaml"))
    bundle = yaml.safe_load(source.read_text(encoding="utf-8"))
    source.unlink()
    lines = []
    for i in range(3):
        bundle["source"]["id"] = f"src-{i}"
        bundle["source"].pop("text", None)
        lines.append(json.dumps(bundle))
    (data / "sources" / "old.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate([str(data)])
    assert [(p.code, p.line) for p in report.problems] == [("S109", 1)]
