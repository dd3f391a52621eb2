"""`factkit review`: a pull request's facts, added, changed and removed, with their evidence."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from toolkit.cli.main import main
from toolkit.review import review_changes, sentence_around

CASE = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "minimal" / "data"
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

ADDED = """\
  - id: st-9
    speaker_role: an official
    mode: paraphrase
    text: the two states signed a defence pact
    evidence: signed a defence pact
    confidence: 0.8
    review: unreviewed
"""


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose branch `pr` adds a statement, changes a supply and removes an
    event, against `main`."""
    repo = tmp_path / "repo"
    shutil.copytree(CASE, repo / "data")
    bundle = repo / "data" / "sources" / "src-a.yaml"
    text = bundle.read_text(encoding="utf-8")
    assert "statements:\n" in text and "status: planned" in text and "events:\n" in text
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "pr")
    text = text.replace("statements:\n", "statements:\n" + ADDED, 1)
    text = text.replace("status: planned", "status: delivered", 1)
    text = text[: text.index("events:\n")] + "events: []\n"
    bundle.write_text(text, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "pr")
    monkeypatch.chdir(repo)
    return repo


def test_review_lists_added_changed_and_removed_facts(repo: Path) -> None:
    review = review_changes(["data"], "main")
    kinds = {(c.kind, c.fact.table, c.fact.id.split("/")[1]) for c in review.changes}
    assert ("added", "statements", "st-9") in kinds
    assert ("changed", "supplies", "sp-1") in kinds
    assert ("removed", "events", "ev-1") in kinds
    assert review.count("added") == 1 and review.count("removed") == 1
    changed = next(c for c in review.changes if c.kind == "changed")
    assert ("status", "planned", "delivered") in changed.differences
    added = next(c for c in review.changes if c.kind == "added")
    assert added.fact.review == "unreviewed" and added.fact.confidence == 0.8
    # the evidence is shown inside its sentence of the text copy
    assert added.fact.context == ("The two states ", "signed a defence pact", " in June.")


def test_summary_markdown_and_text(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "data", "--base", "main", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "1 added, 1 changed, 1 removed" in out
    assert "### Added (1)" in out and "### Changed (1)" in out and "### Removed (1)" in out
    assert "| status | planned | delivered |" in out
    assert "Review: **unreviewed" in out
    assert "> The two states **signed a defence pact** in June." in out
    assert main(["review", "data", "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert "+ added statements src-a/st-9 [unreviewed" in out
    assert "    status: planned -> delivered" in out
    assert "- removed events src-a/ev-1" in out
    assert "    evidence: The two states »signed a defence pact« in June." in out


def test_an_unknown_ref_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "data", "--base", "no-such-ref"]) == 2
    assert "no-such-ref" in capsys.readouterr().err


def test_evidence_is_shown_in_its_sentence() -> None:
    text = 'First one. The two states signed a defence pact in June. Then "more" came.'
    at = text.index("signed")
    assert sentence_around(text, at, at + len("signed a defence pact")) == (
        "The two states ",
        "signed a defence pact",
        " in June.",
    )
    at = text.index("more")
    assert sentence_around(text, at, at + 4) == ('Then "', "more", '" came.')
