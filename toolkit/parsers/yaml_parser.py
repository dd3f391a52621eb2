"""YAML bundles and actors: the strict builder (`yaml_builder`) over libyaml's events,
with a problem for anything that is not plain JSON-like data and a position for every
value and key."""

from __future__ import annotations

from pathlib import Path

import yaml

from toolkit.parsers.base import Document, Limits, ParseResult, Role
from toolkit.parsers.decode import describe_control
from toolkit.parsers.locate import DictLocator, LineIndex
from toolkit.parsers.yaml_builder import BYTE_OFFSETS, LOADER, NOTHING, Builder, TooMany
from toolkit.problems import Problem


def _error_problem(exc: yaml.YAMLError, text: str, file: str, max_depth: int) -> Problem:
    """P010 (or P004 for a control character libyaml refuses) at the parser's mark."""
    if isinstance(exc, yaml.reader.ReaderError):
        offset = exc.position
        if BYTE_OFFSETS:
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        line, column = LineIndex(text, yaml=True).position(offset)
        if isinstance(exc.character, int):
            what = describe_control(chr(exc.character))
            return Problem.of("P004", file, line=line, column=column, what=what)
        return Problem.of("P010", file, line=line, column=column, format="YAML", reason=exc.reason)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if "maximum nesting depth" in reason:  # libyaml's own bound, met before ours
            return Problem.of("L002", file, line=line, column=column, limit=max_depth)
        hint = None
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            hint = "YAML does not allow tabs for indentation; use spaces"
        return Problem.of(
            "P010", file, line=line, column=column, hint=hint, format="YAML", reason=reason
        )
    return Problem.of("P010", file, line=1, column=1, format="YAML", reason=str(exc))


def parse_yaml(
    text: str, file: str, path: Path, role: Role, limits: Limits, root: Path | None
) -> ParseResult:
    """Parse one YAML bundle or actor file; a document only when no error was found."""
    return parse_strict(text, file, path, role, limits, root)


def parse_strict(
    text: str, file: str, path: Path, role: Role, limits: Limits, root: Path | None
) -> ParseResult:
    """`parse_yaml` by the strict builder alone, every position found while parsing."""
    builder = Builder(file, limits)
    loader = LOADER(text)
    try:
        builder.run(loader.get_event)
    except yaml.YAMLError as exc:
        builder.problems.append(_error_problem(exc, text, file, limits.max_depth))
    except TooMany:
        pass
    finally:
        loader.dispose()
    result = ParseResult(problems=builder.problems)
    if builder.root is not NOTHING and not any(p.severity == "error" for p in builder.problems):
        locator = DictLocator(builder.values, builder.keys)
        result.documents.append(
            Document(file, path, role, builder.root, locator, line=1, root=root)
        )
    return result
