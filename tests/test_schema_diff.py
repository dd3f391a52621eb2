"""`factkit schema` and `factkit schema diff`: every change listed, the gate on breaking ones.

Each test edits a copy of the project's `schemas/` folder; the last ones compare
git refs of a repository built in tmp_path.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from toolkit.cli.main import main
from toolkit.model.diff import diff_folders
from toolkit.model.schemas import schema_dir

SCHEMAS = schema_dir()
Edit = Callable[[Path], None]


def copy(tmp_path: Path, name: str) -> Path:
    """A copy of the schemas as `<name>/schemas`, i.e. a folder that holds a schemas/ folder."""
    target = tmp_path / name / "schemas"
    shutil.copytree(SCHEMAS, target)
    return target


def edit_bundle(schemas: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = schemas / "bundle.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


def set_version(schemas: Path, version: str) -> None:
    def change(schema: dict[str, Any]) -> None:
        schema["x-schema-version"] = version

    edit_bundle(schemas, change)


def remove_said_on(schemas: Path) -> None:
    def change(schema: dict[str, Any]) -> None:
        del schema["$defs"]["statement"]["properties"]["said_on"]

    edit_bundle(schemas, change)


def add_event_kind(schemas: Path, version: str | None = "1.2.0") -> None:
    path = schemas / "vocabularies" / "event_kinds.yaml"
    text = path.read_text(encoding="utf-8")
    entry = (
        "codes:\n  - code: ceasefire\n    label: Ceasefire\n"
        "    description: A ceasefire agreed or announced.\n    parent: null\n"
    )
    text = text.replace("codes:\n", entry, 1)
    if version is not None:
        text = re.sub(r'^version: "[^"]*"', f'version: "{version}"', text, count=1, flags=re.M)
    path.write_text(text, encoding="utf-8")


def gate(old: Path, new: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["schema", "diff", str(old.parent), str(new.parent)])
    return code, capsys.readouterr().out


def test_identical_schemas_have_no_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = gate(copy(tmp_path, "old"), copy(tmp_path, "new"), capsys)
    assert code == 0
    assert out.endswith(": no changes\n")


def test_removed_column_fails_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    remove_said_on(new)
    code, out = gate(old, new, capsys)
    assert code == 1
    assert "breaking    statements.said_on: column removed" in out
    assert "breaking    statements.said_on_precision: column removed" in out
    assert "fail: 2 breaking changes" in out


def test_added_code_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    add_event_kind(new)
    set_version(new, "2.1.0")
    code, out = gate(old, new, capsys)
    assert code == 0
    assert "compatible  event_kinds: code 'ceasefire' added" in out
    assert "warning" not in out
    assert "ok: no breaking change" in out


def test_breaking_change_with_major_raised_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    remove_said_on(new)
    set_version(new, "3.0.0")
    code, out = gate(old, new, capsys)
    assert code == 0
    assert "ok: 2 breaking changes allowed: the major version was raised" in out


def test_schemas_folder_itself_is_accepted(tmp_path: Path) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    remove_said_on(new)
    assert main(["schema", "diff", str(old), str(new)]) == 1


def changes(old: Path, new: Path) -> dict[str, str]:
    """subject + kind -> severity, for compact assertions."""
    diff = diff_folders(old, new)
    return {f"{c.subject} {c.kind}": c.severity for c in diff.changes}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda s: s["$defs"]["statement"]["required"].remove("mode"),
            {"statements.mode column-nullable": "breaking"},
            id="required-to-optional",
        ),
        pytest.param(
            lambda s: s["$defs"]["statement"]["required"].append("text"),
            {"statements.text column-required": "compatible"},
            id="optional-to-required",
        ),
        pytest.param(
            lambda s: s["$defs"]["statement"]["properties"]["mode"]["enum"].append("rumour"),
            {"statements.mode value-added": "compatible"},
            id="enum-value-added",
        ),
        pytest.param(
            lambda s: s["$defs"]["statement"]["properties"]["mode"]["enum"].remove("paraphrase"),
            {"statements.mode value-removed": "breaking"},
            id="enum-value-removed",
        ),
        pytest.param(
            lambda s: s["$defs"]["statement"]["properties"].update(
                stated_on=s["$defs"]["statement"]["properties"].pop("said_on")
            ),
            {
                "statements.said_on column-renamed": "breaking",
                "statements.said_on_precision column-renamed": "breaking",
            },
            id="renamed",
        ),
        pytest.param(
            lambda s: s["$defs"]["statement"]["properties"].update(
                weight={"description": "How much it weighs.", "type": "number"}
            ),
            {"statements.weight column-added": "compatible"},
            id="column-added",
        ),
        pytest.param(
            lambda s: s["$defs"]["statement"]["properties"]["text"].update(type="integer"),
            {"statements.text column-type-changed": "breaking"},
            id="type-changed",
        ),
        pytest.param(
            lambda s: s["properties"].pop("events"),
            {"events table-removed": "breaking"},
            id="table-removed",
        ),
    ],
)
def test_classification(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], expected: dict[str, str]
) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    edit_bundle(new, edit)
    found = changes(old, new)
    for key, severity in expected.items():
        assert found.get(key) == severity, found
    assert found["x-schema-version schema-version-not-raised"] == "warning"


def test_new_required_field_warns_contributors(tmp_path: Path) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")

    def change(schema: dict[str, Any]) -> None:
        statement = schema["$defs"]["statement"]
        statement["properties"]["channel"] = {"description": "Where.", "type": "string"}
        statement["required"].append("channel")

    edit_bundle(new, change)
    diff = diff_folders(old, new)
    [added] = [c for c in diff.changes if c.kind == "column-added"]
    assert added.severity == "compatible"
    assert "contributors: bundles without it no longer validate" in added.message


def test_vocabulary_changes(tmp_path: Path) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    add_event_kind(new, version=None)
    path = new / "vocabularies" / "agreement_statuses.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("closed: true", "closed: false"))
    found = changes(old, new)
    assert found["event_kinds code-added"] == "compatible"
    assert found["event_kinds vocabulary-version-not-raised"] == "warning"
    assert found["agreement_statuses vocabulary-opened"] == "breaking"


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = copy(tmp_path, "old"), copy(tmp_path, "new")
    remove_said_on(new)
    code = main(["schema", "diff", str(old), str(new), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["passes"] is False and data["counts"]["breaking"] == 2
    assert {"kind", "subject", "severity", "message"} == set(data["changes"][0])


def test_unreadable_side_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "empty").mkdir()
    assert main(["schema", "diff", "empty", str(SCHEMAS)]) == 2
    assert main(["schema", "diff", "no-such-ref", str(SCHEMAS)]) == 2
    err = capsys.readouterr().err
    assert "empty: holds neither" in err and "no-such-ref: not a folder" in err


def test_prints_the_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == (SCHEMAS / "bundle.schema.json").read_text("utf-8")
    assert main(["schema", "--actor"]) == 0
    assert json.loads(capsys.readouterr().out)["x-table"] == "actors"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_refs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "factkit tests")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tests@example.invalid")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "repo"
    schemas = copy(tmp_path, "repo")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    git("checkout", "-q", "-b", "compatible")
    add_event_kind(schemas)
    set_version(schemas, "2.1.0")
    git("commit", "-q", "-am", "add a code")
    git("checkout", "-q", "-b", "breaking")
    remove_said_on(schemas)
    git("commit", "-q", "-am", "remove a column")
    monkeypatch.chdir(repo)
    assert main(["schema", "diff", "main", "compatible"]) == 0
    assert main(["schema", "diff", "compatible", "."]) == 1  # a ref against the work tree
    out = capsys.readouterr().out
    assert "code 'ceasefire' added" in out and "said_on: column removed" in out


def test_format_2_is_a_major_change_from_format_1(capsys: pytest.CaptureFixture[str]) -> None:
    """The schemas of format 1 (kept in tests/data/v1) against today's: breaking changes,
    allowed because the major version went from 1 to 2."""
    v1 = Path(__file__).resolve().parent / "data" / "v1"
    assert main(["schema", "diff", str(v1), str(SCHEMAS)]) == 0
    out = capsys.readouterr().out
    assert "1.0.0" in out and "2.0.0" in out
    assert "breaking    statements.speaker: column removed" in out
    assert "breaking    agreements.signed_on: column removed" in out
    assert "breaking    supplies.asserted_by: type changed from string to string_list" in out
    assert "compatible  agreement_steps: table added" in out
    assert "compatible  responses: table added" in out
    assert "the major version was raised (1.0.0 -> 2.0.0)" in out
