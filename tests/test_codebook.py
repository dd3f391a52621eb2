"""docs/codebook.md is generated from the model and must not go stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.cli.main import main
from toolkit.export.codebook import dataset_examples, dtype_name, render
from toolkit.export.typed import column_dtype
from toolkit.model.model import load_model

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "docs" / "codebook.md"


@pytest.fixture(scope="module")
def examples() -> dict[tuple[str, str], str]:
    return dataset_examples([ROOT / "data"])


def test_committed_codebook_is_current(examples: dict[tuple[str, str], str]) -> None:
    assert CODEBOOK.is_file(), "run `make docs` to generate docs/codebook.md"
    assert CODEBOOK.read_text(encoding="utf-8") == render(load_model(), examples), (
        "docs/codebook.md is stale: run `make docs` and commit the result"
    )


def test_examples_are_the_first_values_of_the_shipped_dataset(
    examples: dict[tuple[str, str], str], tmp_path: Path
) -> None:
    import json

    import toolkit
    from toolkit.export import export

    out = tmp_path / "dist"
    assert export([ROOT / "data"], out, formats=["parquet"], include_unreviewed=True).written
    ds = toolkit.load(out)
    never: list[tuple[str, str]] = []
    for table in ("statements", "supply_items", "agreement_parties", "sources"):
        frame = ds[table]
        for column in frame.columns:
            values = [v for v in frame[column].to_list() if v not in (None, [])]
            if not values:
                assert (table, column) not in examples
                never.append((table, column))
                continue
            shown = examples[(table, column)].removesuffix("…")
            first = values[0]
            text = first.isoformat() if hasattr(first, "isoformat") else first
            if not isinstance(text, str):
                text = json.dumps(text, ensure_ascii=False)
            assert text.startswith(shown), (table, column, shown, text)
    section = render(load_model(), examples).split("### supply_items")[1].split("### ")[0]
    row = next(line for line in section.splitlines() if line.startswith("| `category` |"))
    assert row.endswith(f"| `{examples[('supply_items', 'category')]}` |")
    # a column the data never fills stays empty rather than inventing a value (the nine
    # format-2 reports fill `said_on`; which columns stay empty is read from the data)
    model = load_model()
    text = render(model, examples)
    never = [(t, c) for t, c in never if model.tables[t].column(c).example is None]
    assert never
    for table, column in never:
        section = text.split(f"\n### {table}\n")[1].split("\n### ")[0]
        row = next(line for line in section.splitlines() if line.startswith(f"| `{column}` |"))
        assert row.endswith("|  |"), (table, column, row)


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
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    examples: dict[tuple[str, str], str],
) -> None:
    out = tmp_path / "codebook.md"
    assert main(["codebook", "--out", str(out), "--data", str(ROOT / "data")]) == 0
    assert out.read_text(encoding="utf-8") == render(load_model(), examples)
    assert main(["codebook", "--data", str(ROOT / "data")]) == 0
    assert capsys.readouterr().out == render(load_model(), examples)
