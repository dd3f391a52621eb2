"""Export of the 1M-fact synthetic set in both layouts, in turn: wall time and peak RSS.

    python bench/layouts.py [--facts 1000000] [--runs 3]

Uses the data `make bench` generates in .bench/ (generated here when missing), runs
`factkit export --layout files` and `--layout partitioned` alternately, each in its own
process, and prints a Markdown table of medians (bench/README.md, "Export layouts"):
wall time, CPU time (user + system, from `os.wait4`: steadier than wall time on a shared
machine) and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import toolkit
from report import REPO
from run import synth


def measure(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB, exit code) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    work = REPO / ".bench" / str(args.facts) / "clean"  # where `make bench` puts it
    bundles = work / "bundles.jsonl"
    synth(bundles, args.facts)
    seconds: dict[str, list[float]] = {"files": [], "partitioned": []}
    cpus: dict[str, list[float]] = {"files": [], "partitioned": []}
    rss: dict[str, list[float]] = {"files": [], "partitioned": []}
    for _ in range(args.runs):
        for layout in seconds:
            out = work.parent / f"out-{layout}"
            shutil.rmtree(out, ignore_errors=True)
            cmd = toolkit("export", str(work), "--out", str(out), "--layout", layout, "-q")
            wall, cpu, peak, code = measure(cmd)
            if code != 0:
                raise SystemExit(f"{' '.join(cmd)} exited {code}")
            seconds[layout].append(wall)
            cpus[layout].append(cpu)
            rss[layout].append(peak)
            print(f"  {layout:<12} {wall:8.2f} s  {cpu:8.2f} s CPU  {peak:8.0f} MB", flush=True)
    print("| layout | facts | median wall (s) | median CPU (s) | peak RSS (MB) | runs, wall (s) |")
    print("|---|---:|---:|---:|---:|---|")
    for layout, runs in seconds.items():
        each = ", ".join(f"{s:.1f}" for s in runs)
        print(
            f"| `{layout}` | {args.facts:,} | {statistics.median(runs):.1f} | "
            f"{statistics.median(cpus[layout]):.1f} | {max(rss[layout]):,.0f} | {each} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
