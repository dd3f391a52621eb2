"""The CI workflow's logic, checked locally: every command it runs is a Makefile target.

GitHub runs `.github/workflows/validate.yml`; nothing here can run it, but its
steps only call `make`, so checking that each call names a target the Makefile
defines (and that the targets expand to the intended factkit commands) covers
what can go wrong without GitHub. The pre-commit hook definition is checked the
same way.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "validate.yml"
MAKEFILE = ROOT / "Makefile"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
_SHELL_OPERATORS = {"&&", "||", ";", "|", ">", ">>", "<", "2>", "2>&1"}


def load_workflow() -> dict[Any, Any]:
    value = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` block; YAML 1.1 (PyYAML) reads the unquoted key `on` as True."""
    value = workflow["on"] if "on" in workflow else workflow[True]
    return {name: None for name in value} if isinstance(value, list) else dict(value)


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def makefile_targets() -> set[str]:
    targets: set[str] = set()
    for line in MAKEFILE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+(?:\s+[A-Za-z0-9_.-]+)*)\s*:(?![=:])", line)
        if match and not line.startswith("\t"):
            targets.update(t for t in match.group(1).split() if not t.startswith("."))
    return targets


def make_calls(script: str) -> list[list[str]]:
    """The targets of every `make` command in a shell script (options and VAR=x skipped)."""
    calls: list[list[str]] = []
    for line in script.splitlines():
        words = shlex.split(line, comments=True)
        for i, word in enumerate(words):
            if word != "make" or (i > 0 and words[i - 1] not in _SHELL_OPERATORS):
                continue
            targets: list[str] = []
            for arg in words[i + 1 :]:
                if arg in _SHELL_OPERATORS:
                    break
                if not arg.startswith("-") and "=" not in arg:
                    targets.append(arg)
            calls.append(targets)
    return calls


def test_triggers_on_pull_requests_and_pushes() -> None:
    on = triggers(load_workflow())
    assert "pull_request" in on and "push" in on


def test_checkout_has_history_and_python_is_set_up() -> None:
    all_steps = steps(load_workflow())
    checkout = [s for s in all_steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    python = [s for s in all_steps if str(s.get("uses", "")).startswith("actions/setup-python@")]
    assert checkout and checkout[0]["with"]["fetch-depth"] == 0
    assert python and str(python[0]["with"]["python-version"]) == "3.11"


def test_every_run_calls_existing_make_targets() -> None:
    targets = makefile_targets()
    runs = [s["run"] for s in steps(load_workflow()) if "run" in s]
    assert runs
    used: set[str] = set()
    for script in runs:
        calls = make_calls(script)
        assert calls, f"not a make command: {script!r}"
        for call in calls:
            assert call, f"make without a target: {script!r}"
            assert set(call) <= targets, (call, sorted(targets))
            used.update(call)
    assert {"validate", "validate-changed", "summary", "schema-gate"} <= used


def test_annotations_summary_and_gate() -> None:
    by_target: dict[str, dict[str, Any]] = {}
    for step in steps(load_workflow()):
        for call in make_calls(step.get("run", "")):
            for target in call:
                by_target[target] = step
    assert "FORMAT=github" in by_target["validate"]["run"]
    assert "FORMAT=github" in by_target["validate-changed"]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in by_target["summary"]["run"]
    assert by_target["summary"]["if"] == "always()"
    assert 'REVIEW="$BASE_REF"' in by_target["summary"]["run"]
    assert "pull_request" in by_target["validate-changed"]["if"]
    assert "pull_request" in by_target["schema-gate"]["if"]
    # The base ref reaches the scripts through the environment, never pasted into them.
    for step in by_target.values():
        assert "${{" not in step["run"]


def test_makefile_targets_expand_to_factkit_commands() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")

    def dry(*args: str) -> str:
        proc = subprocess.run(
            [make, "-n", "-o", ".venv/.installed", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout

    assert "toolkit validate data --format github" in dry("validate", "FORMAT=github")
    changed = dry("validate-changed", "FORMAT=github", "BASE=origin/dev")
    assert "--format github --changed-since origin/dev" in changed
    summary = dry("summary", "FACTKIT_ARGS=--changed-since origin/dev")
    assert "--format markdown --changed-since origin/dev" in summary
    reviewed = dry("summary", "REVIEW=origin/dev")
    assert 'toolkit review data --base "origin/dev" --format markdown' in reviewed
    assert "toolkit review data --base origin/dev --format text" in dry("review", "BASE=origin/dev")
    assert "toolkit schema diff origin/dev ." in dry("schema-gate", "BASE=origin/dev")


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == "factkit-validate"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False  # references need the whole dataset
    files = re.compile(hook["files"])
    for name in ("data/sources/2024/a.yaml", "b.yml", "c.json", "d.jsonl"):
        assert files.search(name), name
    for name in ("texts/a.txt", "README.md", "a.yaml.bak"):
        assert not files.search(name), name
    program, command = hook["entry"].split()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    assert program in scripts
    parser = build_parser()
    assert parser.parse_args([command]).command == command
