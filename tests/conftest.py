"""Shared test setup: the parse cache never writes into the repository during tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

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
