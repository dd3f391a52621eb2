"""How factkit reads YAML plain scalars, and what a YAML 1.1 tool would read instead.

factkit types a plain scalar the JSON way: null, true and false in their usual spellings,
integers and decimal numbers; everything else is text. A YAML 1.1 tool (PyYAML, most
editors' plugins) reads some of that text differently (`NO` as false, `012` as 10,
`1:30` as 90): `yaml11_reading` says how, so the parser can warn (P019) that the value
means something else elsewhere.
"""

from __future__ import annotations

import math
import re
from typing import Any

from toolkit.parsers.numbers import INT_MAX, INT_MIN, flushes_to_zero

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
CONSTANTS: dict[str, Any] = {
    "": None, "~": None, "null": None, "Null": None, "NULL": None,
    "true": True, "True": True, "TRUE": True,
    "false": False, "False": False, "FALSE": False,
}  # fmt: skip
NUMBER_START = frozenset("-0123456789")

# What YAML 1.1 tools (PyYAML, and 1.2 for 0o) make of plain scalars that we keep as text.
Y11_BOOLS = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"], "the boolean true"),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "off", "Off", "OFF"], "the boolean false"),
}
_Y11_INT = re.compile(
    r"[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o[0-7]+|0[0-7_]+|0|[1-9][0-9_]*"
    r"|[1-9][0-9_]*(?::[0-5]?[0-9])+)"
)
_Y11_FLOAT = re.compile(
    r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_Y11_ALPHA = frozenset("yYnNoO")
_Y11_NUMERIC = frozenset("+-.0123456789")
# Plain scalars that need a closer look: number-like ones, by their first character...
NUMERIC = NUMBER_START | _Y11_NUMERIC
# ...and keys that read as null, a boolean or a merge: by the whole word.
KEY_WORDS = frozenset(CONSTANTS) | frozenset(Y11_BOOLS) | {"<<"}


def _base60(text: str) -> float:
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def yaml11_reading(text: str) -> str | None:
    """How a YAML 1.1 tool reads a plain scalar that we read as text; None if as text too."""
    first = text[:1]
    if first in _Y11_ALPHA:
        return Y11_BOOLS.get(text)
    if first not in _Y11_NUMERIC:
        return None
    try:
        if _Y11_INT.fullmatch(text):
            digits = text.replace("_", "").lstrip("+-")
            sign = -1 if text.startswith("-") else 1
            if ":" in digits:
                return f"the number {sign * int(_base60(digits))}"
            for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
                if digits.startswith(prefix):
                    return f"the number {sign * int(digits[2:], base)}"
            base = 8 if digits.startswith("0") and digits != "0" else 10
            return f"the number {sign * int(digits, base)}"
        if _Y11_FLOAT.fullmatch(text):
            low = text.replace("_", "").lower()
            if low.endswith(".inf"):
                return "minus infinity" if low.startswith("-") else "infinity"
            if low == ".nan":
                return "not-a-number (NaN)"
            sign = -1 if low.startswith("-") else 1
            value = sign * _base60(low.lstrip("+-")) if ":" in low else float(low)
            return f"the number {value!r}"
    except (ValueError, OverflowError):
        return "a number"
    return None


def key_reading(text: str) -> str | None:
    """Plain keys are always text; say what a YAML 1.1 tool would make of one."""
    if text in CONSTANTS:
        value = CONSTANTS[text]
        return "null" if value is None else f"the boolean {str(value).lower()}"
    if text[0] in NUMBER_START and NUMBER.fullmatch(text):
        return f"the number {text}"
    return yaml11_reading(text)


class Unusual(Exception):
    """A plain scalar that needs a problem: `code` is P018 (a number no JSON reader holds
    exactly) or P019 (text that a YAML 1.1 tool reads as `other`)."""

    def __init__(self, code: str, other: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.other = other


def read_numeric(text: str) -> Any:
    """The value of a plain scalar whose first character is in NUMERIC: an integer, a
    finite float, or the text itself; raises Unusual when a problem must be reported."""
    if text[0] in NUMBER_START:
        m = NUMBER.fullmatch(text)
        if m is not None:
            if m.group(1) is None and m.group(2) is None:
                if len(text) <= 20 and INT_MIN <= (number := int(text)) <= INT_MAX:
                    return number
            else:
                real = float(text)
                if math.isfinite(real) and not flushes_to_zero(text, real):
                    return real
            raise Unusual("P018")
    other = yaml11_reading(text)
    if other is not None:
        raise Unusual("P019", other)
    return text
