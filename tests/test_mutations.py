"""Property tests: a mutation that breaks one rule yields at least that problem, at the
line where the mutation sits; arbitrary JSON or YAML input never raises."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.checker import validate
from toolkit.result import Report

BASE = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "minimal" / "data"
BUNDLE = "sources/src-a.yaml"
TOKEN = "zzmutant"


def _bundle() -> dict[str, Any]:
    value = yaml.safe_load((BASE / BUNDLE).read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


# Each mutation: (code it must produce, function editing the bundle so that the unique
# token TOKEN sits on the line the problem must point to).
def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(bundle: dict[str, Any]) -> None:
        node: Any = bundle
        for token in path[:-1]:
            node = node[token]
        node[path[-1]] = value

    return edit


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("R301", _set(("statements", 0, "speakers"), [f"{TOKEN}-actor"])),
    ("R301", _set(("supplies", 0, "supplier"), f"{TOKEN}-actor")),
    ("R301", _set(("agreements", 0, "parties", 1, "actor"), f"{TOKEN}-actor")),
    ("R302", _set(("supplies", 0, "asserted_by"), [f"{TOKEN}-st"])),
    ("V401", _set(("supplies", 0, "items", 0, "category"), TOKEN)),
    ("V401", _set(("events", 0, "kind"), TOKEN)),
    ("V401", _set(("agreements", 0, "status"), TOKEN)),
    ("S104", _set(("statements", 0, "mode"), TOKEN)),
    ("S104", _set(("supplies", 0, "polarity"), TOKEN)),
    ("S103", _set(("statements", 0, "confidence"), TOKEN)),
    ("S105", _set(("statements", 0, "said_on"), f"{TOKEN}-date")),
    ("S102", _set(("events", 0, TOKEN), "x")),
    ("S102", _set(("source", TOKEN), "x")),
    ("C501", _set(("supplies", 0, "recipient"), "USA")),
    ("C503", _set(("statements", 0, "said_on"), "2099-01-01")),
    ("I201", _set(("events", 0, "id"), "st-1")),
]
_LINE_OF = {
    # mutations whose token is not literal: the line holding the new value
    "C501": "recipient: USA",
    "C503": "2099-01-01",
    "I201": "id: st-1",
}


def _write(tmp: Path, bundle: dict[str, Any], fmt: str) -> tuple[Path, str]:
    data = tmp / "data"
    if data.exists():
        shutil.rmtree(data)
    shutil.copytree(BASE, data)
    (data / BUNDLE).unlink()
    if fmt == "json":
        path = data / "sources" / "src-a.json"
        path.write_text(json.dumps(bundle, indent=2, ensure_ascii=False), encoding="utf-8")
    else:
        path = data / BUNDLE
        text = yaml.safe_dump(bundle, sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
    return data, path.read_text(encoding="utf-8")


def _expected_line(text: str, code: str) -> int:
    marker = _LINE_OF.get(code, TOKEN)
    lines = [i for i, line in enumerate(text.splitlines(), 1) if marker in line.replace('"', "")]
    # a duplicate id is reported at its second occurrence
    return lines[-1] if code == "I201" else lines[0]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=st.sampled_from(MUTATIONS), fmt=st.sampled_from(["yaml", "json"]))
def test_one_broken_rule_is_reported_where_it_is(
    tmp_path: Path, mutation: tuple[str, Callable[[dict[str, Any]], None]], fmt: str
) -> None:
    code, edit = mutation
    bundle = _bundle()
    edit(bundle)
    data, text = _write(tmp_path, bundle, fmt)
    report = validate([str(data)])
    line = _expected_line(text, code)
    hits = [p for p in report.problems if p.code == code]
    assert hits, f"{code} not reported: {[p.to_dict() for p in report.problems]}"
    assert any(p.line == line and p.file.endswith(f"src-a.{fmt}") for p in hits), (
        code,
        line,
        [(p.file, p.line, p.column) for p in hits],
    )


def test_unmutated_base_is_valid(tmp_path: Path) -> None:
    for fmt in ("yaml", "json"):
        data, _ = _write(tmp_path, _bundle(), fmt)
        report = validate([str(data)])
        assert report.errors == 0, [p.to_dict() for p in report.problems]


def _check_structured(report: Report) -> None:
    assert isinstance(report, Report)
    for problem in report.problems:
        assert problem.code and problem.message and problem.file
        assert problem.line is None or problem.line >= 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "source",
                    "extraction",
                    "statements",
                    "supplies",
                    "id",
                    "mode",
                    "items",
                    "parties",
                    "actor",
                    "text",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=_JSON, fmt=st.sampled_from(["json", "yaml", "jsonl"]))
def test_arbitrary_documents_never_raise(tmp_path: Path, value: Any, fmt: str) -> None:
    data = tmp_path / "data"
    shutil.rmtree(data, ignore_errors=True)
    (data / "actors").mkdir(parents=True)
    text = json.dumps(value) if fmt != "yaml" else yaml.safe_dump(value)
    (data / f"bundle.{fmt}").write_text(text + "\n", encoding="utf-8")
    (data / "actors" / f"a.{fmt}").write_text(text + "\n", encoding="utf-8")
    _check_structured(validate([str(data)]))
