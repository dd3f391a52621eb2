"""Which files a run reads, under which role, and inside which data folder.

A folder argument is a data root. A file argument belongs to the nearest folder
above it that has an `actors/` folder, and brings that registry along, because
references cannot be resolved without it. Links never lead outside the root.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.parsers.base import Role
from toolkit.problems import Problem

SUFFIXES = frozenset({".yaml", ".yml", ".json", ".jsonl"})
ACTORS = "actors"
JUDGEMENTS = "judgements"  # resolution judgements: one per YAML file or JSONL line
SKIPPED_DIRS = frozenset({"texts"})  # text copies of articles, read by grounding only


@dataclass(frozen=True, slots=True)
class FileEntry:
    file: str  # display name, as the user would type it
    path: Path
    role: Role
    root: Path


def _inside(real: str, root_real: str) -> bool:
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def _role_in(name: str, outer: Role) -> Role:
    """The role of the files under a folder named `name` inside a folder of role `outer`."""
    if name == ACTORS:
        return "actor"
    if name == JUDGEMENTS:
        return "judgement"
    return outer


def _suffix(name: str) -> str:
    return os.path.splitext(name)[1].lower()


class _Collector:
    def __init__(self) -> None:
        self.entries: list[FileEntry] = []
        self.problems: list[Problem] = []
        # real path -> (index in entries, reached through a link)
        self.seen: dict[str, tuple[int, bool]] = {}

    def add(
        self, file: str, role: Role, root: str | Path, link: bool = False, real: str = ""
    ) -> None:
        """List a file once; when reached twice, name it by its own path, not by a link.
        `real` is its real path when the caller knows it."""
        real = real or os.path.realpath(file)
        entry = FileEntry(file, Path(file), role, root if isinstance(root, Path) else Path(root))
        if real not in self.seen:
            self.seen[real] = (len(self.entries), link)
            self.entries.append(entry)
        elif self.seen[real][1] and not link:
            index = self.seen[real][0]
            self.seen[real] = (index, False)
            self.entries[index] = entry

    def walk(
        self, root: str, folder: str, role: Role, visited: set[str], real_folder: str = ""
    ) -> None:
        """Depth-first in name order; `folder` is the display path of a folder under root
        (and `real_folder` its real path, when the caller knows it)."""
        root_real = os.path.realpath(root)
        root_path = Path(root)
        # an entry that is no link has its real path beside the folder's
        real_folder = real_folder or os.path.realpath(folder)
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.problems.append(Problem.of("P001", folder, reason=reason))
            return
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            shown = os.path.join(folder, name)
            try:
                is_dir = entry.is_dir()  # follows links
                if is_dir and name in SKIPPED_DIRS:
                    continue
                link = entry.is_symlink()
                if link:
                    if not is_dir and _suffix(name) not in SUFFIXES:
                        continue
                    if not _inside(os.path.realpath(entry.path), root_real):
                        self.problems.append(Problem.of("X705", shown, path=shown))
                        continue
            except OSError as exc:
                self.problems.append(Problem.of("P001", shown, reason=exc.strerror or str(exc)))
                continue
            real = os.path.realpath(entry.path) if link else os.path.join(real_folder, name)
            if is_dir:
                if real in visited:  # a link back up the tree would loop for ever
                    continue
                visited.add(real)
                self.walk(root, shown, _role_in(name, role), visited, real)
            elif _suffix(name) in SUFFIXES:
                self.add(shown, role, root_path, link, real)

    def folder(self, arg: str) -> None:
        real = os.path.realpath(arg)
        role = _role_in(os.path.basename(os.path.normpath(real)), "bundle")
        self.walk(arg, arg, role, {real})

    def file(self, arg: str) -> None:
        if _suffix(arg) not in SUFFIXES:
            raise UsageError(f"{arg}: not a .yaml, .yml, .json or .jsonl file")
        absolute = os.path.abspath(arg)
        parent = os.path.dirname(absolute)
        root_abs = parent
        candidate = parent
        while True:
            if os.path.isdir(os.path.join(candidate, ACTORS)):
                root_abs = candidate
                break
            up = os.path.dirname(candidate)
            if up == candidate:
                break
            candidate = up
        root = root_abs if os.path.isabs(arg) else os.path.relpath(root_abs)
        root_real = os.path.realpath(root_abs)
        if os.path.islink(arg) and not _inside(os.path.realpath(arg), root_real):
            self.problems.append(Problem.of("X705", arg, path=arg))
            return
        relative = os.path.relpath(absolute, root_abs)
        role: Role = "bundle"
        for part in Path(relative).parts[:-1]:
            role = _role_in(part, role)
        self.add(arg, role, root, os.path.islink(arg))
        actors = os.path.join(root_abs, ACTORS)
        if os.path.isdir(actors):
            shown = ACTORS if root == os.curdir else os.path.join(root, ACTORS)
            if os.path.islink(actors) and not _inside(os.path.realpath(actors), root_real):
                self.problems.append(Problem.of("X705", shown, path=shown))
            else:
                self.walk(root, shown, "actor", {os.path.realpath(actors)})


def discover(paths: Sequence[str]) -> tuple[list[FileEntry], list[Problem]]:
    """Files to read, in a stable order, and the problems met while finding them.

    Raises UsageError for a path that does not exist or a file of an unknown type.
    """
    collector = _Collector()
    for arg in paths:
        if not os.path.exists(arg):
            raise UsageError(f"{arg}: no such file or directory")
        if os.path.isdir(arg):
            collector.folder(arg)
        else:
            collector.file(arg)
    return collector.entries, collector.problems
