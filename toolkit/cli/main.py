"""Entry point: parse arguments, run one command, map every outcome to an exit code.

Exit codes: 0 valid, 1 invalid data, 2 usage or internal error, 130 interrupted.
The library raises typed errors and returns results; this module is where they
become one line on stderr. A traceback never reaches a user unless FACTKIT_DEBUG
is set, because a traceback is noise to a researcher and a bug report to us.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from typing import NoReturn, Protocol, cast

from toolkit.cli import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Subparsers,
    codebook_cmd,
    export_cmd,
    new_cmd,
    review_cmd,
    schema_cmd,
    silence_stdout,
    synth_cmd,
    upgrade_cmd,
    validate_cmd,
    version,
    xref_cmd,
)
from toolkit.cli.options import exit_status
from toolkit.errors import FactkitError, UsageError
from toolkit.reporters.text import printable

PROG = "factkit"


class Command(Protocol):
    """What a command module provides; modules satisfy this protocol structurally."""

    def register(self, subparsers: Subparsers) -> None:
        """Add the command's subparser (and its aliases) to `subparsers`."""
        ...

    def run(self, args: argparse.Namespace) -> int:
        """Do the work and return the exit code; raise FactkitError for a failed run."""
        ...


# One module per subcommand; adding a command is one entry here.
COMMANDS: tuple[Command, ...] = (
    validate_cmd,
    export_cmd,
    codebook_cmd,
    schema_cmd,
    new_cmd,
    review_cmd,
    synth_cmd,
    upgrade_cmd,
    xref_cmd,
)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting.

    `main` reports the error as one line and returns 2, which also keeps
    `main([...])` usable as a function (no SystemExit escapes it).
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The full parser; each command module registers its own subparser."""
    parser = _Parser(
        prog=PROG,
        description="Validate facts extracted from news articles and export them as tables.",
        epilog=exit_status("valid", "invalid data"),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    # The subparsers are _Parser instances (they inherit the one-line errors); commands
    # only need to see them as plain ArgumentParsers.
    subparsers = cast(
        Subparsers, parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    )
    for module in COMMANDS:
        before = set(subparsers.choices)
        module.register(subparsers)
        # Bind the new subparsers (and aliases) to their module, so modules need not.
        for name in set(subparsers.choices) - before:
            subparsers.choices[name].set_defaults(_command=module)
    return parser


def _say(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    text = " ".join(printable(line) for line in message.splitlines() if line.strip())
    try:
        sys.stderr.write(f"{PROG}: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # nowhere left to say it


def _exit_status(exc: SystemExit) -> int:
    """argparse exits 0 after --help/--version; anything non-integer is a usage error."""
    if exc.code is None:
        return EXIT_OK
    if isinstance(exc.code, int):
        return exc.code
    _say(f"error: {exc.code}")
    return EXIT_USAGE


def _debug() -> bool:
    return os.environ.get("FACTKIT_DEBUG", "") not in ("", "0")


def _dispatch(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command: Command = args._command
    return command.run(args)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    except (OSError, ValueError):
        pass


def entry() -> None:
    """The `factkit` script and `python -m toolkit`: `main`, then exit with its status.

    Once the run is over, a Ctrl-C is ignored: Python still joins threads and closes
    files on the way out, and an interrupt there printed a traceback after the export
    was complete. An interrupt that escapes `main` itself ends the run quietly too.
    """
    try:
        code = main()
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    with contextlib.suppress(ValueError):  # not on the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run factkit with `argv` (default: sys.argv[1:]) and return the exit code."""
    try:
        return _dispatch(argv)
    except SystemExit as exc:
        return _exit_status(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader left before we finished (`factkit ... | head`); Python's own advice
        # is to stop quietly with status 1. Commands that print through `emit` keep
        # their verdict instead and never get here.
        silence_stdout()
        return EXIT_INVALID
    except FactkitError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except Exception as exc:
        if _debug():
            raise
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        _say(f"internal error: {detail} (please report this)")
        return EXIT_USAGE
    finally:
        _flush_stdout()
