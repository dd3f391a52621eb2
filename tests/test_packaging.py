"""The wheel carries every subpackage and the schemas, so a plain install works."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "toolkit").rglob("__init__.py")
    }
    assert found <= listed, found - listed
    assert config["tool"]["setuptools"]["package-dir"]["factkit_schemas"] == "schemas"
