"""Hostile input: one case per item of the hardening issue, through the real command line.

`fixtures/hostile/<case>/` holds a small data folder and an `expected.yaml` (each
problem's code, file and line; the exit code; `strict: true` where the problems are
warnings, so `--strict` must fail). Cases that need what cannot be committed (files of
gigabytes, symbolic links out of the tree, FIFOs, sockets, devices) are built here in a
temporary copy of the minimal fixture and go through the same assertion, `check_case`:

* the exit code, JSON on stdout that parses, no traceback on stderr;
* every expected problem at its file and line, every problem with a known code and
  1-based positions, every file inside the data folder;
* nothing written to the working directory (no tag ran a command);
* a few seconds at most.

Huge inputs and problem floods, whose memory must be measured, are in
test_hostile_limits.py; the export's cases in test_hostile_export.py; random input in
test_hostile_fuzz.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit import checker
from toolkit.checks import limits
from toolkit.cli.main import main
from toolkit.codes import CODES

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "fixtures" / "hostile"
MINIMAL = ROOT / "fixtures" / "valid" / "minimal" / "data"
SECONDS = 15.0  # per run; the slowest case takes about one
GB = 1 << 30
MB = 1 << 20


def _cases() -> list[Path]:
    return sorted(p for p in HOSTILE.iterdir() if (p / "expected.yaml").is_file())


def _relative(file: str, data: Path) -> str:
    rel = os.path.relpath(os.path.abspath(file), data)
    assert not rel.startswith(os.pardir), f"problem outside the data folder: {file}"
    return rel.replace(os.sep, "/")


def check_report(text: str, stderr: str, data: Path) -> set[tuple[str, str, int | None]]:
    """The report is one JSON document of well-formed problems; returns (code, file, line)."""
    assert "Traceback" not in stderr, stderr
    report = json.loads(text)
    assert report["version"] == 1
    found = set()
    for p in report["problems"]:
        spec = CODES[p["code"]]
        assert (p["rule"], p["severity"]) == (spec.name, spec.severity), p
        assert p["message"], p
        for n in (p["line"], p["column"]):
            assert n is None or (type(n) is int and n >= 1), p
        found.add((p["code"], _relative(p["file"], data), p["line"]))
    return found


def check_case(
    data: Path, expected: dict[str, Any], capsys: pytest.CaptureFixture[str], cwd: Path
) -> set[tuple[str, str, int | None]]:
    """Run `factkit validate --format json` in-process and hold it to `expected`."""
    for strict in (False, True) if expected.get("strict") else (False,):
        start = time.monotonic()
        code = main(["validate", str(data), "--format", "json", *(["--strict"] * strict)])
        elapsed = time.monotonic() - start
        out, err = capsys.readouterr()
        found = check_report(out, err, data)
        assert code == (1 if strict else expected.get("exit", 1)), (code, sorted(found))
        for want in expected["problems"]:
            key = (want["code"], want["file"], want["line"])
            assert key in found, f"missing {key}; found {sorted(found)}"
        assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    assert list(cwd.iterdir()) == [], "the run wrote into the working directory"
    return found


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory: a run must leave it empty."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_hostile_case(case: Path, capsys: pytest.CaptureFixture[str], cwd: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    assert expected["description"] and expected["problems"]
    check_case(case / "data", expected, capsys, cwd)


def test_every_case_states_its_codes() -> None:
    for case in _cases():
        expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
        for want in expected["problems"]:
            assert want["code"] in CODES, (case.name, want)
            assert (case / "data" / want["file"]).exists() or want["line"] is None


def test_yaml11_scalars_reach_validation_as_typed() -> None:
    """Not only a warning: the values are the text the contributor typed."""
    data = HOSTILE / "yaml11-scalars-in-string-fields" / "data"
    tables = checker.run([str(data)]).frames.tables
    assert tables["sources"]["outlet"].to_list() == ["NO"]
    assert tables["sources"]["extraction_by"].to_list() == ["off"]
    assert tables["agreements"]["title"].to_list() == ["0o17"]
    assert tables["supply_items"]["description"].to_list() == ["1_000"]
    assert tables["events"]["place_name"].to_list() == ["12:30"]
    dates = checker.run([str(HOSTILE / "yaml-unquoted-dates" / "data")]).frames.tables
    assert dates["sources"]["published_on"].to_list() == ["2024-06-20"]


# --- generated cases: special files, links, sizes -------------------------------------------

Build = Callable[[Path], None]
SOURCE = "sources/src-a.yaml"


def _text_path(path: str) -> Build:
    def edit(data: Path) -> None:
        bundle = data / SOURCE
        text = bundle.read_text(encoding="utf-8").replace("../texts/src-a.txt", path)
        bundle.write_text(text, encoding="utf-8")

    return edit


def _then(*steps: Build) -> Build:
    def build(data: Path) -> None:
        for step in steps:
            step(data)

    return build


def _link(rel: str, target: str | Callable[[Path], Path]) -> Build:
    def build(data: Path) -> None:
        (data / rel).symlink_to(target(data) if callable(target) else target)

    return build


def _fifo(rel: str) -> Build:
    return lambda data: os.mkfifo(data / rel)


def _socket(rel: str) -> Build:
    def build(data: Path) -> None:
        # AF_UNIX paths are short; bind from inside the folder with a relative name.
        here = os.getcwd()
        os.chdir(data / os.path.dirname(rel))
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(os.path.basename(rel))
            sock.close()
        finally:
            os.chdir(here)

    return build


def _sparse(rel: str, size: int) -> Build:
    """A file of `size` bytes that takes no disk: a hole, read back as NULs."""

    def build(data: Path) -> None:
        with open(data / rel, "wb") as handle:
            handle.truncate(size)

    return build


def _write(rel: str, content: str | bytes) -> Build:
    def build(data: Path) -> None:
        path = data / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return build


_TEXT = 7  # the line of `text:` in the minimal bundle
_OUTSIDE = "/etc/passwd"
_DEEP_JSON = '{"source": ' + "[" * 10_000 + "]" * 10_000 + "}\n"
_LONG_STRING = '{"source": {"id": "' + "x" * 1_000_001 + '"}}\n'
_EVENTS = json.dumps(
    {
        "format": 2,
        "source": {"id": "src-many", "outlet": "X", "published_on": "2024", "language": "en"},
        "extraction": {"method": "manual", "by": "x", "extracted_on": "2024", "review": "accepted"},
        "events": [{"id": f"ev-{i}", "kind": "meeting"} for i in range(10_001)],
    }
)


GENERATED: dict[str, tuple[Build, list[tuple[str, str, int | None]]]] = {
    "path-text-symlink-to-passwd": (
        _then(_link("texts/p.txt", _OUTSIDE), _text_path("../texts/p.txt")),
        [("X705", SOURCE, _TEXT)],
    ),
    "path-text-symlink-to-dev-zero": (
        _then(_link("texts/z.txt", "/dev/zero"), _text_path("../texts/z.txt")),
        [("X705", SOURCE, _TEXT)],
    ),
    "path-text-fifo": (
        _then(_fifo("texts/f.txt"), _text_path("../texts/f.txt")),
        [("X702", SOURCE, _TEXT)],
    ),
    "path-text-socket": (
        _then(_socket("texts/s.txt"), _text_path("../texts/s.txt")),
        [("X702", SOURCE, _TEXT)],
    ),
    "path-text-link-loop": (
        _then(_link("texts/l.txt", lambda d: d / "texts" / "l.txt"), _text_path("../texts/l.txt")),
        [("X702", SOURCE, _TEXT)],
    ),
    "path-text-several-gb": (
        _then(_sparse("texts/big.txt", 5 * GB), _text_path("../texts/big.txt")),
        [("L006", SOURCE, _TEXT)],
    ),
    "path-bundle-symlink-out": (
        _link("sources/passwd.yaml", _OUTSIDE),
        [("X705", "sources/passwd.yaml", None)],
    ),
    "path-bundle-symlink-to-dev-zero": (
        _link("sources/zero.yaml", "/dev/zero"),
        [("X705", "sources/zero.yaml", None)],
    ),
    "path-bundle-fifo": (_fifo("sources/pipe.yaml"), [("X702", "sources/pipe.yaml", None)]),
    "path-actors-folder-symlink-out": (
        _link("actors/more", lambda d: d.parent.parent),
        [("X705", "actors/more", None)],
    ),
    "path-folder-symlink-loop": (
        # a loop back to the data folder, and a broken bundle that must be reported once
        _then(
            _link("sources/loop", lambda d: d),
            _link("sources/self.yaml", lambda d: d / "sources" / "self.yaml"),
            _write("sources/broken.yaml", "a: [\n"),
        ),
        [("P010", "sources/broken.yaml", 2), ("P001", "sources/self.yaml", None)],
    ),
    "limits-yaml-several-gb": (
        _sparse("sources/huge.yaml", 6 * GB),
        [("L001", "sources/huge.yaml", None)],
    ),
    "limits-json-several-gb": (
        _sparse("sources/huge.json", 6 * GB),
        [("L001", "sources/huge.json", None)],
    ),
    "limits-json-10000-deep": (
        _write("sources/deep.json", _DEEP_JSON),
        [("L002", "sources/deep.json", 1)],
    ),
    "limits-yaml-10000-deep": (
        _write("sources/deep.yaml", "source: " + "[" * 10_000 + "]" * 10_000 + "\n"),
        [("L002", "sources/deep.yaml", 1)],
    ),
    "limits-json-string-too-long": (
        _write("sources/long.json", _LONG_STRING),
        [("L003", "sources/long.json", 1)],
    ),
    "limits-too-many-facts": (
        _write("sources/many.json", _EVENTS),
        [("L004", "sources/many.json", 1)],
    ),
}

# Items that need a change in a file this suite does not own.
PENDING = {
    "limits-too-many-facts": (
        lambda: limits in checker.FAMILIES,
        "register toolkit.checks.limits in checker.FAMILIES",
    ),
}


def _build(tmp_path: Path, build: Build) -> Path:
    data = tmp_path / "case" / "data"
    shutil.copytree(MINIMAL, data)
    build(data)
    return data


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_case(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], cwd: Path
) -> None:
    if name in PENDING and not PENDING[name][0]():
        pytest.xfail(PENDING[name][1])
    build, problems = GENERATED[name]
    data = _build(tmp_path, build)
    expected = {"problems": [{"code": c, "file": f, "line": n} for c, f, n in problems]}
    found = check_case(data, expected, capsys, cwd)
    if name == "path-folder-symlink-loop":  # walked once, not once per way round the loop
        assert sum(1 for code, file, _ in found if file.endswith("broken.yaml")) == 1
