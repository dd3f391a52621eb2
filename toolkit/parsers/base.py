"""What every parser hands to the rest of factkit: documents that know where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from toolkit.problems import Problem

Role = Literal["bundle", "actor"]


class Locator(Protocol):
    """Maps a JSON pointer inside one document to a 1-based (line, column) in its file."""

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        """Position of the value at `pointer` (or of its key when `key` is true).

        Falls back to the nearest enclosing value that has a position; None only
        when the document itself has none.
        """
        ...


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep a run fast and its memory small; each breach has its own code."""

    max_file_bytes: int = 256 * 1024 * 1024
    max_line_bytes: int = 16 * 1024 * 1024
    max_depth: int = 64
    max_string_chars: int = 1_000_000
    max_facts_per_bundle: int = 10_000


@dataclass(slots=True)
class Document:
    """One bundle or actor record, parsed into plain JSON values."""

    file: str  # as given on the command line (or found under a given folder)
    path: Path  # the filesystem path it was read from
    role: Role
    value: Any  # dict / list / str / int / float / bool / None, nothing else
    locator: Locator
    line: int = 1  # where the record starts (the line number in a JSONL file)
    root: Path | None = None  # the data folder the document belongs to

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int]:
        pos = self.locator.locate(pointer, key=key)
        return pos if pos is not None else (self.line, 1)


@dataclass(slots=True)
class ParseResult:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
