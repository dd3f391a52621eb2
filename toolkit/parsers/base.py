"""What every parser hands to the rest of factkit: documents that know where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from toolkit.problems import Problem

Role = Literal["bundle", "actor", "judgement"]


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
    """Bounds that keep a run fast and its memory small; each breach has its own code.

    Data comes from strangers (factkit is their pull request's CI check), so every
    input dimension that costs time or memory has a bound that is checked before the
    cost is paid: the size of a file before it is read, a line before it is decoded,
    the depth before a value is built. docs/limits.md lists them.
    """

    # L001, checked before reading. A YAML or JSON file holds one record; what parsing it
    # costs is bounded by L008 too (the README's limits section has measured figures).
    # JSONL is read a line at a time, so only its run time grows with its size: the limit
    # admits a million machine-extracted facts (about 500 MB) and refuses files of GBs.
    max_file_bytes: int = 32 * 1024 * 1024
    max_jsonl_bytes: int = 1024 * 1024 * 1024
    max_line_bytes: int = 16 * 1024 * 1024  # L005, one JSONL line
    max_depth: int = 64  # L002, nested mappings and lists
    max_string_chars: int = 1_000_000  # L003, one string or key
    max_facts_per_bundle: int = 10_000  # L004, all facts of one bundle together
    max_text_bytes: int = 16 * 1024 * 1024  # L006, one text copy of a source
    # L007: past this a file's report is noise, and a crafted file (a million blank JSONL
    # lines, a mapping of a million unknown keys) would otherwise cost a problem object
    # per byte or two of input.
    max_problems_per_file: int = 1_000
    # L008: scalars, mappings and lists in one YAML or JSON file. Each costs the YAML
    # parser an event and a position in memory (~200 bytes) whatever its size, so a file
    # of tiny values (`[1,1,1,…]`: 16.7M in 32 MB) cost minutes and GBs; a bundle at the
    # fact limit holds under half a million.
    max_values_per_file: int = 1_000_000


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
