"""The parse cache: hits for unchanged files, misses for changed content, new versions and
anything it cannot trust; and a cached run reports exactly what an uncached one does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import toolkit
from toolkit import cache as cache_module
from toolkit.cache import ParseCache
from toolkit.checker import run
from toolkit.cli.main import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _copy(case: str, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / case / "data", target)
    return target


def _report(data: Path, cache: ParseCache | None) -> list[dict[str, object]]:
    return [p.to_dict() for p in run([str(data)], cache=cache).report.problems]


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json"))


def test_second_run_hits_and_reports_the_same(tmp_path: Path) -> None:
    data = _copy("valid/all-dates-precisions", tmp_path)
    store = ParseCache(tmp_path / "cache")
    first = run([str(data)], cache=store)
    files = first.report.files
    assert store.misses == files and store.writes == files and store.hits == 0
    again = ParseCache(tmp_path / "cache")
    second = run([str(data)], cache=again)
    assert again.hits == files and again.misses == 0 and again.writes == 0
    assert second.report.problems == first.report.problems
    for name, frame in first.frames.tables.items():
        assert frame.equals(second.frames.tables[name]), name


@pytest.mark.parametrize(
    "case",
    [
        "invalid/wrong-type",
        "invalid/yaml-duplicate-key",
        "invalid/unknown-field",
        "invalid/enum-typo",
    ],
)
def test_problems_come_back_from_the_cache_unchanged(case: str, tmp_path: Path) -> None:
    data = _copy(case, tmp_path)
    uncached = _report(data, None)
    assert uncached
    store = tmp_path / "cache"
    assert _report(data, ParseCache(store)) == uncached
    warm = ParseCache(store)
    assert _report(data, warm) == uncached
    assert warm.hits > 0 and warm.misses == 0


def test_changed_content_is_a_miss_for_that_file_only(tmp_path: Path) -> None:
    data = _copy("valid/minimal", tmp_path)
    store = tmp_path / "cache"
    run([str(data)], cache=ParseCache(store))
    bundle = next((data / "sources").rglob("*.yaml"))
    bundle.write_text(bundle.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    again = ParseCache(store)
    run([str(data)], cache=again)
    assert again.misses == 1 and again.hits >= 1


def test_a_new_toolkit_or_schema_version_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _copy("valid/minimal", tmp_path)
    store = tmp_path / "cache"
    run([str(data)], cache=ParseCache(store))
    monkeypatch.setattr(toolkit, "__version__", "99.0.0")
    newer = ParseCache(store)
    run([str(data)], cache=newer)
    assert newer.hits == 0 and newer.misses > 0
    monkeypatch.setattr(cache_module, "schemas_digest", lambda folder=None: "0" * 64)
    other = ParseCache(store)
    run([str(data)], cache=other)
    assert other.hits == 0 and other.misses > 0


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: b"",
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"not json at all",
        lambda raw: raw.replace(b'"line":', b'"lime":'),  # signature no longer matches
        lambda raw: b"0" * 64 + raw[64:],  # forged signature
    ],
)
def test_damaged_or_forged_entries_are_misses(damage: object, tmp_path: Path) -> None:
    data = _copy("invalid/wrong-type", tmp_path)
    store = tmp_path / "cache"
    expected = _report(data, ParseCache(store))
    for entry in _entries(store):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    again = ParseCache(store)
    assert _report(data, again) == expected
    assert again.hits == 0


def test_an_entry_signed_with_another_key_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache committed with a pull request was signed elsewhere: it is never trusted."""
    data = _copy("invalid/wrong-type", tmp_path)
    store = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))
    expected = _report(data, ParseCache(store))
    entry = _entries(store)[0]
    signature, _, body = entry.read_bytes().partition(b"\n")
    value = json.loads(body)
    value["schema"] = [[] for _ in value["schema"]]  # "no schema problems here"
    value["problems"] = []
    entry.write_bytes(signature + b"\n" + json.dumps(value).encode())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "me"))
    mine = ParseCache(store)
    assert _report(data, mine) == expected and mine.hits == 0


def test_command_line_caches_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _copy("valid/minimal", tmp_path)
    monkeypatch.delenv("FACTKIT_CACHE_DIR")
    beside = tmp_path / ".factkit-cache"
    assert main(["validate", str(data), "--quiet", "--no-cache"]) == 0
    assert not beside.exists()
    assert main(["validate", str(data), "--quiet"]) == 0
    assert _entries(beside)
    assert main(["validate", str(data), "--quiet"]) == 0
