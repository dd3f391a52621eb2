"""Exceptions for misuse, not for bad data: bad data becomes a Problem, never an exception."""

from __future__ import annotations


class FactkitError(Exception):
    """Base of every exception factkit raises on purpose."""


class UsageError(FactkitError):
    """The command line asks for something impossible (e.g. a path that does not exist)."""


class NotAnExportError(UsageError):
    """An `--out` folder is not a factkit export, so it is not replaced (nothing is lost)."""


class SchemaError(FactkitError):
    """The bundled schema or vocabularies are broken: a bug in factkit, not in the data."""


class ExportError(FactkitError):
    """An export could not be written; the previous export is left as it was."""


class InconsistentExportError(FactkitError):
    """An export folder's files did not all come from one export, even after retrying."""
