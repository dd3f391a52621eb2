"""The number rules every reader, the schema check and every flattener share.

An integer field takes an integer written as one: `50`, never `50.0`, `5e1` or `1e18`.
JSON Schema calls 50.0 an integer, but the parsers read it as a float and an Int64 column
cannot hold a float as it is (past 2**53 a float is not even the number that was typed),
so the schema check refuses it at its line (S103) and the flatteners take only `int`.
One rule, here, so the check and the tables cannot disagree again.

A decimal number must be a double that is not zero unless written as zero: `1e-400`
underflows to 0.0 and is refused (P018) like `1e400`, which overflows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

INT_MIN, INT_MAX = -(2**63), 2**63 - 1

# (fact key, part key or None, paths of integer fields): where a 50.0 could hide.
IntegerPlan = list[tuple[str, str | None, tuple[tuple[str, ...], ...]]]


def is_integer(value: Any) -> bool:
    """The integer rule: a Python int that is not a bool (a number typed without a
    fraction or exponent; the readers give every other number as a float)."""
    return type(value) is int


def flushes_to_zero(token: str, value: float) -> bool:
    """True when the decimal `token` is not zero but reads as 0.0 (underflow)."""
    if value != 0.0:
        return False
    mantissa = token.lower().partition("e")[0]
    return any(c in "123456789" for c in mantissa)


def non_integers(value: Any, plan: IntegerPlan) -> Iterator[tuple[str, Any]]:
    """(JSON pointer, value) of every integer field of a bundle that holds a number that
    is not an integer by `is_integer` (50.0, 5e1). Anything not shaped as the schema
    says is skipped: the schema check reports it on its own."""
    if type(value) is not dict:
        return
    for key, part, paths in plan:
        facts = value.get(key)
        if type(facts) is not list:
            continue
        for i, fact in enumerate(facts):
            if type(fact) is not dict:
                continue
            if part is None:
                records: list[tuple[str, Any]] = [(f"/{key}/{i}", fact)]
            else:
                entries = fact.get(part)
                if type(entries) is not list:
                    continue
                records = [(f"/{key}/{i}/{part}/{j}", e) for j, e in enumerate(entries)]
            for pointer, record in records:
                for path in paths:
                    found: Any = record
                    for step in path:
                        found = found.get(step) if type(found) is dict else None
                    if type(found) is float:
                        yield pointer + "".join(f"/{step}" for step in path), found


def integral_hint(value: float) -> str:
    """What to write instead of an integral float (one JSON Schema calls an integer)."""
    if INT_MIN <= value <= INT_MAX:
        return f"write it without a decimal point or exponent: {int(value)}"
    return "it does not fit a 64-bit integer either"
