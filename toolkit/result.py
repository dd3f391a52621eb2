"""The one result object of a validation run; reporters render it, the CLI picks the exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from toolkit.problems import Problem


@dataclass(slots=True)
class Report:
    """Everything a run found, sorted by file, line, column and code."""

    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    records: int = 0
    notices: list[str] = field(default_factory=list)  # run-level remarks (fallbacks, skipped files)
    # Display names of every file the run read, clean or not: JUnit lists each as a test case.
    checked_files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems.sort(key=Problem.sort_key)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def passes(self, *, strict: bool = False) -> bool:
        return self.errors == 0 and (not strict or self.warnings == 0)

    def by_code(self) -> Counter[str]:
        return Counter(p.code for p in self.problems)

    def summary(self) -> dict[str, int]:
        return {
            "files": self.files,
            "records": self.records,
            "errors": self.errors,
            "warnings": self.warnings,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "summary": self.summary(),
            "problems": [p.to_dict() for p in self.problems],
        }
