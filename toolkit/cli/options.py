"""What the commands' parsers share, defined once: the subparser with its exit-status
sentence, the options several commands take (data paths, --quiet, --no-cache, a format
choice, an output file, the engine), and `run_options`, which turns --quiet, --no-cache
and --engine into the checker's run options.

A command module builds its parser from these helpers in `register` and adds only
what is its own; the wording of a shared option lives here, so `--help` reads the same
in every command that has it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from toolkit.cli import EXIT_INVALID, EXIT_OK, EXIT_USAGE, Subparsers
from toolkit.errors import UsageError
from toolkit.reporters import REPORTERS

DEFAULT_PATHS = ("data",)
# The names of toolkit.engines.ENGINES (a test keeps them equal): importing the engines here
# would load pyarrow and narwhals for every `--help`.
ENGINE_NAMES = ("polars", "duckdb", "spark")
USAGE_OR_INTERNAL = "usage or internal error"


def exit_status(ok: str, invalid: str | None = None, failed: str = USAGE_OR_INTERNAL) -> str:
    """The sentence `--help` ends with: what exit 0, 1 (when the command uses it) and 2 mean."""
    parts = [f"{EXIT_OK} {ok}"]
    if invalid is not None:
        parts.append(f"{EXIT_INVALID} {invalid}")
    parts.append(f"{EXIT_USAGE} {failed}")
    return f"Exit status: {', '.join(parts)}."


def add_command(
    subparsers: Subparsers, name: str, *, help: str, description: str, exits: str
) -> argparse.ArgumentParser:
    """Add subcommand `name`; its description ends with `exits` (see `exit_status`)."""
    return subparsers.add_parser(name, help=help, description=f"{description} {exits}")


def add_paths(parser: argparse.ArgumentParser, verb: str) -> None:
    """The data files or folders to work on, `data` when none are given."""
    parser.add_argument(
        "paths",
        nargs="*",
        default=list(DEFAULT_PATHS),
        metavar="PATH",
        help=f"files or folders to {verb} (default: {', '.join(DEFAULT_PATHS)})",
    )


def add_format(
    parser: argparse.ArgumentParser,
    choices: Iterable[str],
    help: str,
    *,
    flag: str = "--format",
) -> None:
    """A choice of output format; `text` when not given."""
    parser.add_argument(flag, choices=list(choices), default="text", help=help)


def add_report_format(
    parser: argparse.ArgumentParser, help: str, *, flag: str = "--format"
) -> None:
    """A choice of validation report format (`toolkit.reporters`)."""
    add_format(parser, REPORTERS, help, flag=flag)


def add_quiet(parser: argparse.ArgumentParser, help: str) -> None:
    """`-q/--quiet`; `help` says what the command then leaves out (never a failure report)."""
    parser.add_argument("-q", "--quiet", action="store_true", help=help)


def add_no_cache(parser: argparse.ArgumentParser) -> None:
    """`--no-cache`, honoured by `run_options`."""
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="parse every YAML file again instead of reusing what .factkit-cache/ (next to "
        "the data folder) holds from earlier runs",
    )


def add_output_file(parser: argparse.ArgumentParser, flag: str, what: str) -> None:
    """`-o FILE` (long form `flag`): write `what` to FILE instead of stdout (see `deliver`)."""
    parser.add_argument(
        "-o",
        flag,
        metavar="FILE",
        help=f"write {what} to FILE (replaced atomically) instead of stdout",
    )


def add_engine(parser: argparse.ArgumentParser) -> None:
    """`--engine`, the Spark session options and DuckDB's memory limit, honoured by
    `run_options`/`engine_options`."""
    group = parser.add_argument_group("engine (docs/engines.md)")
    group.add_argument(
        "--engine",
        choices=ENGINE_NAMES,
        default=None,
        help="where the cross-record checks run: polars (default: embedded), duckdb (out "
        "of core on one machine; pip install 'factkit[duckdb]'), spark (a cluster or a local "
        "session; pip install 'factkit[spark]' and Java 17 or 21)",
    )
    group.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: the master of the session to start, e.g. local[4] or "
        "spark://host:7077 (default: the session spark-submit started, else "
        "$FACTKIT_SPARK_MASTER, else local[2])",
    )
    group.add_argument(
        "--spark-remote",
        metavar="sc://HOST:PORT",
        help="with --engine spark: a Spark Connect server to run on (default: "
        "$FACTKIT_SPARK_REMOTE)",
    )
    group.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="with --engine duckdb: the memory DuckDB may use before it spills to disk "
        "(into the run's folder), e.g. 2GB (default: $FACTKIT_MEMORY_LIMIT, else 80%% of "
        "the machine's memory)",
    )


@contextmanager
def engine_options(args: argparse.Namespace) -> Iterator[None]:
    """The engine --engine names, started once for every run inside the block (a command
    that validates twice starts Spark once) and closed after it; none chosen: polars."""
    from toolkit import checker

    name = getattr(args, "engine", None)
    spark = {
        key: value
        for key, value in (
            ("master", getattr(args, "spark_master", None)),
            ("remote", getattr(args, "spark_remote", None)),
        )
        if value
    }
    if spark and name != "spark":
        raise UsageError("--spark-master and --spark-remote go with --engine spark")
    options: dict[str, str] = dict(spark)
    limit = getattr(args, "memory_limit", None)
    if limit:
        if name != "duckdb":
            raise UsageError("--memory-limit goes with --engine duckdb")
        options["memory_limit"] = limit
    if name is None:
        yield
        return
    from toolkit.engines import open_engine

    with open_engine(name, **options) as engine, checker.options(engine=engine):
        yield


@contextmanager
def run_options(args: argparse.Namespace) -> Iterator[None]:
    """The parse cache (unless --no-cache), on a terminal without --quiet a progress bar
    on stderr, and the engine (`engine_options`), for every run inside the block."""
    from toolkit import checker
    from toolkit.cache import ParseCache
    from toolkit.progress import for_terminal

    cache = None if getattr(args, "no_cache", False) else ParseCache()
    progress = for_terminal(sys.stderr, quiet=getattr(args, "quiet", False))
    try:
        with engine_options(args), checker.options(cache=cache, progress=progress):
            yield
    finally:
        progress.end()


def verdict(passed: bool) -> int:
    """Exit 0 when the data (or change) passes, 1 when it does not."""
    return EXIT_OK if passed else EXIT_INVALID
