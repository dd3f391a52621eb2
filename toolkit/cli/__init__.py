"""The command line: the one place that prints, writes output files and picks exit codes.

This package module holds what every command shares at run time: the version string,
colour detection, writing to stdout without tracebacks, atomic file output, delivering
a text or a validation report, OS errors as one-line failures, and a lazy line source
for quoting input lines. What the commands' parsers share is in `toolkit.cli.options`.
Commands live in `<name>_cmd.py` modules and are listed in `toolkit.cli.main.COMMANDS`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

from toolkit.errors import FactkitError

if TYPE_CHECKING:
    from toolkit.result import Report

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What a command module's `register(subparsers)` receives."""

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def version() -> str:
    """`toolkit.__version__` if the package defines one, else the installed metadata."""
    import toolkit

    declared = getattr(toolkit, "__version__", None)
    if isinstance(declared, str):
        return declared
    import importlib.metadata  # here: it costs every run 30 ms to import

    try:
        return importlib.metadata.version("factkit")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def use_color(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def silence_stdout() -> None:
    """Point fd 1 at the null device after the reader went away (EPIPE).

    Python flushes stdout once more at exit; without this, that flush fails again
    and prints "Exception ignored ... BrokenPipeError" after our clean exit.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return  # not a real file (tests capture into memory): nothing will flush to it
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def emit(text: str, stream: TextIO | None = None) -> bool:
    """Write `text` to stdout (or `stream`); False when the reader closed the pipe.

    Characters the stream's encoding cannot carry (a cp1252 console, a lone
    surrogate from a JSON escape) are written as backslash escapes rather than
    failing the whole run on its last step.
    """
    out = stream if stream is not None else sys.stdout
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        safe = text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        safe = text
    try:
        out.write(safe)
        out.flush()
    except BrokenPipeError:
        if out is sys.stdout:
            silence_stdout()
        return False
    return True


def _new_file_mode(target: Path) -> int:
    """Keep an existing file's permissions; give a new one the usual umask-based mode."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def os_errors(action: str, error: type[FactkitError] = FactkitError) -> Iterator[None]:
    """An OSError inside the block becomes `error("<action>: <reason>")`: one line, exit 2."""
    try:
        yield
    except OSError as exc:
        raise error(f"{action}: {exc.strerror or exc}") from exc


def write_atomic(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Write `text` (as UTF-8, or bytes as they are) to `path` so readers see the old
    file or the new, never half.

    The bytes go to a temporary file in the same folder, are synced, then renamed
    over the target. Failures surface as FactkitError (exit 2) naming the path.
    """
    target = Path(path)
    data = text if isinstance(text, bytes) else text.encode("utf-8", "backslashreplace")
    with os_errors(f"cannot write {os.fspath(path)}"):
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, _new_file_mode(target))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def deliver(text: str, path: str | os.PathLike[str] | None) -> None:
    """`text` to file `path` (replaced atomically), or to stdout when there is none."""
    if path is not None:
        write_atomic(path, text)
    else:
        emit(text)


def print_report(report: Report, fmt: str) -> None:
    """A validation report in format `fmt` on stdout, quoting the offending input lines;
    coloured only as text on a terminal."""
    from toolkit.reporters import render

    color = fmt == "text" and use_color(sys.stdout)
    emit(render(report, fmt, source=FileLines(), color=color))


class FileLines:
    """A LineSource that reads input files lazily, for quoting the offending line.

    Only regular files are read (never a FIFO or a device), at most `limit` bytes
    of each, decoded as UTF-8 with replacement and split into lines exactly as the
    parsers count them (CR LF, CR, LF; in YAML also NEL, LS and PS), so line N
    here is line N in a problem. A few files stay cached: problems arrive sorted
    by file, so one file's lines are reused and then no longer needed.
    """

    def __init__(self, *, limit: int = 64 * 1024 * 1024, keep: int = 4) -> None:
        self.limit = limit
        self.keep = keep
        self._cache: OrderedDict[str, list[str] | None] = OrderedDict()

    def __call__(self, file: str, line: int) -> str | None:
        if file in self._cache:
            self._cache.move_to_end(file)
            lines = self._cache[file]
        else:
            lines = self._load(file)
            self._cache[file] = lines
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]

    def _load(self, file: str) -> list[str] | None:
        try:
            if not stat.S_ISREG(os.stat(file).st_mode):
                return None
            with open(file, "rb") as handle:
                data = handle.read(self.limit + 1)
        except (OSError, ValueError):  # ValueError: a NUL in the name
            return None
        truncated = len(data) > self.limit
        text = data[: self.limit].decode("utf-8", errors="replace")
        # A BOM is reported (P003) and is not part of line 1's text or its columns.
        text = text.removeprefix("\ufeff")
        # Imported here: --help and --version need not load the parsers.
        from toolkit.parsers.locate import JSON_BREAKS

        # lines as editors count them, as every reported line is (YAML's NEL/LS/PS too)
        lines = JSON_BREAKS.split(text)
        if truncated:
            lines.pop()  # cut off part-way: better no excerpt than a wrong one
        return lines
