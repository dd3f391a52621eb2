"""`.ci/run`'s Java logic, run with stand-ins on PATH (a `make` that only reports what it
was given, a `java`, an `apt-get`): the Spark tests are required exactly when a Java 17+
runtime is there or could be installed, and otherwise one line says why they skip."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("awk", "dirname", "env", "id", "bash")


def _bin(tmp_path: Path, **scripts: str) -> Path:
    """A PATH folder with the few tools the script needs and the given stand-ins."""
    folder = tmp_path / "bin"
    folder.mkdir()
    scripts.setdefault("make", 'echo "make $* REQUIRE=${FACTKIT_REQUIRE_SPARK:-}"')
    stand_ins = {name.replace("_", "-"): body for name, body in scripts.items()}
    bash = shutil.which("bash")
    for tool in TOOLS:
        found = shutil.which(tool)
        if found is None or bash is None:
            pytest.skip(f"{tool} is not installed")
        if tool not in stand_ins:  # a stand-in is a file of its own, never written through
            (folder / tool).symlink_to(found)  # a link to the real tool
    for name, body in stand_ins.items():
        script = folder / name
        assert not script.exists()
        script.write_text(f"#!{bash}\n{body}\n", encoding="utf-8")
        script.chmod(0o755)
    return folder


def _run(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(folder), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [str(folder / "bash"), str(ROOT / ".ci" / "run")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _made(require: str) -> str:
    """What `.ci/run` asks of make: the tests (with Spark required or not), then the linters
    and the type checker."""
    return "".join(f"make {target} REQUIRE={require}\n" for target in ("test", "lint", "typecheck"))


def test_a_java_17_requires_the_spark_tests(tmp_path: Path) -> None:
    java = 'echo "openjdk version \\"17.0.15\\" 2025-04-15" >&2'
    done = _run(_bin(tmp_path, java=java))
    assert done.returncode == 0, done.stderr
    assert done.stdout == _made("1")


def test_without_java_or_a_way_to_install_it_one_line_says_why(tmp_path: Path) -> None:
    done = _run(_bin(tmp_path))
    assert done.stdout == _made("")
    assert done.stderr == (
        "ci: Spark tests will be skipped: no Java 17 or 21 runtime (no apt-get on this machine)\n"
    )


def test_an_old_java_and_a_failing_install_are_said_too(tmp_path: Path) -> None:
    java = 'echo "java version \\"1.8.0_292\\"" >&2'
    apt = 'echo "apt-get $*" >&2; exit 100'
    root = "echo 0"  # as root: no sudo needed
    done = _run(_bin(tmp_path, java=java, apt_get=apt, id=root))
    assert done.stdout == _made("")
    assert done.stderr.splitlines()[-1] == (
        "ci: Spark tests will be skipped: no Java 17 or 21 runtime "
        "(apt-get could not install openjdk-17-jre-headless)"
    )


def test_not_root_without_sudo_installs_nothing(tmp_path: Path) -> None:
    apt = 'echo "apt-get ran" >&2; exit 1'
    done = _run(_bin(tmp_path, apt_get=apt, id="echo 1000"))
    assert "apt-get ran" not in done.stderr
    assert done.stderr.endswith("(not root, and sudo is missing or needs a password)\n")
