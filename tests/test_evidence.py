"""Evidence and provenance: seed quotes ground, offsets slice the text, and the release
export leaves out what nobody may rely on yet."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from toolkit import checker
from toolkit.checker import validate
from toolkit.export import assemble, export
from toolkit.grounding import normalize

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "sources" / "2024" / "censor-2024-06-20-russia-coalition.yaml"
SEED_TEXT = ROOT / "data" / "texts" / "censor-2024-06-20-russia-coalition.txt"


def _seed_quotes() -> list[tuple[str, str]]:
    bundle = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return [(s["id"], s["text"]) for s in bundle["statements"] if s["mode"] != "paraphrase"]


@pytest.mark.parametrize("statement,quote", _seed_quotes(), ids=[q[0] for q in _seed_quotes()])
def test_changing_one_word_of_a_seed_quote_fails_at_its_line(
    tmp_path: Path, statement: str, quote: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    bundle = data / SEED.relative_to(ROOT / "data")
    words = quote.split(" ")
    middle = len(words) // 2
    changed = " ".join([*words[:middle], "zebra", *words[middle + 1 :]])
    text = bundle.read_text(encoding="utf-8")
    assert text.count(quote) >= 1
    lines = text.splitlines()
    line = next(i for i, ln in enumerate(lines, 1) if "text:" in ln and quote[:40] in ln)
    lines[line - 1] = lines[line - 1].replace(quote, changed)
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = validate([str(data)])
    hits = [p for p in report.problems if p.code == "G602"]
    assert [p.line for p in hits] == [line]
    hint = hits[0].hint or ""
    assert "closest passage" in hint and words[middle].strip(".,") in hint


def test_seed_offsets_slice_the_text_back(tmp_path: Path) -> None:
    result = export([str(ROOT / "data")], tmp_path / "out", formats=["parquet"])
    assert result.written
    text = SEED_TEXT.read_text(encoding="utf-8")
    for table in ("statements", "agreements", "supplies", "alignments", "events"):
        frame = pl.read_parquet(tmp_path / "out" / f"{table}.parquet").filter(
            pl.col("source_id") == SEED.stem
        )
        assert frame["evidence_start"].null_count() == 0
        for start, end, evidence in frame.select(
            "evidence_start", "evidence_end", "evidence"
        ).iter_rows():
            assert normalize(text[start:end]) == normalize(evidence)


def test_denied_supply_stays_denied_in_every_format(tmp_path: Path) -> None:
    export([str(ROOT / "data")], tmp_path / "out")
    parquet = pl.read_parquet(tmp_path / "out" / "supplies.parquet")
    csv = pl.read_csv(tmp_path / "out" / "supplies.csv")
    for frame in (parquet, csv):
        denied = frame.filter(pl.col("polarity").cast(pl.String) == "denied")
        assert denied["local_id"].to_list() == ["sp-1"]


def _machine_dataset(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "fixtures" / "valid" / "minimal" / "data", data)
    bundle_path = data / "sources" / "src-a.yaml"
    bundle = yaml.safe_load(bundle_path.read_text(encoding="utf-8"))
    bundle["extraction"].update(method="model", model="extractor-1", review="unreviewed")
    evidence = '"We will send the guns," said Jane Doe.'
    for section in ("statements", "agreements", "supplies", "alignments", "events"):
        for fact in bundle[section]:
            fact.setdefault("evidence", evidence)
            fact["confidence"] = 0.7
    bundle["agreements"][0]["review"] = "accepted"
    bundle["events"][0]["review"] = "rejected"
    bundle_path.write_text(yaml.safe_dump(bundle, sort_keys=False), encoding="utf-8")
    return data


def test_release_leaves_out_unreviewed_and_rejected_facts(tmp_path: Path) -> None:
    data = _machine_dataset(tmp_path)
    assert validate([str(data)]).errors == 0
    result = export([str(data)], tmp_path / "out", formats=["parquet"])
    assert result.written
    assert result.tables["agreements"] == 1  # accepted
    assert result.tables["agreement_parties"] == 3
    for table in ("statements", "supplies", "alignments", "events"):
        assert result.tables[table] == 0
    assert result.tables["supply_items"] == 0 and result.tables["alignment_members"] == 0
    assert result.left_out["events"] == {"rejected": 1}
    assert result.left_out["statements"] == {"unreviewed machine extraction": 1}
    meta = pl.read_parquet_metadata(tmp_path / "out" / "statements.parquet")
    assert "left out" in meta["factkit:release"]


@pytest.mark.parametrize("include_unreviewed", [False, True])
def test_only_tables_release_changed_are_joined_with_their_places(
    tmp_path: Path, include_unreviewed: bool
) -> None:
    """A table release kept whole is typed straight from its rows (`Plan.whole`); one it
    left rows out of, or whose parent lost rows, is joined with the places it kept."""
    data = _machine_dataset(tmp_path)
    with checker.run([str(data)]) as done:
        plan = assemble.plan(done.model, done.frames.tables, include_unreviewed=include_unreviewed)
    assert "events" not in plan.whole  # rejected: never exported
    assert ("statements" in plan.whole) is include_unreviewed
    assert ("supply_items" in plan.whole) is include_unreviewed  # follows its supply
    assert {"agreements", "agreement_parties"} <= plan.whole


def test_include_unreviewed_keeps_them_marked(tmp_path: Path) -> None:
    data = _machine_dataset(tmp_path)
    result = export([str(data)], tmp_path / "out", formats=["parquet"], include_unreviewed=True)
    assert result.tables["statements"] == 1 and result.tables["supplies"] == 1
    assert result.tables["events"] == 0  # rejected facts are never exported
    statements = pl.read_parquet(tmp_path / "out" / "statements.parquet")
    assert statements["review"].cast(pl.String).to_list() == ["unreviewed"]
    assert result.left_out == {"events": {"rejected": 1}}


@pytest.mark.parametrize("batch", [1, 2, 4096])
def test_evidence_offsets_count_characters_in_any_text(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offsets are characters, as Python slices: the byte offset where a text is ASCII,
    counted (a batch of spans at a time) where it is not; spans not in their text have none."""
    import polars as pl

    from toolkit import grounding

    monkeypatch.setattr(grounding, "SPAN_ROWS", batch)
    texts = {
        0: "Plain words, plain words again.",
        1: "“Curly” quotes — and dashes: the “same” words.",
        2: "Emoji 🙂 first, then words; then 🙂 words.",
    }
    spans = [
        (0, "/a", "plain words"),
        (1, "/b", "the “same” words"),
        (2, "/c", "words"),
        (1, "/d", "dashes"),
        (0, "/e", "not there"),
        (2, "/f", "then 🙂 words"),
        (1, "/g", "“Curly”"),
    ]
    frame = pl.DataFrame(
        {
            "table": ["statements"] * len(spans),
            "_doc": [d for d, _, _ in spans],
            "_ptr": [p for _, p, _ in spans],
            "span": [s for _, _, s in spans],
        },
        schema={"table": pl.String, "_doc": pl.UInt32, "_ptr": pl.String, "span": pl.String},
    )
    text_frame = pl.DataFrame(
        {"_doc": list(texts), "source_text": list(texts.values())},
        schema={"_doc": pl.UInt32, "source_text": pl.String},
    )
    found = grounding._exact_offsets(frame, text_frame)
    expected = [
        (p, texts[d].find(s), texts[d].find(s) + len(s))
        for d, p, s in spans
        if texts[d].find(s) >= 0
    ]
    assert found.select("_ptr", "evidence_start", "evidence_end").rows() == expected
