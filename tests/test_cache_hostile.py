"""A cache folder that arrived with a pull request or an archive: never written through a
link, never a hang on a FIFO. Runs happen in a subprocess with a timeout, so a
regression fails instead of hanging the suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit import cache as cache_module

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def _validate(tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "FACTKIT_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "home")
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "validate", "data", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


def _data(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "valid/minimal/data", tmp_path / "data")


def test_a_cache_folder_that_is_a_link_is_never_written_through(tmp_path: Path) -> None:
    _data(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / cache_module.CACHE_DIR).symlink_to(outside)
    done = _validate(tmp_path)
    assert done.returncode == 0, done.stderr
    assert os.listdir(outside) == []
    assert (tmp_path / cache_module.CACHE_DIR).is_symlink()


def test_a_fifo_in_the_cache_does_not_block_the_run(tmp_path: Path) -> None:
    _data(tmp_path)
    folder = tmp_path / cache_module.CACHE_DIR
    folder.mkdir()
    os.mkfifo(folder / cache_module.PACK)
    done = _validate(tmp_path)  # raises TimeoutExpired if the open blocks
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""


def test_a_fifo_as_the_signing_key_does_not_block_the_run(tmp_path: Path) -> None:
    _data(tmp_path)
    key = tmp_path / "home" / "factkit" / "cache-key"
    key.parent.mkdir(parents=True)
    os.mkfifo(key)
    done = _validate(tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("kind", ["file", "link to a file"])
def test_a_cache_folder_that_is_not_a_folder_is_left_alone(tmp_path: Path, kind: str) -> None:
    _data(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    if kind == "file":
        victim = tmp_path / cache_module.CACHE_DIR
        victim.write_text("keep me\n", encoding="utf-8")
    else:
        (tmp_path / cache_module.CACHE_DIR).symlink_to(victim)
    done = _validate(tmp_path)
    assert done.returncode == 0, done.stderr
    assert victim.read_text(encoding="utf-8") == "keep me\n"
