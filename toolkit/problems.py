"""Problems: the one currency every stage of factkit pays in.

Stages never print or raise on bad data; they return problems. A problem names
its place twice: as a JSON pointer inside the document (stable, machine use) and
as file/line/column (for people and editors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from toolkit.codes import CODES

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    code: str
    message: str
    file: str
    line: int | None = None
    column: int | None = None
    pointer: str = ""
    hint: str | None = None
    severity: Severity = field(default="error")

    @classmethod
    def of(
        cls,
        code: str,
        file: str,
        *,
        line: int | None = None,
        column: int | None = None,
        pointer: str = "",
        hint: str | None = None,
        severity: Severity | None = None,
        **params: Any,
    ) -> Problem:
        """Build a problem from the code catalogue's message template."""
        spec = CODES[code]
        return cls(
            code=code,
            message=spec.render(**params),
            file=file,
            line=line,
            column=column,
            pointer=pointer,
            hint=hint,
            severity=severity or spec.severity,
        )

    @property
    def rule(self) -> str:
        return CODES[self.code].name

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line or 0, self.column or 0, self.code, self.pointer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def escape_pointer_token(token: str | int) -> str:
    """RFC 6901 escaping of one reference token."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer_token(t) for t in tokens)
