"""factkit's benchmark: `make bench` (100k and 1M facts) and `make bench-large` (10M).

Every measured command runs in its own process; its wall time comes from the clock, its
peak memory from `os.wait4` (the process's own) and from sampling its process tree
(`measure.py`: the fast lane's worker, a Spark run's JVM). Each is run --runs times and
the median is reported (the naive baseline at the largest size fewer times, see
--naive-runs). `factkit validate` runs on polars and, in turn with it, on each engine of
--engines (`engines.py`), their JSON reports compared problem for problem. The table,
with the machine's details, goes to stdout, to bench/results.json and into
bench/README.md between the result markers; issue #13's bounds (`bounds.py`) are then
stated from results.json and results-large.json together.

    python bench/run.py                       # make bench
    python bench/run.py --large               # make bench-large: 10M facts, once each
    python bench/run.py --sizes 20000 --runs 1 --no-readme   # a quick try (results in .bench/)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import engines  # bench/'s own modules: the script's folder is first on sys.path
from measure import PYTHON, Timing, measure, record, toolkit
from report import (
    BENCH,
    BOUNDS,
    END,
    GROUNDING,
    LARGE,
    LARGE_RESULTS,
    REPO,
    RESULTS,
    START,
    bounds_text,
    commit,
    compare_with_1m,
    machine,
    table,
    write_readme,
)


def repeat(
    name: str,
    facts: int,
    cmd: list[str],
    runs: int,
    *,
    cwd: Path | None = None,
    before: Any = None,
    ok: tuple[int, ...] = (0,),
    note: str = "",
) -> Timing:
    timing = Timing(name, facts, note=note)
    for _ in range(runs):
        if before is not None:
            before()
        one = measure(cmd, cwd=cwd)
        if one.code not in ok:
            raise SystemExit(f"{name}: {' '.join(cmd)} exited {one.code}")
        record(timing, one)
    return timing


def paired(
    name: str, facts: int, cmd: list[str], clean: list[str], runs: int, *, note: str
) -> Timing:
    """`cmd` (exit 1: invalid data) timed in turn with the clean run `clean`, so that their
    ratio does not drift with the machine over the minutes between separate series."""
    timing = Timing(name, facts)
    beside = Timing("factkit validate (clean, in turn)", facts)
    for _ in range(runs):
        for into, command, ok in ((beside, clean, (0,)), (timing, cmd, (1,))):
            one = repeat(into.name, facts, command, 1, ok=ok)
            into.runs += one.runs
            into.rss_mb += one.rss_mb
            into.tree_mb += one.tree_mb
            into.exit_codes += one.exit_codes
    ratio = timing.seconds / beside.seconds
    timing.note = f"{note}; {ratio:.2f}× the clean validate run in turn with it"
    return timing


def synth(path: Path, facts: int, rate: float = 0.0, per_file: int | None = None) -> None:
    """Generate once (kept in the work folder for later runs); `per_file`: split the
    bundles into files of that many facts (a JSONL file may hold at most 1 GiB)."""
    first = path if per_file is None else path.with_name(f"{path.stem}-0001{path.suffix}")
    if first.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {facts:,} facts (invalid rate {rate}) in {path.parent}", flush=True)
    cmd = toolkit("synth", "--facts", str(facts), "--out", str(path), "--seed", "1", "--quiet")
    if rate:
        cmd += ["--invalid-rate", str(rate)]
    if per_file:
        cmd += ["--facts-per-file", str(per_file)]
    subprocess.run(cmd, check=True)


def check_every_break_found(folder: Path, bundles: Path) -> tuple[str, Path]:
    """Validate the broken data once, untimed: every injected break must be reported.
    Problems beyond the breaks (a follow-on the synthesizer's list does not foresee) are
    counted in the note, not fatal. (the note, the JSON report: polars' report the engines
    are compared with)"""
    report = folder.parent / "report.json"
    cmd = toolkit("validate", str(folder), "--format", "json", "--output", str(report))
    subprocess.run(cmd, check=False)
    problems = json.loads(report.read_text())["problems"]
    found = {(os.path.basename(p["file"]), p["line"], p["code"], p["pointer"]) for p in problems}
    expected_file = bundles.with_name(f".{bundles.stem}.expected.jsonl")
    expected = {
        (e["file"], e["line"], e["code"], e["pointer"])
        for e in map(json.loads, expected_file.read_text().splitlines())
    }
    missing = expected - found
    if missing:
        raise SystemExit(f"invalid run: {len(missing)} of {len(expected)} breaks missing")
    note = f"all {len(expected)} injected breaks reported"
    extra = sorted(found - expected)
    if extra:
        codes = Counter(code for _, _, code, _ in extra)
        listed = ", ".join(f"{code} ×{n}" for code, n in sorted(codes.items()))
        some = "1 problem" if len(extra) == 1 else f"{len(extra)} problems"
        note += f", and {some} beyond them ({listed})"
        for file, line, code, pointer in extra:
            print(f"  beyond the injected breaks: {file}:{line} {code} {pointer}", flush=True)
    return note, report


def bench_size(
    work: Path, facts: int, runs: int, naive_runs: int, invalid: bool, others: list[str]
) -> list[Timing]:
    """Every run at one size; `others`: the engines validate runs on beside polars."""
    folder = work / f"{facts}" / "clean"
    bundles = folder / "bundles.jsonl"
    synth(bundles, facts)
    out = work / f"{facts}" / "out"
    reports = work / f"{facts}" / "reports"
    results: list[Timing] = []
    print(f"\n{facts:,} facts", flush=True)
    results += engines.in_turn(folder, facts, others, runs, reports / "clean")
    results.append(
        repeat(
            "factkit export",
            facts,
            toolkit("export", str(folder), "--out", str(out / "factkit"), "--quiet"),
            runs,
        )
    )
    results.append(
        repeat(
            "factkit xref",
            facts,
            toolkit("xref", str(folder), "--out", str(out / "candidates.jsonl"), "--quiet"),
            runs,
            note="validates, then blocks and scores",
        )
    )
    results.append(
        repeat(
            "floor (polars only)",
            facts,
            [PYTHON, str(BENCH / "baselines.py"), "floor", str(bundles), str(out / "floor")],
            runs,
        )
    )
    results.append(
        repeat(
            "naive (json+jsonschema+pandas)",
            facts,
            [PYTHON, str(BENCH / "baselines.py"), "naive", str(bundles), str(out / "naive")],
            naive_runs,
        )
    )
    frictionless = shutil.which("frictionless", path=str(Path(PYTHON).parent)) or "frictionless"
    results.append(
        repeat(
            "frictionless validate (CSV)",
            facts,
            [frictionless, "validate", "statements.csv"],
            runs,
            cwd=out / "factkit",
            note="statements.csv only",
        )
    )
    if invalid:
        # files of INVALID_PER_FILE facts: a file reports at most 1,000 problems (L007
        # then), and a million facts at 1% hold more breaks than that
        broken = work / f"{facts}" / "invalid-files" / "bundles.jsonl"
        synth(broken, facts, 0.01, per_file=INVALID_PER_FILE)
        found, report = check_every_break_found(broken.parent, broken)
        results.append(
            paired(
                "factkit validate, 1% invalid",
                facts,
                toolkit("validate", str(broken.parent), "--quiet"),
                toolkit("validate", str(folder), "--quiet"),
                runs,
                note=found,
            )
        )
        results.append(
            repeat(
                "factkit export, 1% invalid",
                facts,
                toolkit("export", str(broken.parent), "--out", str(out / "broken"), "--quiet"),
                runs,
                ok=(1,),
                note="reports, writes nothing",
            )
        )
        results += engines.in_turn(
            broken.parent,
            facts,
            others,
            1,
            reports / "invalid",
            baseline=report,
            suffix=", 1% invalid",
            ok=(1,),
        )
    return results


def bench_yaml(work: Path, runs: int) -> list[Timing]:
    """The hand-written scale: 5,000 YAML bundles, cold and after one file changed."""
    folder = work / "yaml" / "data"
    cache = work / "yaml" / ".factkit-cache"
    if not folder.exists():
        print("generating 5,000 YAML bundles", flush=True)
        code = (
            "from toolkit.synth import synthesize_yaml; "
            f"synthesize_yaml({str(folder)!r}, 50000, seed=1)"
        )
        subprocess.run([PYTHON, "-c", code], check=True)
    facts = 50000
    print("\n5,000 YAML bundles", flush=True)
    cold = repeat(
        "YAML validate, cold",
        facts,
        toolkit("validate", str(folder), "--quiet"),
        runs,
        before=lambda: shutil.rmtree(cache, ignore_errors=True),
        note="empty cache (filled meanwhile)",
    )
    target = sorted((folder / "sources").rglob("*.yaml"))[0]
    original = target.read_text(encoding="utf-8")
    counter = iter(range(10**6))

    def touch() -> None:
        target.write_text(original + f"# edit {next(counter)}\n", encoding="utf-8")

    subprocess.run(toolkit("validate", str(folder), "--quiet"), check=True)  # warm the cache
    warm = repeat(
        "YAML validate, 1 file changed",
        facts,
        toolkit("validate", str(folder), "--quiet"),
        runs,
        before=touch,
        note="cache warm",
    )
    target.write_text(original, encoding="utf-8")
    return [cold, warm]


INVALID_PER_FILE = 100_000  # facts per file of the 1% invalid data (about 100 breaks each)
GROUNDING_BOUND = (10.0, 1024.0)  # seconds, MB: the bound the case is held to


def bench_grounding(work: Path, runs: int) -> list[Timing]:
    """100 facts over one 15 MB text: half ground only after normalisation, half miss
    (each miss's hint needs the closest passage). Bound: under 10 s and 1 GB."""
    from grounding_case import write_case

    folder = work / "grounding" / "data"
    if not (folder / "texts" / "long.txt").exists():
        print("generating the grounding case (100 facts, 15 MB text)", flush=True)
        write_case(folder, facts=100, megabytes=15)
    print("\ngrounding on a long text", flush=True)
    timing = repeat(
        "grounding, 100 facts over a 15 MB text",
        100,
        toolkit("validate", str(folder), "--quiet", "--no-cache"),
        runs,
        ok=(1,),  # the misses are errors
    )
    seconds, megabytes = GROUNDING_BOUND
    within = timing.seconds < seconds and timing.peak_mb < megabytes
    timing.note = (
        f"50 normalised matches, 50 misses with hints (exit {timing.exit_codes[0]}); "
        f"bound {seconds:.0f} s and {megabytes / 1024:.0f} GB: {'met' if within else 'NOT met'}"
    )
    return [timing]


def bench_large(
    work: Path, others: list[str], where: Path, facts: int = 10_000_000
) -> list[Timing]:
    """10M facts: validate on polars and each engine in turn, export once."""
    folder = work / f"{facts}" / "clean"
    synth(folder / "bundles.jsonl", facts, per_file=1_000_000)
    print(f"\n{facts:,} facts", flush=True)
    results = engines.in_turn(folder, facts, others, 1, work / f"{facts}" / "reports")
    out = work / f"{facts}" / "out"
    export = toolkit("export", str(folder), "--out", str(out), "--quiet")
    results.append(repeat("factkit export", facts, export, 1))
    compare_with_1m(results, where)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        help="numbers of facts, comma-separated; the largest also gets the 1%% invalid runs "
        "(default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--naive-runs",
        type=int,
        default=1,
        help="runs of the naive baseline "
        "at the largest size (it takes minutes); smaller sizes get --runs",
    )
    parser.add_argument(
        "--engines",
        default=",".join(engines.ENGINES),
        help="engines `factkit validate --engine` runs on beside polars, comma-separated "
        "(default: %(default)s; '' for polars alone)",
    )
    parser.add_argument(
        "--large", action="store_true", help="10M facts: validate on each engine, export; once"
    )
    parser.add_argument("--work", default=os.environ.get("BENCH_WORK", str(REPO / ".bench")))
    parser.add_argument(
        "--no-readme",
        action="store_true",
        help="leave bench/README.md and bench/results*.json alone: results go to --work",
    )
    parser.add_argument("--no-yaml", action="store_true")
    parser.add_argument("--no-grounding", action="store_true")
    parser.add_argument(
        "--grounding-only", action="store_true", help="only the long-text grounding case"
    )
    parser.add_argument(
        "--bounds-only",
        action="store_true",
        help="run nothing: make the bounds table again from the results files",
    )
    args = parser.parse_args(argv)
    if args.bounds_only:
        limits = bounds_text(BENCH)
        print(limits)
        if not args.no_readme:
            write_readme(limits, BOUNDS)
        return 0
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    where = work if args.no_readme else BENCH  # where results*.json are written and read
    others = [e for e in args.engines.split(",") if e]
    if others and not args.grounding_only:
        engines.require_engine_option()
    info = machine()
    revision = commit()  # before this run writes its own results into the tree
    print("machine:", json.dumps(info), flush=True)
    started = time.perf_counter()
    results: list[Timing] = []
    if args.grounding_only:
        results += bench_grounding(work, args.runs)
        name = "results-grounding.json"
    elif args.large:
        results += bench_large(work, others, where)
        name = LARGE_RESULTS
    else:
        sizes = [int(s) for s in args.sizes.split(",") if s]
        for facts in sizes:
            naive = args.naive_runs if facts == max(sizes) else args.runs
            results += bench_size(
                work, facts, args.runs, naive, invalid=facts == max(sizes), others=others
            )
        if not args.no_yaml:
            results += bench_yaml(work, args.runs)
        if not args.no_grounding:
            grounding = bench_grounding(work, args.runs)
            results += grounding
            if not args.no_readme:
                write_readme(table(grounding), GROUNDING)
        name = RESULTS
    text = table(results)
    elapsed = time.perf_counter() - started
    print("\n" + text)
    print(f"\nbenchmark took {elapsed / 60:.1f} min")
    payload = {
        "machine": info,
        "date": time.strftime("%Y-%m-%d"),
        "commit": revision,
        "results": [asdict(t) for t in results],
        "minutes": elapsed / 60,
    }
    (where / name).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if not args.grounding_only:
        limits = bounds_text(where)
        print("\n" + limits)
    if not args.no_readme:
        details = ", ".join(f"{k}: {v}" for k, v in info.items())
        marks = LARGE if args.large else GROUNDING if args.grounding_only else (START, END)
        write_readme(f"Measured {time.strftime('%Y-%m-%d')} on {details}.\n\n{text}", marks)
        if not args.grounding_only:
            write_readme(limits, BOUNDS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
