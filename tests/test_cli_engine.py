"""`--engine` on the command line: the choice reaches the checker, every engine gives the
same report and export, and an engine that cannot start here is a one-line usage error."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from toolkit import checker
from toolkit.cli.main import main
from toolkit.cli.options import ENGINE_NAMES
from toolkit.engines import ENGINES
from toolkit.result import Report

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "fixtures" / "valid" / "minimal" / "data"
INVALID = ROOT / "fixtures" / "invalid" / "vocabulary-typo" / "data"


def test_the_command_line_offers_every_engine() -> None:
    assert tuple(ENGINES) == ENGINE_NAMES


def test_the_chosen_engine_is_the_one_the_checks_run_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[str] = []

    def validate(paths: list[str]) -> Report:
        engine = checker.current_options().engine
        seen.append(engine if isinstance(engine, str) else engine.name)
        return Report()

    monkeypatch.setattr(checker, "validate", validate)
    assert main(["validate", "-q", str(VALID)]) == 0
    assert main(["validate", "-q", "--engine", "duckdb", str(VALID)]) == 0
    assert seen == ["polars", "duckdb"]


def _report(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    code = main(["validate", "--format", "json", "--no-cache", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_duckdb_reports_what_polars_reports(capsys: pytest.CaptureFixture[str]) -> None:
    polars = _report(capsys, str(INVALID))
    assert polars[0] == 1
    assert _report(capsys, "--engine", "duckdb", str(INVALID)) == polars


def test_an_export_on_duckdb_writes_the_same_files(tmp_path: Path) -> None:
    outs = {}
    for engine in ("polars", "duckdb"):
        out = tmp_path / engine
        argv = ["export", "-q", "--no-cache", "--engine", engine, "--out", str(out)]
        assert main([*argv, str(VALID)]) == 0
        outs[engine] = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert outs["polars"] and outs["duckdb"] == outs["polars"]


def test_spark_session_options_need_the_spark_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--spark-master", "local[1]", str(VALID)]) == 2
    err = capsys.readouterr().err
    assert err == "factkit: error: --spark-master and --spark-remote go with --engine spark\n"


@pytest.mark.parametrize("command", ["validate", "export", "xref"])
def test_spark_without_pyspark_is_a_usage_error_in_one_line(command: str, tmp_path: Path) -> None:
    """pyspark made unimportable in a fresh interpreter, as on a machine without the extra."""
    program = (
        "import sys; sys.modules['pyspark'] = None; "
        "from toolkit.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = [command, "--engine", "spark", str(VALID)]
    if command == "export":
        argv += ["--out", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-c", program, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "factkit: error: the spark engine needs pyspark: pip install 'factkit[spark]'\n"
    )
    assert not (tmp_path / "out").exists()


class _Builder:
    """A stand-in for `SparkSession.builder` that records how the session was asked for."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def master(self, url: str) -> _Builder:
        self.calls.append(f"master {url}")
        return self

    def appName(self, name: str) -> _Builder:
        self.calls.append(f"app {name}")
        return self

    def getOrCreate(self) -> object:
        self.calls.append("create")
        return object()


def test_under_spark_submit_the_submitted_configuration_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """spark-submit starts the JVM (PYSPARK_GATEWAY_PORT) but no session: the engine must
    not set a master of its own, which would override `spark-submit --master`."""
    from toolkit.engines.spark_engine import SparkEngine

    calls: list[str] = []
    session = types.SimpleNamespace(
        builder=_Builder(calls), getActiveSession=staticmethod(lambda: None)
    )
    sql = types.ModuleType("pyspark.sql")
    sql.SparkSession = session  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyspark", types.ModuleType("pyspark"))
    monkeypatch.setitem(sys.modules, "pyspark.sql", sql)
    for name in ("FACTKIT_SPARK_MASTER", "FACTKIT_SPARK_REMOTE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "40000")
    SparkEngine()
    assert calls == ["app factkit", "create"]


def test_a_memory_limit_reaches_duckdb(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--memory-limit, else $FACTKIT_MEMORY_LIMIT, is the limit of the run's connection;
    the run spills into its own folder."""
    seen: list[object] = []

    def validate(paths: list[str]) -> Report:
        engine = checker.current_options().engine
        assert not isinstance(engine, str)
        query = "select current_setting('memory_limit')"
        seen.append(engine._con.execute(query).fetchone()[0])  # type: ignore[attr-defined]
        return Report()

    monkeypatch.setattr(checker, "validate", validate)
    monkeypatch.delenv("FACTKIT_MEMORY_LIMIT", raising=False)
    assert main(["validate", "-q", "--engine", "duckdb", "--memory-limit", "64MB", str(VALID)]) == 0
    monkeypatch.setenv("FACTKIT_MEMORY_LIMIT", "128MB")
    assert main(["validate", "-q", "--engine", "duckdb", str(VALID)]) == 0
    assert seen == ["61.0 MiB", "122.0 MiB"]


def test_duckdb_under_a_small_memory_limit_reports_what_polars_reports(
    capsys: pytest.CaptureFixture[str],
) -> None:
    polars = _report(capsys, str(INVALID))
    limited = _report(capsys, "--engine", "duckdb", "--memory-limit", "100MB", str(INVALID))
    assert limited == polars


def test_a_duckdb_run_spills_into_its_own_folder(tmp_path: Path) -> None:
    from toolkit.engines.duckdb_engine import DuckDBEngine

    engine = DuckDBEngine(memory_limit="100MB")
    try:
        engine.load_parts({}, {}, tmp_path)
        where = engine._con.execute("select current_setting('temp_directory')").fetchone()
        assert where == (str(tmp_path / "duckdb-spill"),)
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--memory-limit", "2GB"], "--memory-limit goes with --engine duckdb"),
        (
            ["--engine", "duckdb", "--memory-limit", "2 bananas"],
            "memory limit '2 bananas': Parser Error: Unknown unit for memory: 'bananas'",
        ),
    ],
)
def test_a_memory_limit_without_duckdb_or_a_size_is_a_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", *argv, str(VALID)]) == 2
    assert capsys.readouterr().err.startswith(f"factkit: error: {message}")
