"""Shared test setup: the parse cache never writes into the repository during tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Cache entries and the cache's signing key go to a temporary folder."""
    base = tmp_path_factory.mktemp("factkit-cache")
    saved = {k: os.environ.get(k) for k in ("FACTKIT_CACHE_DIR", "XDG_CACHE_HOME")}
    os.environ["FACTKIT_CACHE_DIR"] = str(base / "entries")
    os.environ["XDG_CACHE_HOME"] = str(base / "home")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def polars_report() -> Callable[[Path], Any]:
    """The polars report of a data folder, validated once per test run: test_fixtures holds
    each fixture to its expected problems and test_engines every engine to the same report,
    so each folder is validated on polars once for both."""
    from toolkit.checker import validate

    found: dict[Path, Any] = {}

    def report(path: Path) -> Any:
        if path not in found:
            found[path] = validate([str(path)])
        return found[path]

    return report


@pytest.fixture(scope="session")
def seed_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The export of the shipped dataset with the default options, written once per test
    run for every test that reads it (test_load_snapshot, test_engines, the flows
    notebook's test): (its ExportResult, its folder). Read it or copy it, never write
    into it."""
    from toolkit.export import export

    out = tmp_path_factory.mktemp("seed") / "dist"
    result = export([str(Path(__file__).resolve().parents[1] / "data")], out)
    assert result.written, result.report.problems
    return result, out


@pytest.fixture(scope="session")
def kernel() -> str:
    """A python3 kernel spec for the example notebooks; installed into this venv when the
    environment lacks one."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
            check=True,
            capture_output=True,
        )
    return "python3"


@pytest.fixture(scope="session")
def execute_notebook(kernel: str) -> Callable[[Path], list[Any]]:
    """Runs an example notebook from its own folder and returns its code cells with their
    outputs; a failing cell raises CellExecutionError."""
    import nbformat
    from nbclient import NotebookClient

    def execute(path: Path) -> list[Any]:
        notebook = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
        client = NotebookClient(
            notebook,
            kernel_name=kernel,
            timeout=300,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
        return [cell for cell in notebook.cells if cell.cell_type == "code"]

    return execute


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session for every test that needs one (a JVM takes seconds to
    start). Skipped with the reason when pyspark or Java is missing, unless
    FACTKIT_REQUIRE_SPARK=1 (CI sets it), which makes that a failure."""
    from toolkit.engines import EngineUnavailable
    from toolkit.engines.spark_engine import local_session

    try:
        session = local_session("local[1]", driver_memory="1g")
    except EngineUnavailable as exc:
        if os.environ.get("FACTKIT_REQUIRE_SPARK") == "1":
            pytest.fail(f"Spark is required here (FACTKIT_REQUIRE_SPARK=1): {exc}")
        pytest.skip(f"no local Spark session: {exc}")
    yield session
    session.stop()
