"""The README documents every problem code exactly as the catalogue defines it."""

from __future__ import annotations

from pathlib import Path

from toolkit.codes import CODES

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_code_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- codes:start -->")[1].split("<!-- codes:end -->")[0]
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    documented = {line.split("`")[1]: line for line in rows}
    assert set(documented) == set(CODES), set(documented) ^ set(CODES)
    for code, spec in CODES.items():
        assert f"| `{code}` | `{spec.name}` | {spec.severity} |" in documented[code]


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```sh", 1)[1].split("```", 1)[0]
    assert "make export" in first_block and "make test" in first_block
