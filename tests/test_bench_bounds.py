"""The benchmark's bounds table (bench/bounds.py): each verdict follows from the results."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bounds = _module("bounds")


def row(name: str, facts: int, seconds: float, mb: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "facts": facts,
        "runs": [seconds],
        "rss_mb": [mb / 2],
        "tree_mb": [mb],
        "exit_codes": [0],
        **extra,
    }


M, TEN = 1_000_000, 10_000_000


def test_floor_and_naive_met_and_missed() -> None:
    met = [row("factkit export", M, 10, 1), row("floor (polars only)", M, 5, 1)]
    assert bounds.floor_bound(met)[1] == "**met**"
    missed = [row("factkit export", M, 15, 1), row("floor (polars only)", M, 5, 1)]
    measured, verdict = bounds.floor_bound(missed)
    assert "3.00×" in measured and verdict == "**missed** by 1.50×"
    naive = [*missed, row("naive (json+jsonschema+pandas)", M, 150, 1)]
    measured, verdict = bounds.naive_bound(naive)
    assert "10.0× faster" in measured
    assert verdict.startswith("**missed** by 2.00×") and "≤ 7.5 s" in verdict
    checked = [*naive, row("factkit validate", M, 9, 1)]
    assert bounds.floor_bound(checked)[1] == (
        "**missed** by 1.50×; validation alone takes 9.0 s, 1.80× the floor"
    )
    assert bounds.naive_bound(checked)[1].endswith("; validation alone takes 9.0 s")
    assert bounds.floor_bound([*met, row("factkit validate", M, 9, 1)])[1] == "**met**"


def test_peak_and_time_at_10m_against_1m() -> None:
    small = [row("factkit validate", M, 10, 1000)]
    large = [row("factkit validate", TEN, 110, 1400)]
    assert bounds.peak_bound(small, large, "factkit validate")[1] == "**met**"
    assert bounds.linear_bound(small, large, "factkit validate")[1] == "**met**"
    large = [row("factkit validate", TEN, 150, 7600)]
    assert bounds.peak_bound(small, large, "factkit validate")[1] == "**missed** by 5.07×"
    exports = [row("factkit export", M, 10, 1000)], [row("factkit export", TEN, 150, 7600)]
    assert bounds.peak_bound(*exports, "factkit export")[1] == (
        "**missed** by 5.07×; " + bounds.EXPORT_PEAK_WHY
    )
    assert bounds.linear_bound(small, large, "factkit validate")[1] == "**missed** by 1.25×"
    stages = ["duplicates.check_duplicates +2,100 MB", "load +900 MB"]
    large = [row("factkit validate", TEN, 150, 7600, peak_stages=stages)]
    assert bounds.peak_bound(small, large, "factkit validate")[1] == (
        "**missed** by 5.07×; at 10M the peak rises most in "
        "duplicates.check_duplicates +2,100 MB, load +900 MB"
    )


def test_a_validate_profile_names_the_stages_that_raised_the_peak(tmp_path: Path) -> None:
    import json

    sys.path.insert(0, str(BENCH))  # the bench's modules import each other by name
    try:
        engines = _module("engines")
    finally:
        sys.path.remove(str(BENCH))
    report = tmp_path / "polars.json"
    stages = [
        {"stage": "load", "seconds": 9.0, "peak_mb": 600.0, "raised_mb": 600.0},
        {"stage": "a.check_x", "seconds": 1.0, "peak_mb": 650.0, "raised_mb": 50.0},
        {"stage": "b.check_y", "seconds": 1.0, "peak_mb": 1450.0, "raised_mb": 800.0},
    ]
    engines.profile_of(report).write_text(json.dumps({"peak_mb": 1450.0, "stages": stages}))
    assert engines.peak_stages(report.with_name("polars-profile.json"), top=2) == (
        1450.0,
        ["b.check_y +800 MB", "load +600 MB"],
    )
    assert engines.peak_stages(tmp_path / "missing.json") == (0.0, [])
    command = engines.command(tmp_path, report, "duckdb")
    assert command[command.index("--profile") + 1] == str(engines.profile_of(report))


def test_tree_peak_preferred_and_process_peak_for_older_results() -> None:
    older = row("factkit validate", M, 10, 1000)
    del older["tree_mb"]
    large = [row("factkit validate", TEN, 100, 1000)]
    measured, _ = bounds.peak_bound([older], large, "factkit validate")
    assert "1,000 MB vs 500 MB" in measured


def test_spark_must_complete_with_polars_report() -> None:
    name = "factkit validate --engine spark"
    assert "**met**" in bounds.spark_bound([row(name, TEN, 600, 3000, same_as_polars=True)])
    assert "differs" in bounds.spark_bound([row(name, TEN, 600, 3000, same_as_polars=False)])[0]
    failed = row(name, TEN, 600, 3000, same_as_polars=False)
    failed["exit_codes"] = [2]
    assert bounds.spark_bound([failed])[1] == "**missed**"


def test_missing_runs_are_said_not_guessed() -> None:
    text = bounds.table([], [])
    assert text.count("not measured") == 10
    assert "**met**" not in text and "**missed**" not in text
    yaml = [row("YAML validate, 1 file changed", 50_000, 2.5, 500)]
    assert bounds.yaml_bound(yaml) == ("2.50 s", "**missed** by 0.50 s (1.25× the bound)")
