"""Entity resolution: blocking, scoring, judgements as data, clusters and disagreements."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from toolkit import checker
from toolkit.checker import validate
from toolkit.cli.main import main
from toolkit.export import export
from toolkit.model.model import load_model
from toolkit.resolve import Judgement, append_judgements, candidates
from toolkit.resolve.blocking import block
from toolkit.resolve.cluster import cluster_ids, components
from toolkit.resolve.disagree import disagreements, record_values
from toolkit.resolve.kinds import profiles
from toolkit.resolve.normalise import normalise

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
TREATY = FIXTURES / "valid" / "treaty-reports" / "data"
DISAGREEMENT = FIXTURES / "invalid" / "cluster-disagreement"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The treaty fixture without its judgements: nothing decided yet."""
    target = tmp_path / "data"
    shutil.copytree(TREATY, target)
    shutil.rmtree(target / "judgements")
    return target


def _normalised(*names: str) -> list[str]:
    frame = pl.DataFrame({"n": list(names)}).select(normalise(pl.col("n")))
    return frame["n"].to_list()


def test_spellings_of_one_name_normalise_alike() -> None:
    assert len(set(_normalised("Kim Jong-un", "KIM Jong Un", "Kim  Jong‐un", "Kim Jong Un"))) == 1
    treaty = _normalised(
        "Treaty on Comprehensive Strategic Partnership",
        "agreement on a comprehensive strategic partnership",
        "Comprehensive Strategic Partnership Pact",
    )
    assert len(set(treaty)) == 1


def test_blocking_never_produces_all_pairs() -> None:
    """Two hundred agreements between the same parties with the same words in their titles:
    the shared keys are too common to block on, so far fewer than all pairs are compared."""
    n = 200
    frame = pl.DataFrame(
        {
            "id": [f"src-{i}/ag-1" for i in range(n)],
            "table": ["agreements"] * n,
            "source_id": [f"src-{i}" for i in range(n)],
            "kind": ["treaty"] * n,
            "names": [[f"defence cooperation t{i // 4}"] for i in range(n)],
            "parties": [["PRK", "RUS"]] * n,
            "date": [f"{2000 + i % 20}" for i in range(n)],
            "place": [None] * n,
        }
    )
    pairs = block(frame, max_block=20)
    assert 0 < pairs.height < n * (n - 1) // 2 // 10
    assert pairs.filter(pl.col("left") >= pl.col("right")).is_empty()
    # the records sharing a rare title token are all paired
    assert pairs.filter((pl.col("left") == "src-0/ag-1") & (pl.col("right") == "src-1/ag-1")).height


def test_variant_titles_of_one_treaty_score_above_unrelated_ones(data: Path) -> None:
    run = checker.run([str(data)])
    found = candidates(run.model, run.frames.tables, min_score=0.0)
    score = {(r["left"], r["right"]): r["score"] for r in found.iter_rows(named=True)}
    same = [
        score[("kcna-2024-06-20/ag-1", "tass-2024-06-20/ag-1")],
        score[("kcna-2024-06-20/ag-1", "yonhap-2024-11-12/ag-1")],
    ]
    unrelated = score[("archive-2000-02-10/ag-1", "kcna-2024-06-20/ag-1")]
    assert min(same) > 0.9 > 0.6 > unrelated


def test_kim_spellings_pair_as_one_actor_and_no_false_pair_on_top(data: Path) -> None:
    run = checker.run([str(data)])
    found = candidates(run.model, run.frames.tables)  # the default threshold
    pairs = {(r["left"], r["right"]) for r in found.iter_rows(named=True)}
    assert ("kim-jong-un", "kim-jong-un-dprk") in pairs
    assert not {p for p in pairs if "kim-yo-jong" in p or "archive-2000-02-10/ag-1" in p}
    assert found.filter(pl.col("table") == "actors").height == 1


def test_judged_pairs_and_joined_clusters_are_not_proposed_again() -> None:
    run = checker.run([str(TREATY)])
    found = candidates(run.model, run.frames.tables)
    pairs = {(r["left"], r["right"]) for r in found.iter_rows(named=True)}
    assert ("kcna-2024-06-20/ag-1", "tass-2024-06-20/ag-1") not in pairs  # judged same
    assert ("kim-jong-un", "kim-jong-un-dprk") not in pairs
    assert ("kcna-2024-06-20/ev-1", "tass-2024-06-20/ev-1") not in pairs  # judged unsure
    # one proposal per pair of clusters: yonhap against the kcna/tass cluster once
    assert sum("yonhap-2024-11-12/ag-1" in p for p in pairs) == 1


def test_components_join_chains_in_both_directions() -> None:
    nodes = pl.Series(["a", "b", "c", "d", "e", "f"])
    links = pl.DataFrame({"left": ["c", "b", "e", "x"], "right": ["b", "a", "d", "f"]})
    found = dict(components(nodes, links).iter_rows())
    assert found == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "d", "f": "f"}


def test_clusters_come_from_same_as_and_judgements_alike(tmp_path: Path) -> None:
    """A same_as link and a 'same' judgement are one mechanism: a chain through both is
    one cluster, and the export counts the treaty once and lists every report of it."""
    data = tmp_path / "data"
    shutil.copytree(TREATY, data)
    path = data / "sources" / "yonhap-2024-11-12.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "    status: ratified\n", "    status: ratified\n    same_as: tass-2024-06-20/ag-1\n"
    )
    path.write_text(text, encoding="utf-8")
    # tass says 'ratified' on the day kcna says 'signed': a status is compared between
    # reports of one day, so this disagrees and yonhap's 'ratified' in November does not
    tass = data / "sources" / "tass-2024-06-20.yaml"
    text = tass.read_text(encoding="utf-8").replace("status: signed", "status: ratified")
    tass.write_text(text, encoding="utf-8")
    report = validate([str(data)])
    assert report.errors == 0, [p.to_dict() for p in report.problems]
    assert {p.code for p in report.problems} == {"C532"}  # signed here, ratified there
    result = export([str(data)], tmp_path / "dist")
    assert result.written
    agreements = pl.read_parquet(tmp_path / "dist" / "agreements.parquet")
    clusters = pl.read_parquet(tmp_path / "dist" / "clusters.parquet")
    assert agreements["cluster_id"].n_unique() == 2  # the 2024 treaty once, the 2000 one
    reports = clusters.filter(pl.col("cluster_id") == "kcna-2024-06-20/ag-1")
    assert sorted(reports["source_id"].to_list()) == [
        "kcna-2024-06-20",
        "tass-2024-06-20",
        "yonhap-2024-11-12",
    ]
    assert set(reports["members"].to_list()) == {3}
    actors = pl.read_parquet(tmp_path / "dist" / "actors.parquet")
    kim = actors.filter(pl.col("id").str.starts_with("kim-jong-un"))
    assert kim["cluster_id"].to_list() == ["kim-jong-un", "kim-jong-un"]
    disagreements = pl.read_parquet(tmp_path / "dist" / "disagreements.parquet")
    status = disagreements.filter(pl.col("field") == "status").sort("id")
    assert status.select("id", "value").rows() == [
        ("kcna-2024-06-20/ag-1", "signed"),
        ("tass-2024-06-20/ag-1", "ratified"),
    ]


def test_judgements_round_trip_through_files_and_are_validated(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(TREATY, data)
    shutil.rmtree(data / "judgements")
    made = [
        Judgement("kim-jong-un", "kim-jong-un-dprk", "same", "ana", "2026-12-07T06:00:00Z", 1.0),
        Judgement(
            "archive-2000-02-10/ag-1",
            "kcna-2024-06-20/ag-1",
            "different",
            "ana",
            "2026-12-07T06:01:00Z",
            note="the 2000 treaty",
        ),
    ]
    target = data / "judgements" / "ana.jsonl"
    append_judgements(target, made[:1])
    append_judgements(target, made[1:])
    run = checker.run([str(data)])
    assert run.report.ok and not run.report.problems
    table = run.frames.tables["judgements"].sort("line")
    assert table.select("left", "right", "judgement", "by", "decided_at").rows() == [
        (j.left, j.right, j.judgement, j.by, j.decided_at) for j in made
    ]
    assert table["note"].to_list() == [None, "the 2000 treaty"]
    assert table["file"].to_list() == ["judgements/ana.jsonl"] * 2
    # a broken judgement is located like any other record
    with open(target, "a", encoding="utf-8") as handle:
        handle.write('{"left": "kim-jong-un", "right": "kim-jong-un-dprk", "judgement": "no",')
        handle.write(' "by": "ana", "decided_at": "today"}\n')
    problems = validate([str(data)]).problems
    located = {(p.code, Path(p.file).name, p.line, p.pointer) for p in problems}
    assert ("S104", "ana.jsonl", 3, "/judgement") in located
    assert ("S105", "ana.jsonl", 3, "/decided_at") in located


def test_disagreement_warns_at_both_reports() -> None:
    report = validate([str(DISAGREEMENT / "data")])
    assert report.errors == 0
    warnings = [p for p in report.problems if p.code == "C532"]
    where = {(Path(p.file).name, p.line) for p in warnings}
    # the signature dates (line 17); the statuses (line 16) are reports of different days
    assert where == {("kcna-2024-06-20.yaml", 17), ("yonhap-2024-11-12.yaml", 17)}
    kcna = next(p for p in warnings if "kcna" in p.file and p.line == 17)
    assert "signature date is '2024-06-19' here but '2024-06-20'" in kcna.message
    assert "yonhap-2024-11-12.yaml:17" in kcna.message


def test_compatible_date_precisions_are_no_disagreement() -> None:
    """kcna says 2024-06-19, tass 2024-06: the fixture judges them the same, silently."""
    report = validate([str(TREATY)])
    assert not report.problems


def test_review_on_stdin_writes_judgements(
    data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s\ns\nwhat\nd\nq\n"))
    assert main(["xref", str(data), "--review", "--by", "Ana Reviewer"]) == 0
    out = capsys.readouterr().out
    assert "Treaty on Comprehensive Strategic Partnership" in out
    assert "please answer" in out
    written = [
        yaml.safe_load(line)
        for line in (data / "judgements" / "ana-reviewer.jsonl").read_text().splitlines()
    ]
    assert [(j["left"], j["right"], j["judgement"]) for j in written] == [
        ("kcna-2024-06-20/ag-1", "tass-2024-06-20/ag-1", "same"),
        ("kim-jong-un", "kim-jong-un-dprk", "same"),
        ("kcna-2024-06-20/ag-1", "yonhap-2024-11-12/ag-1", "different"),
    ]
    assert all(j["by"] == "Ana Reviewer" for j in written)
    assert validate([str(data)]).ok


def test_xref_out_writes_candidates(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "candidates.jsonl"
    assert main(["xref", str(data), "--out", str(out), "-q"]) == 0
    rows = [yaml.safe_load(line) for line in out.read_text().splitlines()]
    assert rows[0]["score"] >= rows[-1]["score"]
    assert {"left", "right", "table", "name", "parties", "date", "place", "score"} <= set(rows[0])


def test_xref_removes_its_run_folder_at_once(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's staged parts go when xref returns, while the run itself is still alive."""
    monkeypatch.setenv("FACTKIT_WORK_DIR", str(tmp_path / "work"))
    runs: list[checker.Run] = []
    original = checker.run

    def kept(paths: list[str]) -> checker.Run:
        runs.append(original(paths))
        return runs[-1]

    monkeypatch.setattr(checker, "run", kept)
    assert main(["xref", str(data), "-q"]) == 0
    assert len(runs) == 1 and (tmp_path / "work").is_dir()
    assert not list((tmp_path / "work").iterdir())


def test_xref_on_invalid_data_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["xref", str(FIXTURES / "invalid" / "judgement-errors" / "data")]) == 1
    assert "errors" in capsys.readouterr().err


def test_a_kind_is_one_entry() -> None:
    """Format 2's deployments resolve once the table exists; today's model has none."""
    model = load_model()
    run = checker.run([str(TREATY)])
    tables = set(profiles(model, run.frames.tables)["table"].unique().to_list())
    assert tables == {"agreements", "events", "actors"}


def test_a_same_judgement_settles_a_possible_duplicate(tmp_path: Path) -> None:
    """G606 asks for a link; a 'same' judgement is one, as same_as is."""
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "invalid" / "duplicate-across-bundles" / "data", data)
    before = {p.pointer for p in validate([str(data)]).problems if p.code == "G606"}
    assert "/supplies/0" in before
    (data / "judgements").mkdir()
    append_judgements(
        data / "judgements" / "ana.jsonl",
        [Judgement("src-a/sp-1", "src-b/sp-1", "same", "ana", "2026-12-07T06:00:00Z")],
    )
    after = {p.pointer for p in validate([str(data)]).problems if p.code == "G606"}
    assert after == before - {"/supplies/0"}


def test_steps_are_compared_per_action_party_and_actor(tmp_path: Path) -> None:
    """The shipped treaty's reports give the Duma's vote (October) and the Federation
    Council's (November) as two chamber_approval steps of Russia: two steps, no
    disagreement. Moving one report's Duma vote to September is one."""
    root = Path(__file__).resolve().parents[1] / "data"
    assert not [p for p in validate([str(root)]).problems if p.code == "C532"]
    data = tmp_path / "data"
    shutil.copytree(root, data)
    path = data / "sources" / "2024" / "businesslive-reuters-2024-11-10-putin-signs.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count('date: "2024-10"\n') == 1
    path.write_text(text.replace('date: "2024-10"\n', 'date: "2024-09"\n'), encoding="utf-8")
    warnings = [p for p in validate([str(data)]).problems if p.code == "C532"]
    assert {(Path(p.file).name, p.line) for p in warnings} == {
        ("businesslive-reuters-2024-11-10-putin-signs.yaml", 96),
        ("dailymail-reuters-2024-10-24-duma-vote.yaml", 74),
    }
    assert all(
        p.message.startswith("chamber_approval date of RUS by russia-state-duma is ")
        for p in warnings
    )


def test_the_datasets_treaty_reports_are_proposed_as_one_agreement(tmp_path: Path) -> None:
    """The shipped dataset with its `same_as` links taken out: xref joins every report of
    the 2024 treaty into one agreement, and no proposal above the threshold pairs records
    that are not the same thing (the 2000 and 1961 treaties, China's and the DPRK's
    supplies)."""
    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data", data)
    linked: set[str] = set()
    for path in (data / "sources").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.strip().startswith("same_as:"):
                linked.add(line.split(":", 1)[1].strip())
        kept = [ln for ln in text.splitlines(keepends=True) if "same_as:" not in ln]
        path.write_text("".join(kept), encoding="utf-8")
    run = checker.run([str(data)])
    assert run.report.errors == 0, [p.to_dict() for p in run.report.problems]
    found = candidates(run.model, run.frames.tables)
    treaty = "censor-2024-06-20-russia-coalition/ag-1"
    assert treaty in linked
    agreements = run.frames.tables["agreements"]
    titles = dict(zip(agreements["id"], agreements["title"], strict=True))
    reports = {
        i
        for i, title in titles.items()
        if title and "partnership" in title.lower() and "1961" not in title
    }
    pairs = found.filter(pl.col("table") == "agreements").select("left", "right").rows()
    joined = components(
        pl.Series(sorted(reports)), pl.DataFrame(pairs, schema=["left", "right"], orient="row")
    )
    assert joined["component"].n_unique() == 1, joined
    assert len(reports) >= 8
    for left, right in pairs:  # no pair across different treaties
        assert (left in reports) == (right in reports), (left, right)
    flows = found.filter(pl.col("table") == "supplies").select("left", "right").rows()
    supplier = dict(
        zip(
            run.frames.tables["supplies"]["id"],
            run.frames.tables["supplies"]["supplier"],
            strict=True,
        )
    )
    assert all(supplier[a] == supplier[b] for a, b in flows)


def _copied(target: Path, copies: int) -> Path:
    """The disagreement fixture with each source bundle copied `copies` times."""
    shutil.copytree(DISAGREEMENT / "data", target)
    for path in sorted((target / "sources").glob("*.yaml")):
        for n in range(copies):
            shutil.copy(path, path.with_name(f"copy-{n:02d}-{path.name}"))
    return target


def test_ids_repeated_across_bundles_cost_linear_work(tmp_path: Path) -> None:
    """The same bundles copied under many names repeat every source and fact id (I201 and
    I202 report it). Records are keyed by where they are, not by id, so each copy adds its
    own rows once: a join on the repeated ids used to multiply them by the number of
    copies, cubed, until a run over every fixture at once ran out of memory."""
    copies = 40
    model = load_model()
    run = checker.run([str(_copied(tmp_path / "many", copies))])
    warnings = [p for p in run.report.problems if p.code == "C532"]
    assert len(warnings) == 2 * (copies + 1)  # one per report of the signature date
    assert {p.line for p in warnings} == {17}
    cluster = "(the same agreement: cluster kcna-2024-06-20/ag-1)"
    assert all(p.message.endswith(f":17 {cluster}") for p in warnings)

    def clusters(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
        return cluster_ids(model, tables).rename({"component": "cluster_id"})

    tables = run.frames.tables
    two = checker.run([str(_copied(tmp_path / "two", 1))]).frames.tables
    values = record_values(model, tables, clusters(tables))
    assert values.height == (copies + 1) * record_values(model, two, clusters(two)).height // 2
    found = disagreements(model, tables, clusters(tables))
    assert found.filter(pl.col("conflict")).height == 2 * (copies + 1)
    assert found.height == (copies + 1) * disagreements(model, two, clusters(two)).height // 2
    # each report names one holder of the other date, in another file
    assert found.filter(pl.col("conflict") & (pl.col("_doc") == pl.col("other_doc"))).is_empty()


@pytest.mark.skipif(sys.platform != "linux", reason="the address-space limit is set with setrlimit")
def test_every_fixture_and_the_dataset_validate_in_one_run() -> None:
    """The fixtures repeat each other's source and fact ids. One run over all of them and
    the dataset used to be killed for memory (a 6 GB limit); it now finishes in seconds
    within half of that."""
    import resource

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))

    paths = [
        str(p / "data")
        for kind in ("valid", "invalid")
        for p in sorted((FIXTURES / kind).iterdir())
        if (p / "data").is_dir()
    ]
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "validate", *paths, str(ROOT / "data")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=limited,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]  # errors found, none raised
    summary = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ errors, \d+ warnings in \d+ files \(\d+ records\)", summary)
    assert "C532" in done.stdout and "I201" in done.stdout
