"""One measured process: wall time, its own peak memory and its process tree's.

The process's own peak (max RSS) comes from `os.wait4`, exact but blind to children: the
fast lane's worker, and the JVM a Spark session starts, are processes of their own (and
`wait4` would count only the largest of them, not their sum). So a thread samples, every
`SAMPLE` seconds while the process runs, the summed RSS of the process and all its
descendants from /proc (shared pages are counted once per process that maps them); the
tree's peak is the larger of that and the process's own max RSS.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PYTHON = sys.executable
SAMPLE = 0.1  # seconds between two samples of the process tree
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class Timing:
    name: str
    facts: int
    runs: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)  # the process's own max RSS
    tree_mb: list[float] = field(default_factory=list)  # its process tree's peak
    exit_codes: list[int] = field(default_factory=list)
    note: str = ""
    # for engine runs: problems in the report, and whether it equals polars' report
    problems: int | None = None
    same_as_polars: bool | None = None
    # for validate runs (`--profile`): the stages that raised the process's peak memory
    # most, as "stage +MB", in the run with the highest peak
    peak_stages: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return statistics.median(self.runs)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_mb)

    @property
    def tree_peak_mb(self) -> float:
        return max(self.tree_mb or self.rss_mb)

    @property
    def rate(self) -> float:
        return self.facts / self.seconds if self.seconds else 0.0


def _parents() -> dict[int, list[int]]:
    """Every process's children, from the parent field of /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # gone meanwhile
            continue
        # the command name, in brackets, may hold spaces: the fields after it are plain
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def tree_rss(root: int) -> int:
    """The summed resident memory (bytes) of `root` and its descendants."""
    children = _parents()
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
        stack += children.get(pid, [])
    return total


class TreeSampler:
    """Samples `tree_rss(pid)` in a thread until stopped; `peak` is the largest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(SAMPLE)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


@dataclass
class Measured:
    wall: float  # seconds
    rss_mb: float  # the process's own max RSS
    tree_mb: float  # its process tree's peak
    code: int


def measure(cmd: list[str], *, cwd: Path | None = None, log: Path | None = None) -> Measured:
    """Run `cmd` once; its output is dropped, or written to `log` (stdout and stderr)."""
    handle = open(log, "wb") if log is not None else None  # noqa: SIM115 - closed below
    out = handle if handle is not None else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=out)
        sampler = TreeSampler(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        tree = sampler.stop()
    finally:
        if handle is not None:
            handle.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    own = usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux
    return Measured(wall, own, max(own, tree / 1024**2), proc.returncode)


def record(timing: Timing, one: Measured) -> None:
    timing.runs.append(one.wall)
    timing.rss_mb.append(one.rss_mb)
    timing.tree_mb.append(one.tree_mb)
    timing.exit_codes.append(one.code)
    print(
        f"  {timing.name:<36} {timing.facts:>10,} facts  {one.wall:8.2f} s  "
        f"{one.rss_mb:8.0f} MB  tree {one.tree_mb:8.0f} MB  exit {one.code}",
        flush=True,
    )


def toolkit(*args: str) -> list[str]:
    """`factkit ARGS` with this interpreter (the worktree's toolkit when on PYTHONPATH)."""
    return [PYTHON, "-m", "toolkit", *args]
