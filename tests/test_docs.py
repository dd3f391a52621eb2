"""The docs: a README that starts with the two commands and the contributing guide, and a
site whose generated pages match the code and which builds without a broken link."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit import codes_page
from toolkit.codes import CODES

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CODES_PAGE = DOCS / "codes.md"
MKDOCS = ROOT / "mkdocs.yml"


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```sh", 1)[1].split("```", 1)[0]
    assert "make export" in first_block and "make test" in first_block


def test_readme_links_the_contributing_guide_on_its_first_screen() -> None:
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:25])
    assert "(docs/contributing.md)" in first_screen


def test_readme_links_only_to_files_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    targets = [part.split(")", 1)[0] for part in text.split("](")[1:]]
    assert targets
    for target in targets:
        if "://" not in target:
            assert (ROOT / target.split("#", 1)[0]).exists(), target


def test_committed_codes_page_matches_the_catalogue() -> None:
    text = CODES_PAGE.read_text(encoding="utf-8")
    assert text == codes_page.update(text), (
        "docs/codes.md is stale: run `make docs` and commit the result"
    )


def test_codes_page_lists_every_code_once() -> None:
    block = CODES_PAGE.read_text(encoding="utf-8").split(codes_page.START)[1]
    rows = [line for line in block.split(codes_page.END)[0].splitlines() if line.startswith("| `")]
    documented = {line.split("`")[1]: line for line in rows}
    assert len(rows) == len(documented)
    assert set(documented) == set(CODES), set(documented) ^ set(CODES)
    for code, spec in CODES.items():
        assert f"| `{code}` | `{spec.name}` | {spec.severity} |" in documented[code]


def test_codes_page_renders_parameters_and_escapes_pipes() -> None:
    spec = CODES["P011"]
    table = codes_page.render_table([spec])
    assert "key '‹key›' appears twice in the same mapping (first at line ‹first_line›)" in table
    assert "| | **parse** | | |" in table
    assert codes_page._cell("a | {b}") == "a \\| ‹b›"


def test_codes_page_module_rewrites_and_checks(tmp_path: Path) -> None:
    page = tmp_path / "codes.md"
    page.write_text(f"# Codes\n\n{codes_page.START}\nold\n{codes_page.END}\n", encoding="utf-8")
    assert codes_page.main([str(page), "--check"]) == 1
    assert codes_page.main([str(page)]) == 0
    assert page.read_text(encoding="utf-8").startswith(f"# Codes\n\n{codes_page.START}\n| code |")
    assert codes_page.main([str(page), "--check"]) == 0
    page.write_text("no markers\n", encoding="utf-8")
    assert codes_page.main([str(page)]) == 2


def _nav_files(items: list[Any]) -> list[str]:
    files: list[str] = []
    for item in items:
        for value in item.values() if isinstance(item, dict) else [item]:
            files += _nav_files(value) if isinstance(value, list) else [value]
    return files


def test_nav_starts_with_the_contributing_guide_and_holds_every_page() -> None:
    config = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))
    files = _nav_files(config["nav"])
    assert files[0] == "contributing.md"
    order = ["format.md", "codes.md", "export.md", "codebook.md", "limits.md", "architecture.md"]
    assert [f for f in files if f in order] == order
    assert {"design/format-v2.md", "guide/judgements.md"} <= set(files)


def _build(docs_dir: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of mkdocs.yml with its pages taken from `docs_dir`."""
    config = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))
    config["docs_dir"] = str(docs_dir)
    config_file = site.parent / "mkdocs.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_file)]
    return subprocess.run(
        [*command, "--site-dir", str(site)], capture_output=True, text=True, env=env, check=False
    )


def _mkdocs_installed() -> None:
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        pytest.fail("mkdocs is missing: `make test` installs it (the `docs` extra)")


def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    _mkdocs_installed()
    proc = _build(DOCS, tmp_path / "site")
    assert proc.returncode == 0, proc.stderr
    for page in ("contributing", "format", "codes", "export", "limits", "architecture"):
        assert (tmp_path / "site" / page / "index.html").is_file(), page
    codes = (tmp_path / "site" / "codes" / "index.html").read_text(encoding="utf-8")
    assert all(code in codes for code in CODES)


def test_strict_build_fails_on_a_broken_link(tmp_path: Path) -> None:
    _mkdocs_installed()
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    page = docs / "architecture.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nSee [gone](gone.md).\n", "utf-8")
    proc = _build(docs, tmp_path / "site")
    assert proc.returncode != 0 and "gone.md" in proc.stderr
