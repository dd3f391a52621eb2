"""Files to documents: every format, one entry point, problems instead of exceptions."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toolkit.parsers.base import Document, Limits, Locator, ParseResult, Role
from toolkit.parsers.decode import decode, read_bytes
from toolkit.parsers.discover import FileEntry, discover
from toolkit.parsers.fast_lane import FastLane
from toolkit.parsers.json_parser import parse_json
from toolkit.parsers.jsonl_stream import Batch, stream_jsonl
from toolkit.parsers.yaml_parser import parse_yaml
from toolkit.problems import Problem

__all__ = [
    "Batch",
    "Document",
    "FileEntry",
    "Limits",
    "Locator",
    "ParseResult",
    "Role",
    "discover",
    "parse_bytes",
    "parse_file",
    "stream_file",
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
    if fmt == "jsonl":
        with _gc_paused():
            return collect(stream_jsonl(path, file, role, limits, root))
    data, problems = read_bytes(path, file, limits)
    if data is None:
        return ParseResult(problems=problems)
    return parse_bytes(data, path, file, role, limits, root)


def parse_bytes(
    data: bytes, path: Path, file: str, role: Role, limits: Limits, root: Path | None
) -> ParseResult:
    """A YAML or JSON file's bytes (as `read_bytes` gave them), parsed whole."""
    fmt = _FORMATS.get(path.suffix.lower())
    decoded = decode(data, file, yaml=fmt == "yaml", controls=fmt != "jsonl")
    del data
    text = decoded.text
    if text is None or decoded.failed:
        return ParseResult(problems=decoded.problems)
    with _gc_paused():
        if fmt == "yaml":
            result = parse_yaml(text, file, path, role, limits, root)
        else:
            result = parse_json(text, file, path, role, limits, root)
    result.problems[:0] = decoded.problems
    return result


def collect(batches: Iterator[Batch]) -> ParseResult:
    """One file's batches as one result (a fatal batch voids what came before it)."""
    result = ParseResult()
    for batch in batches:
        if batch.fatal:
            return ParseResult(problems=batch.problems)
        result.documents += batch.documents
        result.problems += batch.problems
    return result


def stream_file(
    path: Path,
    file: str,
    role: Role,
    limits: Limits = DEFAULT_LIMITS,
    root: Path | None = None,
    lane: FastLane | None = None,
) -> Iterator[Batch]:
    """The documents and problems of one file in batches: JSONL a block of lines at a time
    (see `stream_jsonl`, and `fast_lane` for `lane`), every other format whole, as one
    batch. Gives what `parse_file` gives; only the batching differs."""
    if path.suffix.lower() == ".jsonl":
        yield from stream_jsonl(path, file, role, limits, root, lane=lane)
        return
    result = parse_file(path, file, role, limits, root)
    yield Batch(documents=result.documents, problems=result.problems)
