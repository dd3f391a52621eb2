"""The benchmark's record: the machine, the results table, the README's generated parts
(between markers) and issue #13's bounds made from results.json and results-large.json."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from pathlib import Path
from typing import Any

import bounds
from measure import Timing

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
README = BENCH / "README.md"
RESULTS = "results.json"
LARGE_RESULTS = "results-large.json"
START, END = "<!-- results:start -->", "<!-- results:end -->"
LARGE = ("<!-- large:start -->", "<!-- large:end -->")
BOUNDS = ("<!-- bounds:start -->", "<!-- bounds:end -->")
GROUNDING = ("<!-- grounding:start -->", "<!-- grounding:end -->")


def machine() -> dict[str, str]:
    import polars

    info: dict[str, str] = {"python": platform.python_version(), "polars": polars.__version__}
    for module in ("jsonschema_rs", "jsonschema", "pandas", "pyarrow", "frictionless"):
        try:
            from importlib.metadata import version

            info[module] = version(module.replace("_", "-"))
        except Exception:  # a missing optional package is just not listed
            pass
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core"):
                info[key.strip()] = value.strip()
    except (OSError, subprocess.CalledProcessError):
        info["cpus"] = str(os.cpu_count())
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory"] = f"{int(mem) / 1024 / 1024:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    info["os"] = platform.platform()
    return info


def table(results: list[Timing]) -> str:
    floor = {t.facts: t.seconds for t in results if t.name.startswith("floor")}
    export = {t.facts: t.seconds for t in results if t.name == "factkit export"}
    lines = [
        "| run | facts | median wall (s) | facts/s | peak RSS (MB) | tree peak (MB) "
        "| vs floor | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t in results:
        ratio = ""
        if t.facts in floor and not t.name.startswith("YAML"):
            ratio = f"{t.seconds / floor[t.facts]:.2f}×"
        notes = [t.note] if t.note else []
        if t.name.startswith("naive") and t.facts in export:
            notes.append(f"{t.seconds / export[t.facts]:.1f}× factkit export's time")
        runs = f"{len(t.runs)} runs" if len(t.runs) != 1 else "1 run"
        notes.append(runs)
        lines.append(
            f"| {t.name} | {t.facts:,} | {t.seconds:.2f} | {t.rate:,.0f} | {t.peak_mb:,.0f} "
            f"| {t.tree_peak_mb:,.0f} | {ratio} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def write_readme(text: str, marks: tuple[str, str] = (START, END)) -> None:
    start, end = marks
    if not README.exists():
        return
    body = README.read_text(encoding="utf-8")
    if start in body and end in body:
        head, _, rest = body.partition(start)
        _, _, tail = rest.partition(end)
        README.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


def read_results(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def compare_with_1m(results: list[Timing], where: Path) -> None:
    """Note each 10M run's time and peak memory against the same run at 1M in
    results.json (the targets: about linear time, at most 1.5× the peak)."""
    earlier = read_results(where / RESULTS)
    if earlier is None:
        return
    for t in results:
        same = [r for r in earlier["results"] if r["name"] == t.name and r["facts"] == 1_000_000]
        if not same:
            continue
        seconds = statistics.median(same[0]["runs"])
        peak = max(same[0].get("tree_mb") or same[0]["rss_mb"])
        compared = (
            f"{t.seconds / seconds:.1f}× the 1M run's time ({seconds:.1f} s), "
            f"{t.tree_peak_mb / peak:.2f}× its tree peak ({peak:,.0f} MB)"
        )
        t.note = f"{t.note}; {compared}" if t.note else compared


def bounds_text(where: Path) -> str:
    """Issue #13's bounds from the results files in `where`, with where each came from."""
    small = read_results(where / RESULTS)
    large = read_results(where / LARGE_RESULTS)
    origin = []
    for name, payload in ((RESULTS, small), (LARGE_RESULTS, large)):
        if payload is None:
            origin.append(f"no {name}")
        else:
            when = payload.get("date", "date not recorded")
            commit = payload.get("commit", "commit not recorded")
            origin.append(f"{name} ({when}, {commit})")
    rows = small["results"] if small else []
    big = large["results"] if large else []
    return f"Generated by `bench/run.py` from {' and '.join(origin)}.\n\n{bounds.table(rows, big)}"


def commit() -> str:
    found = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"
