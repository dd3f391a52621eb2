"""NEL, LS and PS (U+0085, U+2028, U+2029): the YAML parser starts a new line at each,
editors and `grep -n` do not. Reported lines are the editor's; the characters are flagged
(X704) wherever they are typed, and a NEL is never exported as the space YAML folds it to."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.cache import ParseCache
from toolkit.checker import run
from toolkit.export import export

DATA = Path(__file__).resolve().parents[1] / "data"
BUNDLE = Path("sources/2024/censor-2024-06-20-russia-coalition.yaml")


def _dataset(tmp_path: Path, char: str) -> tuple[Path, int, int]:
    """The seed data with `char` inside a quoted outlet and a typo further down; the
    lines (as `grep -n` counts them) of both."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    path = data / BUNDLE
    lines = path.read_text(encoding="utf-8").split("\n")
    outlet = next(i for i, line in enumerate(lines) if line.strip().startswith("outlet:"))
    lines[outlet] = lines[outlet].replace("Censor.NET", f'"Censor{char}.NET"')
    typo = next(i for i, line in enumerate(lines) if "category: weapons" in line)
    lines[typo] = lines[typo].replace("weapons", "weapns")
    path.write_text("\n".join(lines), encoding="utf-8")
    return data, outlet + 1, typo + 1


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85"])
@pytest.mark.parametrize("cached", [False, True])
def test_lines_after_a_line_separator_in_a_quoted_string_are_the_editors(
    tmp_path: Path, char: str, cached: bool
) -> None:
    data, outlet, typo = _dataset(tmp_path, char)
    cache = ParseCache(tmp_path / "cache") if cached else None
    if cached:
        run([str(data)], cache=cache)  # fill it: the second run reads positions lazily
    problems = run([str(data)], cache=cache).report.problems
    found = {(p.code, p.line) for p in problems}
    assert ("V401", typo) in found, found
    assert ("X704", outlet) in found, found
    flagged = next(p for p in problems if p.code == "X704")
    assert f"U+{ord(char):04X}" in flagged.message


def test_a_next_line_character_is_refused_not_exported_as_a_space(tmp_path: Path) -> None:
    data, outlet, _ = _dataset(tmp_path, "\x85")
    path = data / BUNDLE
    path.write_text(path.read_text(encoding="utf-8").replace("weapns", "weapons"), encoding="utf-8")
    result = export([str(data)], tmp_path / "out")
    assert not result.written
    assert [(p.code, p.line) for p in result.report.problems] == [("X704", outlet)]
    assert not (tmp_path / "out").exists()


def test_line_separators_in_json_strings_are_flagged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    (data / "sources").mkdir()
    (data / "sources" / "b.json").write_text(
        '{"format": 2, "source": {"id": "b", "outlet": "A\\u2028B", "published_on": "2024",\n'
        '"language": "en"}, "extraction": {"method": "manual", "by": "me",\n'
        '"extracted_on": "2024", "review": "accepted"}}\n',
        encoding="utf-8",
    )
    problems = run([str(data)]).report.problems
    assert [(p.code, p.line, p.pointer) for p in problems] == [("X704", 1, "/source/outlet")]
