"""Whether an `--out` folder may be replaced: only when it provably holds a factkit export.

An export replaces its target as a whole, so a folder of someone's own files must never
qualify because its names end in `.csv`. Every export writes a marker, `.factkit-export`,
listing the files it wrote; a folder may be replaced when it is empty, or when it holds
that marker and nothing but the files the marker lists. An export written before the
marker existed qualifies when every file in it is factkit's own: a `datapackage.json`
with factkit's keys, the CSV files it lists, and Parquet files whose footer carries
factkit's metadata. Anything else (a subfolder, a link, a file nobody listed) keeps the
folder as it is and raises `NotAnExportError`, naming the folder and what is in the way.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from toolkit.errors import NotAnExportError

MARKER = ".factkit-export"
_KIND = "factkit export"
_DESCRIPTOR = "datapackage.json"
_PREFIX = b"factkit:"
_SHOWN = 3  # names quoted in the message


def marker_bytes(files: list[str]) -> bytes:
    """The marker's content: what wrote the folder and the files it wrote (sorted, so
    identical exports stay byte-identical)."""
    body = {"kind": _KIND, "version": 1, "files": sorted(files)}
    return (json.dumps(body, indent=1) + "\n").encode("utf-8")


def _read_regular(folder: Path, name: str, limit: int = 1 << 20) -> bytes | None:
    """The bytes of `folder/name` if it is a small regular file (not followed if a link)."""
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)


def _listed_by_marker(folder: Path) -> set[str] | None:
    data = _read_regular(folder, MARKER)
    try:
        body: Any = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if type(body) is not dict or body.get("kind") != _KIND:
        return None
    files = body.get("files")
    if type(files) is not list or not all(type(f) is str for f in files):
        return None
    return {*files, MARKER}


def _factkit_parquet(path: Path) -> bool:
    try:
        meta = pq.read_metadata(path).metadata or {}
    except Exception:  # anything pyarrow cannot read as Parquet is not ours
        return False
    return any(key.startswith(_PREFIX) for key in meta)


def _legacy_files(folder: Path, names: list[str]) -> set[str]:
    """The files of an export from before the marker that are provably factkit's."""
    ours: set[str] = set()
    data = _read_regular(folder, _DESCRIPTOR, limit=64 << 20)
    try:
        package: Any = json.loads(data) if data is not None else None
    except ValueError:
        package = None
    if type(package) is dict and "factkit:toolkit_version" in package:
        ours.add(_DESCRIPTOR)
        resources = package.get("resources")
        for resource in resources if type(resources) is list else []:
            if type(resource) is dict and type(path := resource.get("path")) is str:
                ours.add(path)
    for name in names:
        if name.endswith(".parquet") and _factkit_parquet(folder / name):
            ours.add(name)
    return ours


def _walk(folder: Path, prefix: str = "") -> tuple[list[str], list[str]]:
    """Regular files below `folder` as '/'-joined relative paths, and every other entry
    (a link, a FIFO, …); links are never followed."""
    files: list[str] = []
    other: list[str] = []
    for entry in os.scandir(folder):
        name = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            sub_files, sub_other = _walk(Path(entry.path), name + "/")
            files += sub_files
            other += sub_other
            if not sub_files and not sub_other:
                other.append(name + "/")
        elif entry.is_file(follow_symlinks=False):
            files.append(name)
        else:
            other.append(name)
    return files, other


def check_target(target: Path) -> None:
    """Raise NotAnExportError unless `target` is missing, empty or a factkit export.

    The marker may list files in sub-folders (the partitioned layout); an export from
    before the marker had none, so there only top-level files qualify."""
    try:
        files, other = _walk(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise NotAnExportError(f"{target}: cannot read it: {exc.strerror or exc}") from exc
    if not files and not other:
        return
    listed = _listed_by_marker(target)
    if listed is None:
        listed = _legacy_files(target, [f for f in files if "/" not in f])
    foreign = sorted({f.split("/")[0] for f in files if f not in listed} | set(other))
    if not foreign:
        return
    shown = ", ".join(repr(n) for n in foreign[:_SHOWN])
    more = f" and {len(foreign) - _SHOWN} more" if len(foreign) > _SHOWN else ""
    raise NotAnExportError(
        f"{target}: is not a factkit export (it holds {shown}{more}, which no export of "
        f"factkit wrote); refusing to replace it: give --out a new or empty folder"
    )
