"""`factkit new`: the scaffold validates as written, and never replaces a file unasked."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.checker import validate
from toolkit.cli.main import main
from toolkit.synth.generator import KINDS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE_ARGS = [
    "new",
    "--id",
    "wire-2024-06-20-talks",
    "--outlet",
    "Example Wire",
    "--published",
    "2024-06-20",
    "--by",
    "Jane Tester",
    "--extracted-on",
    "2024-07-01",
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "valid" / "minimal" / "data", target)
    return target


def new(data: Path, *extra: str) -> int:
    return main([*BASE_ARGS, "--data", str(data), *extra])


def bundle(data: Path) -> Path:
    return data / "sources" / "2024" / "wire-2024-06-20-talks.yaml"


def test_scaffold_validates_with_no_problems(data: Path) -> None:
    assert new(data) == 0
    path = bundle(data)
    assert path.is_file()
    report = validate([str(data)])
    assert report.errors == 0, [p.to_dict() for p in report.problems]
    assert [p for p in report.problems if p.file.endswith(path.name)] == []


def test_scaffold_content(data: Path) -> None:
    assert new(data, "--url", "https://example.com/a?b=1", "--title", 'Talks: "soon" #1') == 0
    value = yaml.safe_load(bundle(data).read_text(encoding="utf-8"))
    assert value["source"] == {
        "id": "wire-2024-06-20-talks",
        "title": 'Talks: "soon" #1',
        "outlet": "Example Wire",
        "published_on": "2024-06-20",
        "url": "https://example.com/a?b=1",
        "language": "en",
    }
    assert value["extraction"] == {
        "method": "manual",
        "by": "Jane Tester",
        "extracted_on": "2024-07-01",
        "review": "unreviewed",
    }
    assert value["format"] == 2
    for section in KINDS:
        assert value[section] == []


def test_schema_pointer_reaches_the_bundle_schema(data: Path) -> None:
    assert new(data) == 0
    text = bundle(data).read_text(encoding="utf-8")
    pointer = yaml.safe_load(text)["$schema"]
    target = (bundle(data).parent / pointer).resolve()
    assert target.name == "bundle.schema.json" and target.is_file()
    assert f"# yaml-language-server: $schema={pointer}\n" in text


def test_refuses_to_overwrite(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert new(data) == 0
    path = bundle(data)
    path.write_text("edited\n", encoding="utf-8")
    assert new(data) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "edited\n"
    assert new(data, "--force") == 0
    assert path.read_text(encoding="utf-8") != "edited\n"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--id", "Bad Id", "is not an id"),
        ("--published", "2024-02-30", "is not a date on the calendar"),
        ("--published", "20 June 2024", "is not a date"),
        ("--language", "english", "is not an ISO 639-1 code"),
        ("--url", "ftp://example.com", "is not an http(s) URL"),
        ("--outlet", "two\nlines", "must be one line"),
    ],
)
def test_bad_options_are_usage_errors(
    data: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    args = list(BASE_ARGS)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    assert main([*args, "--data", str(data)]) == 2
    assert message in capsys.readouterr().err
    assert not (data / "sources" / "2024").exists()


def test_model_method_needs_a_model(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert new(data, "--method", "model") == 2
    assert "--method model needs --model" in capsys.readouterr().err
    assert new(data, "--method", "assisted", "--model", "example-model-2024-05") == 0
    assert validate([str(data)]).errors == 0


def test_year_or_month_precision_publication(data: Path) -> None:
    assert new(data, "--published", "2023-11", "--force") == 0
    path = data / "sources" / "2023" / "wire-2024-06-20-talks.yaml"
    assert path.is_file()
    assert validate([str(data)]).errors == 0


def test_missing_data_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert new(tmp_path / "nowhere") == 2
    assert "no such folder" in capsys.readouterr().err


def test_commented_examples_are_valid_once_uncommented(data: Path) -> None:
    """Copying an example is safe: uncommented, they break no rule but the registry's.

    The alignment example names a grouping of the project's registry, which the
    fixture's registry lacks (R301); nothing else may fail.
    """
    assert new(data) == 0
    path = bundle(data)
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.fullmatch(r"[a-z]+: \[\]", line):
            line = line[:-3]
        elif line.startswith("# ") and (line[2:].startswith("- ") or line[2:].startswith("  ")):
            line = line[2:]
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    value = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert all(len(value[s]) == 1 for s in KINDS if s != "alignments")
    report = validate([str(data)])
    codes = {p.code for p in report.problems if p.severity == "error"}
    assert codes <= {"R301"}, [p.to_dict() for p in report.problems]


def _uncommented_examples() -> dict[str, Any]:
    """The scaffold's commented examples, as the bundle a contributor gets by copying them."""
    from toolkit.cli.new_cmd import EXAMPLES

    lines = []
    for line in EXAMPLES.splitlines():
        if re.fullmatch(r"[a-z]+: \[\]", line):
            line = line[:-3]
        elif line.startswith("# ") and (line[2:].startswith("- ") or line[2:].startswith("  ")):
            line = line[2:]
        lines.append(line)
    value: dict[str, Any] = yaml.safe_load("\n".join(lines))
    return value


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def test_example_codes_agree_with_the_vocabulary_definitions() -> None:
    """Each coded example is one its vocabulary defines for what the example describes.

    A supply item's category must be defined in terms of the item (its description names
    a word of it), and no sentence of that definition may send such an item to another
    code ("shells and rockets are ammunition" rules out 'artillery' for shells).
    """
    from toolkit.model.model import load_model

    model = load_model()
    vocab = model.vocabularies["supply_categories"]
    codes = {c["code"]: c for c in vocab.codes}
    examples = _uncommented_examples()
    items = [item for supply in examples["supplies"] for item in supply["items"]]
    assert items
    for item in items:
        chosen = codes[item["category"]]
        words = _words(item["description"])
        definition = f"{chosen['label']} {chosen['description']}"
        assert words & _words(definition), (item, "is not what the code's definition covers")
        for sentence in re.split(r"(?<=[.;])\s+", chosen["description"]):
            sent_elsewhere = re.findall(r"\b(?:are|is)\s+([a-z_]+)\b", sentence)
            others = [c for c in sent_elsewhere if c in codes and c != item["category"]]
            assert not (others and words & _words(sentence)), (
                f"{item['category']!r} says: {sentence!r}"
            )
    # format 2: provisions and actions are objects whose `code` / `action` is coded
    for name, field, key, section in (
        ("statement_topics", "topics", None, "statements"),
        ("agreement_kinds", "kind", None, "agreements"),
        ("agreement_statuses", "status", None, "agreements"),
        ("agreement_provisions", "provisions", "code", "agreements"),
        ("agreement_actions", "actions", "action", "agreements"),
        ("personnel_kinds", "personnel", None, "deployments"),
        ("event_kinds", "kind", None, "events"),
    ):
        known = set(model.vocabularies[name].code_list)
        for fact in examples[section]:
            value = fact[field]
            values = value if isinstance(value, list) else [value]
            used = {v[key] for v in values} if key else set(values)
            assert used and used <= known, (name, value)
