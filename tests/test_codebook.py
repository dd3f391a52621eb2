"""docs/codebook.md is generated from the model and must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.cli.main import main
from toolkit.export.codebook import dtype_name, render
from toolkit.export.typed import column_dtype
from toolkit.model.model import load_model

CODEBOOK = Path(__file__).resolve().parents[1] / "docs" / "codebook.md"


def test_committed_codebook_is_current() -> None:
    assert CODEBOOK.is_file(), "run `make docs` to generate docs/codebook.md"
    assert CODEBOOK.read_text(encoding="utf-8") == render(load_model()), (
        "docs/codebook.md is stale: run `make docs` and commit the result"
    )


def test_codebook_covers_every_table_column_and_code() -> None:
    model = load_model()
    text = render(model)
    for table in model.tables.values():
        assert f"\n### {table.name}\n" in text
        if table.kind == "vocabulary":
            continue
        for col in table.columns:
            assert f"| `{col.name}` | {dtype_name(column_dtype(col, model))} |" in text
    for vocab in model.vocabularies.values():
        for code in vocab.codes:
            assert f"| `{code['code']}` | " in text
    assert "`hs_codes`" in text and "`chpl_tier`" in text
    for topic in ("## File formats", "JSON array", "precision", "--formula-safe", "CRLF"):
        assert topic in text


def test_codebook_is_a_pure_function_of_the_model() -> None:
    assert render(load_model()) == render(load_model())


def test_cli_writes_and_prints_the_codebook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "codebook.md"
    assert main(["codebook", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render(load_model())
    assert main(["codebook"]) == 0
    assert capsys.readouterr().out == render(load_model())
