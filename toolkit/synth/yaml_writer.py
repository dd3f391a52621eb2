"""Block YAML that factkit's own parser reads back as exactly the value written.

Synthetic data (`synthesize_yaml`, the test suite's generated datasets) must survive
the trip through `toolkit.parsers.yaml_parser` unchanged, hostile strings included,
and should mean the same to any other YAML reader. So every string is double-quoted
with JSON escapes (`NO`, `on`, `~`, `012`, `2024-06-20` stay text under YAML 1.1 and
1.2), characters a reader refuses or folds (DEL, C1 controls, NEL, LS, PS, BOM) are
escaped too, a key is plain only when it is a word no reader types, and a key too
long for YAML's implicit keys (1,024 characters) is written as an explicit `? key`.
Values factkit cannot hold (non-finite floats, integers past 64 bits) are refused.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from toolkit.parsers.numbers import INT_MAX, INT_MIN

# A key left plain: a word that starts with a letter, and none that YAML 1.1 types.
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TYPED_WORDS = frozenset(("null", "true", "false", "yes", "no", "on", "off", "y", "n"))
_MAX_IMPLICIT_KEY = 1000  # bytes; YAML allows 1,024 characters, with room to spare
# What json.dumps leaves raw but a YAML reader refuses (DEL, C1, U+FFFE, U+FFFF; lone
# surrogates cannot even be encoded) or reads as a line break inside quotes (NEL, LS, PS)
# or may drop (BOM).
_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def dump_yaml(value: Any) -> str:
    """`value` (JSON-like: dict, list, str, int, float, bool, None) as a YAML document."""
    return _node(value, 0) + "\n"


def quote(text: str) -> str:
    """A double-quoted YAML scalar that every reader takes as exactly `text`."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _RAW.sub(_escape, quoted) if _RAW.search(quoted) else quoted


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        raise ValueError(f"a lone surrogate (U+{ord(char):04X}) cannot be written as UTF-8")
    return f"\\u{ord(char):04x}"


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"mapping keys must be strings, not {type(key).__name__}")
    if _PLAIN_KEY.fullmatch(key) and key.lower() not in _TYPED_WORDS:
        return key
    return quote(key)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError(f"{value} is past the 64-bit integers factkit reads")
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no YAML form factkit reads")
        text = float.__repr__(value)
        if "e" in text and "." not in text:  # 1e+16: YAML 1.1 floats need the dot
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, str):
        return quote(value)
    raise TypeError(f"no YAML form for {type(value).__name__}")


def _block(value: Any) -> bool:
    return isinstance(value, (dict, list)) and bool(value)


def _node(value: Any, indent: int) -> str:
    """`value` in block style, its lines indented by `indent` (a scalar on its own)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for key, item in value.items():
            name = _key(key)
            body = f"\n{_node(item, indent + 2)}" if _block(item) else f" {_node(item, 0)}"
            if len(name.encode("utf-8")) > _MAX_IMPLICIT_KEY:
                lines.append(f"{pad}? {name}\n{pad}:{body}")
            else:
                lines.append(f"{pad}{name}:{body}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for item in value:
            if _block(item):  # its first line goes after the dash, the rest stay aligned
                lines.append(f"{pad}- {_node(item, indent + 2)[indent + 2 :]}")
            else:
                lines.append(f"{pad}- {_node(item, 0)}")
        return "\n".join(lines)
    return _scalar(value)
