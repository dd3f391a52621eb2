"""Shared test setup: the parse cache never writes into the repository during tests."""

from __future__ import annotations

import os
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
