"""The machine format: one JSON document with a stable, versioned shape.

Shape: {"version": 1, "summary": {files, records, errors, warnings},
"problems": [Problem.to_dict(), ...]}. Keys keep their documented order (no
sort_keys) so diffs of two runs stay readable; non-ASCII text is written as is.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from toolkit.result import Report

if TYPE_CHECKING:
    from toolkit.reporters import LineSource

# A JSON document may carry a lone surrogate as an escape ("\ud800"), and the parser
# keeps it. With ensure_ascii=False json.dumps would emit it raw, which no UTF-8
# encoder accepts; written back as an escape it is valid JSON and round-trips.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def render(report: Report, *, source: LineSource | None = None, color: bool = False) -> str:
    """The report as indented JSON with a trailing newline; `source` and `color` are unused."""
    text = json.dumps(report.to_dict(), ensure_ascii=False, indent=2)
    return _SURROGATE.sub(_escape_surrogate, text) + "\n"
