"""What each Makefile target installs: exporting needs the project alone, so a first
`make export` on a fresh clone downloads no test runner, linter, type checker or notebook
kernel; the development targets add those, and CI installs everything it runs."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def dry_run(target: str) -> list[str]:
    """The commands `make` would run for `target` (and variables, `export ENGINE=duckdb`) on
    a fresh clone (every step, none run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    proc = subprocess.run(
        [make, "-n", "-B", *target.split()], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return proc.stdout.splitlines()


def installs(target: str) -> list[str]:
    """What each `pip install` of the dry run installs (the arguments that are not options)."""
    found: list[str] = []
    for line in dry_run(target):
        words = shlex.split(line)
        if "pip" in words and "install" in words:
            args = words[words.index("install") + 1 :]
            found += [w for w in args if not w.startswith("-")]
    return found


def extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    return dict(project["optional-dependencies"])


@pytest.mark.parametrize("target", ["export", "validate", "summary", "schema-gate"])
def test_exporting_and_validating_install_no_extra(target: str) -> None:
    assert installs(target) == ["."], installs(target)


@pytest.mark.parametrize("target", ["test", "lint", "typecheck"])
def test_development_targets_add_the_dev_and_docs_extras_and_the_engines(target: str) -> None:
    assert installs(target) == [".", ".[dev,docs,duckdb,spark]"]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
@pytest.mark.parametrize("target", ["export", "validate"])
def test_an_engine_brings_its_extra_and_its_option(target: str, engine: str) -> None:
    assert installs(f"{target} ENGINE={engine}") == [".", f".[{engine}]"]
    assert any(f"--engine {engine}" in line for line in dry_run(f"{target} ENGINE={engine}"))


def test_docs_target_adds_the_docs_extra_and_builds_strictly() -> None:
    assert installs("docs") == [".", ".[docs]"]
    assert any("mkdocs build --strict" in line for line in dry_run("docs"))


def test_the_base_holds_no_development_tool() -> None:
    base = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    names = {d.split("[")[0].split(">")[0].split("=")[0].strip() for d in base["dependencies"]}
    tools = {"pytest", "hypothesis", "mypy", "ruff", "ipykernel", "nbclient", "mkdocs"}
    assert not names & tools
    assert {"pytest", "mypy", "ruff", "ipykernel"} <= {
        d.split(">")[0].split("=")[0] for d in extras()["dev"]
    }
    # The docs build is pinned, so a new release cannot break the strict build unnoticed.
    assert all("==" in d for d in extras()["docs"])


def test_ci_runs_the_test_target() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in script
