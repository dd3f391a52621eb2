"""Positions: offsets to lines, pointers to positions.

YAML documents carry a position for every value (the event stream hands them over
for free). JSON documents keep only their text and walk it with a small tokenizer
when a position is asked for, because positions are needed only for problems and
JSON must parse at `json.loads` speed.
"""

from __future__ import annotations

import json.decoder
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator

from toolkit.problems import escape_pointer_token

# Line breaks as the YAML parser counts them (CR, LF, CRLF, NEL, LS, PS) and as editors,
# `grep -n` and JSON count them (CR, LF, CRLF: NEL/LS/PS are ordinary characters there).
# Every reported line is an editor's line; the parser's are translated (`EditorLines`).
YAML_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
JSON_BREAKS = re.compile("\r\n|[\r\n]")
_PARSER_ONLY_BREAKS = re.compile("[\x85\u2028\u2029]")

_WS = re.compile(r"[ \t\n\r]*")
_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_LITERAL = re.compile(r"[^\s,\[\]{}:\"]*")
_STRUCTURE = re.compile(r'["\[\]{}]')

Position = tuple[int, int]
# The C string scanner behind json: decodes one JSON string starting after its quote.
scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


class LineIndex:
    """1-based (line, column) of a character offset; built on first use only."""

    __slots__ = ("_breaks", "_first_line", "_starts", "_text")

    def __init__(self, text: str, *, parser_lines: bool = False, first_line: int = 1) -> None:
        self._text = text
        self._breaks = YAML_BREAKS if parser_lines else JSON_BREAKS
        self._first_line = first_line
        self._starts: list[int] | None = None

    def position(self, offset: int) -> Position:
        if self._starts is None:
            self._starts = [0, *(m.end() for m in self._breaks.finditer(self._text))]
        i = bisect_right(self._starts, offset) - 1
        return self._first_line + i, offset - self._starts[i] + 1

    def offset(self, line: int, column: int) -> int:
        """The character offset of a 1-based (line, column)."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in self._breaks.finditer(self._text))]
        i = min(max(line - self._first_line, 0), len(self._starts) - 1)
        return self._starts[i] + column - 1


def split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def parent_pointer(pointer: str) -> str:
    return pointer[: pointer.rfind("/")] if pointer else ""


class EditorLines:
    """The YAML parser's (line, column) as an editor's: the parser also breaks lines at
    NEL, LS and PS (U+0085, U+2028, U+2029), editors and `grep -n` do not, so after one
    of them every line the parser reports is one too far."""

    def __init__(self, text: str) -> None:
        self._parser = LineIndex(text, parser_lines=True)
        self._editor = LineIndex(text)

    def __call__(self, line: int, column: int) -> Position:
        """1-based in, 1-based out."""
        return self._editor.position(self._parser.offset(line, column))


def editor_lines(text: str) -> EditorLines | None:
    """The translation for `text`, or None when the parser counts lines as editors do."""
    return EditorLines(text) if _PARSER_ONLY_BREAKS.search(text) else None


class DictLocator:
    """Positions recorded while parsing (YAML), keyed by JSON pointer.

    A position is packed as `line << 32 | column`, both 0-based (see yaml_parser).
    """

    __slots__ = ("keys", "lines", "values")

    def __init__(
        self, values: dict[str, int], keys: dict[str, int], lines: EditorLines | None = None
    ) -> None:
        self.values = values
        self.keys = keys
        self.lines = lines

    def locate(self, pointer: str, *, key: bool = False) -> Position | None:
        at = self.keys.get(pointer) if key else None
        while at is None:
            at = self.values.get(pointer)
            if at is None and not pointer:
                return None
            pointer = parent_pointer(pointer)
        if self.lines is not None:
            return self.lines((at >> 32) + 1, (at & 0xFFFFFFFF) + 1)
        return (at >> 32) + 1, (at & 0xFFFFFFFF) + 1


class JsonLocator:
    """Finds positions in JSON text on demand by walking the text to a pointer.

    `text[start:end]` is the document. With `index` the document may span lines
    (a .json file); without it, it sits on line `line` starting at `start` (JSONL).
    """

    __slots__ = ("_cache", "_lists", "end", "index", "line", "start", "text")

    def __init__(
        self, text: str, start: int, end: int, line: int, index: LineIndex | None = None
    ) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.line = line
        self.index = index
        self._cache: dict[tuple[str, bool], Position] | None = None
        self._lists: Memo | None = None  # offsets of list elements walked past

    def position(self, offset: int) -> Position:
        if self.index is not None:
            return self.index.position(offset)
        return self.line, offset - self.start + 1

    def offset(self, pointer: str, *, key: bool = False) -> int:
        """Offset of the value (or key) at pointer, or of its nearest enclosing value."""
        if self._lists is None:
            self._lists = {}
        tokens = split_pointer(pointer)
        return find_offset(self.text, self.start, self.end, tokens, key, self._lists)

    def locate(self, pointer: str, *, key: bool = False) -> Position | None:
        if self._cache is None:
            self._cache = {}
        hit = self._cache.get((pointer, key))
        if hit is None:
            hit = self._cache[(pointer, key)] = self.position(self.offset(pointer, key=key))
        return hit


def _ws(text: str, pos: int, end: int) -> int:
    m = _WS.match(text, pos, end)
    return m.end() if m else pos


def skip_value(text: str, pos: int, end: int) -> int:
    """Offset just past the JSON value starting at pos (tolerant of malformed input)."""
    c = text[pos] if pos < end else ""
    if c == '"':
        m = _STRING_BODY.match(text, pos + 1, end)
        return m.end() if m else end
    if c not in "[{":
        m = _LITERAL.match(text, pos, end)
        return max(m.end() if m else pos, pos + 1)
    depth = 0
    while True:
        m = _STRUCTURE.search(text, pos, end)
        if m is None:
            return end
        pos = m.end()
        ch = m.group()
        if ch == '"':
            s = _STRING_BODY.match(text, pos, end)
            pos = s.end() if s else end
        elif ch in "[{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos


Memo = dict[tuple[str, ...], list[int]]


def find_offset(
    text: str, start: int, end: int, tokens: list[str], key: bool, memo: Memo | None = None
) -> int:
    """Walk to the value named by pointer tokens; stop at the deepest one that exists.

    With `memo`, the offsets of the list elements walked past are kept per list, so many
    pointers into one long list (a problem per fact of a bundle of thousands) cost one
    walk over it in all, not one each."""
    pos = _ws(text, start, end)
    try:
        for n, token in enumerate(tokens):
            c = text[pos] if pos < end else ""
            if c == "{":
                p = _ws(text, pos + 1, end)
                while p < end and text[p] == '"':
                    key_at = p
                    name, p = scanstring(text, p + 1)
                    p = _ws(text, p, end)
                    if p >= end or text[p] != ":":
                        return pos
                    p = _ws(text, p + 1, end)
                    if name == token:
                        if key and n == len(tokens) - 1:
                            return key_at
                        break
                    p = _ws(text, skip_value(text, p, end), end)
                    if p >= end or text[p] != ",":
                        return pos
                    p = _ws(text, p + 1, end)
                else:
                    return pos
                pos = p
            elif c == "[" and token.isdigit() and (token == "0" or token[0] != "0"):
                known = memo.setdefault(tuple(tokens[:n]), []) if memo is not None else []
                wanted = int(token)
                if not known:
                    known.append(_ws(text, pos + 1, end))
                p = known[min(wanted, len(known) - 1)]
                for _ in range(len(known) - 1, wanted):
                    p = _ws(text, skip_value(text, p, end), end)
                    if p >= end or text[p] != ",":
                        return pos
                    p = _ws(text, p + 1, end)
                    known.append(p)
                if p >= end or text[p] == "]":
                    return pos
                pos = p
            else:
                return pos
    except (IndexError, ValueError):
        pass
    return pos


class _Frame:
    __slots__ = ("index", "is_object", "pointer", "serial")

    def __init__(self, is_object: bool, pointer: str, serial: int) -> None:
        self.is_object = is_object
        self.pointer = pointer
        self.index = 0
        self.serial = serial


_NESTING = b'"[]{}\\'  # all that decides nesting: quotes, brackets, escapes
_NOT_NESTING = bytes(b for b in range(256) if b not in _NESTING)
_ESCAPED = re.compile(rb"\\.", re.DOTALL)
_QUOTED = re.compile(rb'"[^"]*"')


def nesting_depth(data: bytes) -> int:
    """How deep the arrays and objects of the JSON text `data` nest.

    Exact for valid JSON, at C speed: escapes go, then everything but quotes and
    brackets, then whole strings, and only the brackets are left to count. (Walking the
    text token by token costs milliseconds for a bundle of a few kilobytes.)
    """
    if b"\\" in data:
        data = _ESCAPED.sub(b"", data)
    depth = deepest = 0
    for byte in _QUOTED.sub(b"", data.translate(None, _NOT_NESTING)):
        if byte == 91 or byte == 123:  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
        elif byte == 93 or byte == 125:  # ] }
            depth -= 1
    return deepest


def walk_json(text: str, start: int, end: int) -> Iterator[tuple[str, int, str, int]]:
    """Structural events of a JSON text, for the rare checks the decoder cannot do.

    Yields ("key", offset, member_pointer, container_serial) for every object key and
    ("open", offset, pointer, depth) for every object or array. Stops quietly at the
    first malformation: the decoder reports syntax errors, not this walker.
    """
    stack: list[_Frame] = []
    serial = 0
    pointer = ""
    expect_key = False
    pos = _ws(text, start, end)
    try:
        while pos < end:
            if expect_key:
                frame = stack[-1]
                if text[pos] != '"':
                    return
                name, p = scanstring(text, pos + 1)
                pointer = f"{frame.pointer}/{escape_pointer_token(name)}"
                yield "key", pos, pointer, frame.serial
                p = _ws(text, p, end)
                if p >= end or text[p] != ":":
                    return
                pos = _ws(text, p + 1, end)
                expect_key = False
                continue
            c = text[pos]
            if c in "[{":
                serial += 1
                frame = _Frame(c == "{", pointer, serial)
                stack.append(frame)
                yield "open", pos, pointer, len(stack)
                pos = _ws(text, pos + 1, end)
                if pos >= end or text[pos] not in "]}":
                    if frame.is_object:
                        expect_key = True
                    else:
                        pointer = f"{pointer}/0"
                    continue
                stack.pop()
                pos += 1
            else:
                pos = skip_value(text, pos, end)
            while stack:  # after a value: a comma or the end of its container
                pos = _ws(text, pos, end)
                if pos >= end:
                    return
                frame = stack[-1]
                if text[pos] == ",":
                    pos = _ws(text, pos + 1, end)
                    if frame.is_object:
                        expect_key = True
                    else:
                        frame.index += 1
                        pointer = f"{frame.pointer}/{frame.index}"
                    break
                if text[pos] not in "]}":
                    return
                stack.pop()
                pos += 1
            else:
                return
    except (IndexError, ValueError):
        return
