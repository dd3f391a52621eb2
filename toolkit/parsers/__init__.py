"""Files to documents: every format, one entry point, problems instead of exceptions."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolkit.parsers.base import Document, Limits, Locator, ParseResult, Role
from toolkit.parsers.decode import decode, read_bytes
from toolkit.parsers.discover import FileEntry, discover
from toolkit.parsers.json_parser import parse_json, parse_jsonl
from toolkit.parsers.yaml_parser import parse_yaml
from toolkit.problems import Problem

__all__ = [
    "Document",
    "FileEntry",
    "Limits",
    "Locator",
    "ParseResult",
    "Role",
    "discover",
    "parse_file",
]

DEFAULT_LIMITS = Limits()
_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl"}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing allocates millions of acyclic containers; the cycle collector would rescan
    the growing heap again and again (half the time of a large JSONL file) for nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_file(
    path: Path, file: str, role: Role, limits: Limits = DEFAULT_LIMITS, root: Path | None = None
) -> ParseResult:
    """Read, decode and parse one file by its suffix. Bad input gives problems, never raises.

    A document is returned only when its file (for JSONL: its line) has no error.
    """
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        reason = f"unsupported file type '{path.suffix}' (use .yaml, .yml, .json or .jsonl)"
        return ParseResult(problems=[Problem.of("P001", file, reason=reason)])
    data, problems = read_bytes(path, file, limits)
    if data is None:
        return ParseResult(problems=problems)
    decoded = decode(data, file, yaml=fmt == "yaml", controls=fmt != "jsonl")
    del data
    text = decoded.text
    if text is None or decoded.failed:
        return ParseResult(problems=decoded.problems)
    with _gc_paused():
        if fmt == "yaml":
            result = parse_yaml(text, file, path, role, limits, root)
        elif fmt == "json":
            result = parse_json(text, file, path, role, limits, root)
        else:
            result = parse_jsonl(text, file, path, role, limits, root, decoded.controls)
    result.problems[:0] = decoded.problems
    return result
