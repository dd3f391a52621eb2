"""JSON and JSONL, at the speed of the stdlib decoder.

The C decoder does the work; Python runs only in hooks that a check cannot do
without (duplicate keys, NaN/Infinity) and, when a cheap text test says it could
matter, for number ranges, depth and string length. Positions are not recorded:
each document keeps its text and a JsonLocator finds a position when a problem
needs one.

`JsonReader` parses one document; `parse_json` and `parse_jsonl` parse text in
memory. JSONL files are read by `jsonl_stream`, a block of lines at a time, with the
same reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from toolkit.parsers.base import Document, Limits, ParseResult, Role
from toolkit.parsers.decode import CONTROL, control_problems, printable, shorten
from toolkit.parsers.locate import (
    JSON_BREAKS,
    JsonLocator,
    LineIndex,
    nesting_depth,
    split_pointer,
    walk_json,
)
from toolkit.parsers.numbers import INT_MAX, INT_MIN, flushes_to_zero
from toolkit.problems import Problem, escape_pointer_token

MAX_PROBLEMS = 200  # per document
_BREAKS = JSON_BREAKS
_FOUND = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}


_Found = tuple[str, str, bool, dict[str, Any]]  # code, pointer, is_key, template params
# An escaped surrogate: fine in a pair, but a lone one cannot be written as UTF-8 later.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Bad:
    """Stands in for a number that must not reach the tables; found again by the audit."""

    __slots__ = ("code", "token")

    def __init__(self, code: str, token: str) -> None:
        self.code = code
        self.token = token


class _Decoder:
    """One reusable decoder per file (building one per call would cost more than the parse).

    The hooks are as cheap as a check can be; everything else stays in C.
    """

    def __init__(self) -> None:
        self.duplicates = False
        self.bad = False
        self.decoder = json.JSONDecoder(
            object_pairs_hook=self._pairs,
            parse_constant=self._constant,
            parse_int=self._int,
            parse_float=self._float,
        )

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            self.duplicates = True
        return obj

    def _constant(self, token: str) -> _Bad:
        self.bad = True
        return _Bad("P017", token)

    def _int(self, token: str) -> int | _Bad:
        if len(token) < 19:  # also keeps int() away from its 4300-digit ValueError
            return int(token)
        if len(token) <= 20 and INT_MIN <= (number := int(token)) <= INT_MAX:
            return number
        self.bad = True
        return _Bad("P018", token)

    def _float(self, token: str) -> float | _Bad:
        number = float(token)
        # false for inf (a literal is never NaN) and for a non-zero that underflows to 0.0
        if number - number == 0.0 and not flushes_to_zero(token, number):
            return number
        self.bad = True
        return _Bad("P018", token)


def _string_problems(text: str, pointer: str, is_key: bool, max_chars: int) -> list[_Found]:
    found: list[_Found] = []
    if len(text) > max_chars:
        found.append(("L003", pointer, is_key, {"length": len(text), "limit": max_chars}))
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # "\ud800" decodes to half a surrogate pair
            reason = f"'\\u{ord(text[exc.start]):04x}' is half of a surrogate pair, not a character"
            found.append(("P002", pointer, is_key, {"reason": reason}))
    return found


def _audit(value: Any, max_chars: int) -> list[_Found]:
    """Stand-ins, over-long strings and lone surrogates, in text order.

    Python work per value, so it runs only when a cheap test on the text says it may
    find something.
    """
    found: list[_Found] = []
    stack: list[tuple[str, Any]] = [("", value)]
    while stack and len(found) < MAX_PROBLEMS:
        pointer, item = stack.pop()
        kind = type(item)
        if kind is dict:
            children = []
            for key, child in item.items():
                member = f"{pointer}/{escape_pointer_token(key)}"
                found.extend(_string_problems(key, member, True, max_chars))
                children.append((member, child))
            stack.extend(reversed(children))
        elif kind is list:
            stack.extend(reversed([(f"{pointer}/{i}", child) for i, child in enumerate(item)]))
        elif kind is str:
            found.extend(_string_problems(item, pointer, False, max_chars))
        elif kind is _Bad:
            found.append((item.code, pointer, False, {"token": shorten(item.token)}))
    return found


def count_values(value: Any, stop: int) -> int:
    """The number of values and keys in `value` (itself included), as the YAML parser
    counts its events (L008), a container at a time,
    so a list of millions costs one len(); stops counting once past `stop`."""
    count = 1
    stack = [value] if type(value) is dict or type(value) is list else []
    while stack:
        item = stack.pop()
        children = item.values() if type(item) is dict else item
        count += 2 * len(children) if type(item) is dict else len(children)  # keys count
        if count > stop:
            break
        stack.extend(c for c in children if type(c) is dict or type(c) is list)
    return count


NOT_COMPACT = object()  # "not decoded yet": the stdlib decoder and its hooks must do it


def compact_value(raw: bytes) -> Any:
    """The value of `raw` when orjson can stand in for the stdlib decoder, else `NOT_COMPACT`.

    orjson rejects what the hooks would flag (NaN, Infinity, overflowing numbers, lone
    surrogates) but silently keeps the last of duplicate keys, and reads integers up to
    2**64 (the tables hold int64: P018). Writing the value back and getting `raw` byte
    for byte proves no key was dropped and every number reads as its text says, and the
    53-bit integer limit of the writer sends every large integer to the slow path.
    Machine-written JSONL (orjson, or `json.dumps` with compact separators and
    `ensure_ascii=False`) passes; anything else takes the slow path.
    """
    try:
        value = orjson.loads(raw)
        if orjson.dumps(value, option=orjson.OPT_STRICT_INTEGER) != raw:
            return NOT_COMPACT
    except (orjson.JSONDecodeError, TypeError):  # JSONEncodeError is a TypeError
        return NOT_COMPACT
    return value


class JsonReader:
    """Parses JSON documents of one file, sharing the decoders between JSONL lines."""

    def __init__(
        self, file: str, path: Path, role: Role, limits: Limits, root: Path | None
    ) -> None:
        self.file = file
        self.path = path
        self.role = role
        self.limits = limits
        self.root = root
        self.decoder = _Decoder()

    def _problem(self, code: str, pos: tuple[int, int], pointer: str, **params: Any) -> Problem:
        line, column = pos
        pointer = printable(pointer)
        return Problem.of(code, self.file, line=line, column=column, pointer=pointer, **params)

    def document(
        self,
        s: str,
        text: str,
        start: int,
        line: int,
        index: LineIndex | None,
        raw: bytes | None = None,
    ) -> tuple[Document | None, list[Problem]]:
        """Parse `s`, which is `text[start:start + len(s)]`, as one document.

        With `raw` (the UTF-8 bytes of `s`), a line in the compact form orjson writes is
        decoded by orjson (see `compact_value`); any other goes through the stdlib decoder.
        """
        loc = JsonLocator(text, start, start + len(s), line, index)
        limits = self.limits
        if s.count("{") + s.count("[") > limits.max_depth and (
            nesting_depth(s.encode("utf-8", "surrogatepass") if raw is None else raw)
            > limits.max_depth
        ):
            for kind, offset, pointer, depth in walk_json(text, start, loc.end):
                if kind == "open" and depth > limits.max_depth:
                    pos = loc.position(offset)
                    return None, [self._problem("L002", pos, pointer, limit=limits.max_depth)]
        dec = self.decoder
        dec.duplicates = dec.bad = False
        value = compact_value(raw) if raw is not None else NOT_COMPACT
        try:
            if value is NOT_COMPACT:
                value = dec.decoder.decode(s)
        except json.JSONDecodeError as exc:
            pos = loc.position(start + exc.pos)
            return None, [self._problem("P010", pos, "", format="JSON", reason=exc.msg)]
        except RecursionError:
            pos = loc.locate("") or (line, 1)
            return None, [self._problem("L002", pos, "", limit=limits.max_depth)]
        except ValueError as exc:  # e.g. an integer literal of thousands of digits
            pos = loc.locate("") or (line, 1)
            return None, [self._problem("P010", pos, "", format="JSON", reason=str(exc))]
        problems: list[Problem] = []
        if raw is None and count_values(value, limits.max_values_per_file) > (
            limit := limits.max_values_per_file
        ):  # a whole .json file: the audit below would walk every value (L008)
            return None, [self._problem("L008", loc.locate("") or (line, 1), "", limit=limit)]
        if dec.duplicates:
            problems.extend(self._duplicates(loc))
        if (
            dec.bad
            or len(s) > limits.max_string_chars
            or ("\\u" in s and _SURROGATE_ESCAPE.search(s) is not None)
        ):
            for code, pointer, is_key, params in _audit(value, limits.max_string_chars):
                pos = loc.locate(pointer, key=is_key) or (line, 1)
                problems.append(self._problem(code, pos, pointer, **params))
        if type(value) is not dict:
            found = "null" if value is None else _FOUND.get(type(value), "a value")
            problems.append(self._problem("P016", loc.locate("") or (line, 1), "", found=found))
        if problems:
            problems.sort(key=Problem.sort_key)
            return None, problems
        return Document(self.file, self.path, self.role, value, loc, line, self.root), []

    def _duplicates(self, loc: JsonLocator) -> list[Problem]:
        """P011 at every repeated key; the decoder only said that there is one."""
        problems: list[Problem] = []
        seen: dict[int, dict[str, int]] = {}
        for kind, offset, pointer, serial in walk_json(loc.text, loc.start, loc.end):
            if kind != "key":
                continue
            keys = seen.setdefault(serial, {})
            first = keys.setdefault(pointer, offset)
            if first != offset and len(problems) < MAX_PROBLEMS:
                name = split_pointer(pointer)[-1]
                first_line = loc.position(first)[0]
                problems.append(
                    self._problem(
                        "P011",
                        loc.position(offset),
                        pointer,
                        key=shorten(name),
                        first_line=first_line,
                    )
                )
        if not problems:  # cannot happen for text the decoder accepted; never let it pass
            pos = loc.locate("") or (loc.line, 1)
            problems.append(self._problem("P011", pos, "", key="?", first_line=pos[0]))
        return problems


def parse_json(
    text: str, file: str, path: Path, role: Role, limits: Limits, root: Path | None
) -> ParseResult:
    """A .json file holds exactly one document (an object)."""
    reader = JsonReader(file, path, role, limits, root)
    doc, problems = reader.document(text, text, 0, 1, LineIndex(text))
    return ParseResult([doc] if doc is not None else [], problems)


def _lines(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, end, length of the break after it) of every line, without copying them.

    CR, LF and CRLF all end a line; the piece after the last break has no break.
    """
    pos = 0
    if "\r" not in text:
        find = text.find
        while (end := find("\n", pos)) >= 0:
            yield pos, end, 1
            pos = end + 1
    else:
        for m in _BREAKS.finditer(text):
            yield pos, m.start(), m.end() - m.start()
            pos = m.end()
    yield pos, len(text), 0


def parse_jsonl(
    text: str,
    file: str,
    path: Path,
    role: Role,
    limits: Limits,
    root: Path | None,
    controls: bool = True,
) -> ParseResult:
    """One document per non-blank line; a bad line spoils only itself.

    `controls=False` promises the text has no control characters (decode checked it at
    memory speed), which saves a scan of every line.
    """
    reader = JsonReader(file, path, role, limits, root)
    result = ParseResult()
    documents, problems = result.documents, result.problems
    max_bytes = limits.max_line_bytes
    for number, (start, end, brk) in enumerate(_lines(text), 1):
        s = text[start:end]
        if not s or (s[0] in " \t" and not s.strip(" \t")):
            if s or brk:  # the piece after a final newline is not a line
                problems.append(Problem.of("P020", file, line=number, column=1))
            continue
        if len(s) * 4 > max_bytes and (size := len(s.encode("utf-8"))) > max_bytes:
            problems.append(
                Problem.of("L005", file, line=number, column=1, size=size, limit=max_bytes)
            )
            continue
        if controls and CONTROL.search(s):
            problems.extend(control_problems(s, file, LineIndex(s, first_line=number), 1))
            continue
        doc, found = reader.document(s, text, start, number, None)
        if doc is not None:
            documents.append(doc)
        else:
            problems.extend(found)
    return result
