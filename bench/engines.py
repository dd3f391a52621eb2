"""`factkit validate` on polars, DuckDB and Spark, side by side, reports compared.

Each round runs polars and then every other engine once, in turn, so that the machine's
drift over minutes falls on all of them alike. Every run writes its JSON report; an
engine's run is the same as polars' when the two reports are equal, problem for problem
(and summary for summary), compared with polars' report of the same round. An engine run
that fails (exit 2: Java missing, out of memory) is recorded, with its output kept in a
log beside the reports, and does not stop the benchmark.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from measure import Timing, measure, record, toolkit

ENGINES = ("duckdb", "spark")
VALIDATE = "factkit validate"


def label(engine: str, suffix: str = "") -> str:
    """The row name: polars, the default engine, keeps the plain `factkit validate`."""
    base = VALIDATE if engine == "polars" else f"{VALIDATE} --engine {engine}"
    return base + suffix


def require_engine_option() -> None:
    """Stop early, before minutes of other runs, when the CLI cannot choose an engine."""
    shown = subprocess.run(toolkit("validate", "--help"), capture_output=True, text=True)
    if "--engine" not in shown.stdout:
        raise SystemExit(
            "factkit validate has no --engine option here: to measure the default engine "
            "only, run bench/run.py --engines '' (make bench BENCH_ARGS=\"--engines ''\")"
        )


def command(folder: Path, report: Path, engine: str) -> list[str]:
    cmd = toolkit("validate", str(folder), "--format", "json", "--output", str(report), "--quiet")
    cmd += ["--profile", str(profile_of(report))]
    return cmd if engine == "polars" else [*cmd, "--engine", engine]


def profile_of(report: Path) -> Path:
    return report.with_name(f"{report.stem}-profile.json")


def peak_stages(profile: Path, top: int = 3) -> tuple[float, list[str]]:
    """(peak MB, the `top` stages that raised it most as "stage +MB") of a run's profile."""
    found = read_report(profile)
    if found is None:
        return 0.0, []
    stages = sorted(found["stages"], key=lambda s: -float(s["raised_mb"]))[:top]
    shown = [f"{s['stage']} +{float(s['raised_mb']):,.0f} MB" for s in stages]
    return float(found["peak_mb"]), shown


def read_report(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def in_turn(
    folder: Path,
    facts: int,
    engines: list[str],
    runs: int,
    reports: Path,
    *,
    baseline: Path | None = None,
    suffix: str = "",
    ok: tuple[int, ...] = (0,),
) -> list[Timing]:
    """Polars (unless `baseline`, polars' report made already) and each engine, `runs`
    rounds; each engine's Timing says whether its reports equalled polars'."""
    reports.mkdir(parents=True, exist_ok=True)
    names = ([] if baseline is not None else ["polars"]) + list(engines)
    timings = {name: Timing(label(name, suffix), facts) for name in names}
    failed: dict[str, int] = {}
    best: dict[str, float] = {}  # the highest peak a profile showed, by engine
    for _ in range(runs):
        expected = read_report(baseline) if baseline is not None else None
        for name in names:
            report = reports / f"{name}.json"
            report.unlink(missing_ok=True)  # a failed run must not leave an older one
            one = measure(command(folder, report, name), log=reports / f"{name}.log")
            timing = timings[name]
            record(timing, one)
            peak, stages = peak_stages(profile_of(report))
            if stages and peak >= max(best.get(name, 0.0), 0.0):
                best[name], timing.peak_stages = peak, stages
            found = read_report(report) if one.code in ok else None
            if name == "polars":
                if found is None:
                    raise SystemExit(f"{timing.name}: exited {one.code} (see {reports}/polars.log)")
                expected = found
                timing.problems = len(found["problems"])
                continue
            if found is None:
                failed[name] = one.code
                timing.same_as_polars = False
                continue
            timing.problems = len(found["problems"])
            same = expected is not None and found == expected
            timing.same_as_polars = same and timing.same_as_polars is not False
    for name, timing in timings.items():
        if name == "polars":
            continue
        if name in failed:
            timing.note = f"did not complete (exit {failed[name]}; log: {reports / name}.log)"
        elif timing.same_as_polars:
            timing.note = f"same report as polars ({timing.problems:,} problems)"
        else:
            timing.note = (
                f"report DIFFERS from polars' ({timing.problems:,} problems; {reports / name}.json)"
            )
    return list(timings.values())
