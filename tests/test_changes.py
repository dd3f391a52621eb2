"""`--changed-since`: a pull-request-like change is reported for its own files only.

Each test builds a git repository in tmp_path from the minimal fixture: a base
commit on `main`, then a branch that breaks one bundle and removes an actor that
an untouched bundle still names. Git identity and configuration come from the
environment, so the tests run on a bare CI machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from toolkit.changes import ChangeSet, changed_files, select_problems
from toolkit.cli.main import main
from toolkit.problems import Problem
from toolkit.result import Report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

UNTOUCHED = """\
format: 2
source:
  id: src-b
  outlet: Example Wire
  published_on: "2024-06-21"
  language: en
extraction:
  method: manual
  by: tester
  extracted_on: "2024-07-01"
  review: accepted
statements:
  - id: st-1
    speakers: [jane-doe]
    mode: paraphrase
    text: Guns will be sent.
"""

# An old problem in a file the change does not touch: never part of the change's report.
OLD_PROBLEM = UNTOUCHED.replace("src-b", "src-c").replace("jane-doe", "john-roe")


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return proc.stdout


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A known identity and no user or system configuration (hooks, default branch)."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "factkit tests")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tests@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`main` holds a valid dataset plus one old problem; HEAD is a new branch `change`."""
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "valid" / "minimal" / "data", root / "data")
    (root / "data" / "sources" / "src-b.yaml").write_text(UNTOUCHED, encoding="utf-8")
    (root / "data" / "sources" / "src-c.yaml").write_text(OLD_PROBLEM, encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    monkeypatch.chdir(root)
    return root


def break_and_remove(root: Path) -> None:
    """The pull request: a bad value in src-a, and the actor src-b names removed."""
    bundle = root / "data" / "sources" / "src-a.yaml"
    text = bundle.read_text(encoding="utf-8")
    bundle.write_text(text.replace("mode: direct_quote", "mode: shouted"), encoding="utf-8")
    git(root, "rm", "-q", "data/actors/jane-doe.yaml")
    git(root, "commit", "-q", "-am", "change")


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main(["validate", "data", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def problems_of(report: dict[str, object]) -> set[tuple[str, str]]:
    found = report["problems"]
    assert isinstance(found, list)
    return {(p["file"], p["code"]) for p in found}


def test_full_run_reports_every_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_and_remove(repo)
    code, report = run_json(capsys)
    files = {file for file, _ in problems_of(report)}
    assert code == 1
    assert files == {
        "data/sources/src-a.yaml",
        "data/sources/src-b.yaml",
        "data/sources/src-c.yaml",
    }


def test_change_reports_own_files_and_what_it_broke(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_and_remove(repo)
    code, report = run_json(capsys, "--changed-since", "main")
    found = problems_of(report)
    assert code == 1
    assert ("data/sources/src-a.yaml", "S104") in found  # the change's own file
    assert ("data/sources/src-b.yaml", "R301") in found  # untouched, broken by the removal
    assert {file for file, _ in found} == {"data/sources/src-a.yaml", "data/sources/src-b.yaml"}


def test_notice_says_what_was_left_out(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    break_and_remove(repo)
    assert main(["validate", "data", "--changed-since", "main"]) == 1
    out = capsys.readouterr().out
    assert "note: --changed-since main:" in out
    assert "1 older problem in other files not shown" in out
    assert "src-c.yaml" not in out


def test_github_annotations_only_for_the_change(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_and_remove(repo)
    main(["validate", "data", "--format", "github", "--changed-since", "main"])
    annotations = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::")]
    files = {line.split("file=", 1)[1].split(",", 1)[0] for line in annotations if "file=" in line}
    assert files == {"data/sources/src-a.yaml", "data/sources/src-b.yaml"}


def test_untracked_and_uncommitted_files_count_as_changed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = OLD_PROBLEM.replace("src-c", "src-d")
    (repo / "data" / "sources" / "src-d.yaml").write_text(new, encoding="utf-8")
    code, report = run_json(capsys, "--changed-since", "main")
    assert code == 1
    assert problems_of(report) == {("data/sources/src-d.yaml", "R301")}


def test_a_clean_change_passes_despite_old_problems(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = repo / "data" / "sources" / "src-b.yaml"
    bundle.write_text(UNTOUCHED.replace("Guns will be sent.", "Guns are coming."), "utf-8")
    git(repo, "commit", "-q", "-am", "reword")
    code, report = run_json(capsys, "--changed-since", "main")
    assert code == 0
    assert problems_of(report) == set()


def test_unknown_ref_falls_back_to_a_full_report(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_and_remove(repo)
    assert main(["validate", "data", "--changed-since", "no-such-branch"]) == 1
    out = capsys.readouterr().out
    assert "note: --changed-since: unknown git ref 'no-such-branch'; reporting every file" in out
    assert "src-c.yaml" in out


def test_option_like_ref_is_refused_not_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", "data", "--changed-since=--output=/tmp/x"])
    assert "is not a git ref; reporting every file" in capsys.readouterr().out


def test_outside_a_repository_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(FIXTURES / "valid" / "minimal" / "data", plain / "data")
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["validate", "data", "--changed-since", "main"]) == 0
    out = capsys.readouterr().out
    assert "is not in a git repository; reporting every file" in out


def test_without_git_falls_back(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)  # the module toolkit.changes uses
    main(["validate", "data", "--changed-since", "main"])
    assert "--changed-since: git is not installed; reporting every file" in capsys.readouterr().out


def test_changed_files(repo: Path) -> None:
    break_and_remove(repo)
    changes = changed_files(repo, "main")
    assert changes is not None
    assert changes.files == {"data/sources/src-a.yaml", "data/actors/jane-doe.yaml"}
    assert changes.merge_base
    assert changes.touches("data/sources/src-a.yaml")
    assert not changes.touches("data/sources/src-b.yaml")
    assert changed_files(repo, "no-such-branch") is None


def test_select_problems_without_baseline_keeps_changed_files_only(tmp_path: Path) -> None:
    changes = ChangeSet("main", "0" * 40, tmp_path.resolve(), frozenset({"a.yaml"}))
    report = Report(
        [
            Problem.of("S101", str(tmp_path / "a.yaml"), field="mode"),
            Problem.of("S101", str(tmp_path / "b.yaml"), field="mode"),
        ],
        files=2,
    )
    kept = select_problems(report, changes, None)
    assert [p.file for p in kept.problems] == [str(tmp_path / "a.yaml")]
    assert kept.files == 2


def test_select_problems_keeps_new_problems_elsewhere(tmp_path: Path) -> None:
    changes = ChangeSet("main", "0" * 40, tmp_path.resolve(), frozenset({"a.yaml"}))
    old = Problem.of("R301", str(tmp_path / "b.yaml"), line=3, pointer="/x", ref="gone")
    moved = Problem.of("R301", str(tmp_path / "b.yaml"), line=9, pointer="/x", ref="gone")
    new = Problem.of("R301", str(tmp_path / "b.yaml"), line=4, pointer="/y", ref="gone")
    kept = select_problems(Report([moved, new]), changes, Report([old]))
    assert kept.problems == [new]  # the same problem on another line is not new
