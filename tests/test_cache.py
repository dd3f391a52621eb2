"""The parse cache: hits for unchanged files, misses for changed content, new versions and
anything it cannot trust; and a cached run reports exactly what an uncached one does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import toolkit
from toolkit import cache as cache_module
from toolkit import pack as pack_module
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


def _entries(folder: Path) -> list[bytes]:
    """The entry lines of the cache folder's pack."""
    pack = folder / cache_module.PACK
    return [line for line in pack.read_bytes().split(b"\n") if line] if pack.exists() else []


def _rewrite(folder: Path, change: object) -> None:
    """Replace every entry line of the pack by `change(line)`."""
    lines = [change(line) for line in _entries(folder)]  # type: ignore[operator]
    (folder / cache_module.PACK).write_bytes(b"".join(line + b"\n" for line in lines))


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
        # cross-record problems, placed in documents read from the cache
        "invalid/unknown-actor",
        "invalid/duplicate-fact-id",
        "invalid/evidence-not-in-text",
        "invalid/date-after-publication",
        "invalid/zero-width-in-name",
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


def test_values_only_the_stdlib_reads_come_back_from_the_cache(tmp_path: Path) -> None:
    """Entries are read with orjson, which refuses NaN, integers past 64 bits and lone
    surrogates; those entries must still hit and give the same values."""
    data = _copy("valid/minimal", tmp_path)
    bundle = next((data / "sources").rglob("*.yaml"))
    extra = 'big: 123456789012345678901234567890\nnan: .nan\nlone: "\\ud800"\n'
    bundle.write_text(bundle.read_text(encoding="utf-8") + extra, encoding="utf-8")
    uncached = run([str(data)])
    store = tmp_path / "cache"
    run([str(data)], cache=ParseCache(store))
    warm = ParseCache(store)
    again = run([str(data)], cache=warm)
    assert warm.misses == 0 and warm.hits == again.report.files
    assert again.report.problems == uncached.report.problems
    assert {p.pointer for p in uncached.report.problems} >= {"/big", "/nan"}
    for name, frame in uncached.frames.tables.items():
        assert frame.equals(again.frames.tables[name]), name


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
        lambda raw: raw.replace(b"\t", b" "),  # not a line of the pack's format
    ],
)
def test_damaged_or_forged_entries_are_misses(damage: object, tmp_path: Path) -> None:
    data = _copy("invalid/wrong-type", tmp_path)
    store = tmp_path / "cache"
    expected = _report(data, ParseCache(store))
    _rewrite(store, damage)
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

    def forge(line: bytes) -> bytes:
        signature, key, file, body = line.split(b"\t")
        head, sep, texts = body.partition(b"\x1e")  # the values follow the JSON part
        value = json.loads(head)
        value["schema"] = [[] for _ in value["schema"]]  # "no schema problems here"
        value["problems"] = []
        return b"\t".join((signature, key, file, json.dumps(value).encode() + sep + texts))

    _rewrite(store, forge)
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


def test_the_pack_keeps_one_entry_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each edit appends an entry; once dead entries weigh, the pack is rewritten without
    them, and without the entries of files that are gone."""
    monkeypatch.setattr(pack_module, "_COMPACT_AT", 1)
    data = _copy("valid/minimal", tmp_path)
    store = tmp_path / "cache"
    first = ParseCache(store)
    run([str(data)], cache=first)
    files = first.writes
    bundle = next((data / "sources").rglob("*.yaml"))
    original = bundle.read_text(encoding="utf-8")
    for n in range(files + 2):
        bundle.write_text(original + f"\n# edit {n}\n", encoding="utf-8")
        edited = ParseCache(store)
        run([str(data)], cache=edited)
        assert edited.misses == 1 and edited.hits == files - 1
        assert len(_entries(store)) <= 2 * files
    extra = data / "sources" / "extra.yaml"
    extra.write_text(original, encoding="utf-8")
    run([str(data)], cache=ParseCache(store))
    extra.unlink()
    for n in range(2 * files):  # enough dead lines to rewrite the pack
        bundle.write_text(original + f"\n# again {n}\n", encoding="utf-8")
        run([str(data)], cache=ParseCache(store))
    ParseCache(store)._pack(data)  # reading it rewrites it
    assert all(str(extra).encode() not in line for line in _entries(store))
    warm = ParseCache(store)
    run([str(data)], cache=warm)
    assert warm.hits == files and warm.misses == 0


def test_a_torn_line_costs_only_itself(tmp_path: Path) -> None:
    """A run killed while appending leaves half a line: it is ignored, and later entries
    still land on lines of their own."""
    data = _copy("valid/minimal", tmp_path)
    store = tmp_path / "cache"
    first = ParseCache(store)
    run([str(data)], cache=first)
    pack = store / cache_module.PACK
    whole = _entries(store)
    pack.write_bytes(pack.read_bytes() + whole[0][: len(whole[0]) // 2])
    bundle = next((data / "sources").rglob("*.yaml"))
    bundle.write_text(bundle.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    again = ParseCache(store)
    run([str(data)], cache=again)
    assert again.misses == 1 and again.hits == first.writes - 1 and again.writes == 1
    last = ParseCache(store)
    run([str(data)], cache=last)
    assert last.hits == first.writes and last.misses == 0


def test_a_pack_that_is_a_link_is_never_written_through(tmp_path: Path) -> None:
    data = _copy("valid/minimal", tmp_path)
    store = tmp_path / "cache"
    store.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    (store / cache_module.PACK).symlink_to(victim)
    cache = ParseCache(store)
    expected = _report(data, None)
    assert _report(data, cache) == expected
    assert cache.hits == 0 and cache.writes == 0
    assert victim.read_text(encoding="utf-8") == "keep me\n"


def test_a_pack_from_elsewhere_is_read_once_then_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines that do not verify are never indexed; a pack made mostly of them (committed
    with a pull request, say) is rewritten without them when it is read."""
    monkeypatch.setattr(pack_module, "_COMPACT_AT", 1)
    data = _copy("invalid/wrong-type", tmp_path)
    store = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))
    run([str(data)], cache=ParseCache(store))
    foreign = _entries(store)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "me"))
    mine = ParseCache(store)
    run([str(data)], cache=mine)
    assert mine.hits == 0 and mine.writes == len(foreign)
    again = ParseCache(store)
    run([str(data)], cache=again)
    assert again.hits == len(foreign) and again.misses == 0
    assert not set(foreign) & set(_entries(store))
    assert len(_entries(store)) == len(foreign)


def test_reading_a_pack_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past a number of lines, or in a line too long to be an entry, a pack is not read
    further; it is rewritten with what was read before."""
    data = _copy("valid/minimal", tmp_path)
    store = tmp_path / "cache"
    first = ParseCache(store)
    run([str(data)], cache=first)
    pack = store / cache_module.PACK
    mine = pack.read_bytes()
    monkeypatch.setattr(pack_module, "_COMPACT_AT", 1)
    monkeypatch.setattr(pack_module, "_MAX_LINES", 50)
    pack.write_bytes(b"\n" * 100 + mine)
    bounded = ParseCache(store)
    run([str(data)], cache=bounded)
    assert bounded.hits == 0 and bounded.writes == first.writes
    monkeypatch.setattr(pack_module, "_MAX_LINE_BYTES", 100)
    again = ParseCache(store)
    run([str(data)], cache=again)
    assert again.hits == 0  # every entry is longer than that
    monkeypatch.setattr(pack_module, "_MAX_LINE_BYTES", 1 << 20)
    last = ParseCache(store)
    run([str(data)], cache=last)
    assert last.hits == first.writes and last.misses == 0
