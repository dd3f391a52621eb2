"""The strict YAML builder: a value, a position for every value and key, and every problem,
from PyYAML's event stream (libyaml's when it is there), so nothing is constructed from a tag.

PyYAML's constructors apply YAML 1.1 typing (`NO` becomes False, `012` becomes 10)
and expand aliases. Building values from events ourselves gives strict JSON-like
typing (`yaml_scalars`), a position for every value and key, and refuses an alias
before anything is expanded, so an alias bomb costs no more than its own text.
`yaml_parser` runs this builder on files the quick reader declines, and on any file
whose positions a problem asks for.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from toolkit.parsers.base import Limits
from toolkit.parsers.decode import shorten
from toolkit.parsers.locate import EditorLines
from toolkit.parsers.yaml_scalars import (
    CONSTANTS,
    KEY_WORDS,
    NUMERIC,
    Y11_BOOLS,
    Unusual,
    key_reading,
    read_numeric,
)
from toolkit.problems import Problem, escape_pointer_token

LOADER: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
BYTE_OFFSETS = LOADER is not yaml.SafeLoader  # libyaml reports reader errors in bytes


def _pack(mark: Any) -> int:
    return (mark.line << 32) | mark.column  # type: ignore[no-any-return]


def _member(pointer: str, key: str) -> str:
    if "/" in key or "~" in key:
        key = escape_pointer_token(key)
    return f"{pointer}/{key}"


class TooMany(Exception):
    pass


class _Map:
    __slots__ = ("key", "member", "pointer", "value")

    def __init__(self, value: dict[str, Any], pointer: str) -> None:
        self.value = value
        self.pointer = pointer
        self.key: str | None = None  # the key waiting for its value
        self.member = ""  # and the pointer of that value


class _Seq:
    __slots__ = ("pointer", "value")

    def __init__(self, value: list[Any], pointer: str) -> None:
        self.value = value
        self.pointer = pointer


_SKIP = "\x00skip"  # stands in for a refused key: its value is skipped
NOTHING: Any = object()
_FOUND = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}


class Builder:
    """Turns the event stream of one YAML stream into a value plus positions and problems.

    The loop in `run` is the hot path (5,000 bundles must parse in seconds): common
    keys and scalars are handled inline, anything unusual goes to a method.
    """

    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.problems: list[Problem] = []
        # Positions packed as line << 32 | column (0-based): a plain int is smaller than a
        # tuple or a Mark, and the cycle collector never has to look at it.
        self.values: dict[str, int] = {}
        self.keys: dict[str, int] = {}
        self.root: Any = NOTHING
        self.deep_reported = False
        self.aliases: set[str] = set()
        # the parser's lines as an editor's, for a text with NEL/LS/PS (`editor_lines`)
        self.lines: EditorLines | None = None
        # the text, when it holds a NEL (U+0085): inside a scalar the parser folds it into a
        # space or a line break, so it is flagged (X704) from the text, not the value
        self.nel_text: str | None = None
        self.flagged: list[Problem] = []

    def add(self, code: str, at: int, pointer: str, **params: Any) -> None:
        """Record a problem; past the per-file limit, say so once (L007) and stop parsing,
        since a file with that many problems is garbage and its list would be unbounded."""
        line, column = (at >> 32) + 1, (at & 0xFFFFFFFF) + 1
        if self.lines is not None:
            line, column = self.lines(line, column)
        limit = self.limits.max_problems_per_file
        if len(self.problems) >= limit:
            self.problems.append(
                Problem.of(
                    "L007", self.file, line=line, column=column, pointer=pointer, limit=limit
                )
            )
            raise TooMany
        self.problems.append(
            Problem.of(code, self.file, line=line, column=column, pointer=pointer, **params)
        )

    def marks(self, ev: Any, at: int, pointer: str) -> None:
        """Anchors and tags are refused wherever they appear."""
        if ev.anchor is not None:
            self.add("P012", at, pointer, what=f"anchor '&{ev.anchor}'")
        if ev.tag is not None:
            self.add("P013", at, pointer, tag=_show_tag(ev.tag))

    def next_line(self, ev: Any, at: int, pointer: str) -> None:
        """X704 for a NEL typed inside a scalar, which the value no longer shows."""
        source = self.nel_text or ""
        if "\x85" in source[ev.start_mark.index : ev.end_mark.index]:
            field = pointer.rsplit("/", 1)[-1]
            hint = (
                "delete U+0085 NEXT LINE (NEL); YAML reads it as a line break, editors "
                "show nothing or a box, and the value would differ from what you see"
            )
            line, column = (at >> 32) + 1, (at & 0xFFFFFFFF) + 1
            if self.lines is not None:
                line, column = self.lines(line, column)
            # beside the parse problems: the document is still checked, as for any X704
            self.flagged.append(
                Problem.of(
                    "X704", self.file, line=line, column=column, pointer=pointer, hint=hint,
                    what="line-break character", codepoint="0085", field=field,
                )
            )  # fmt: skip

    def plain(self, text: str, at: int, pointer: str) -> Any:
        """Type a plain scalar that may be a number or a YAML 1.1 look-alike."""
        try:
            return read_numeric(text)
        except Unusual as unusual:
            if unusual.code == "P018":
                self.add("P018", at, pointer, token=shorten(text))
                return None
            self.add("P019", at, pointer, value=shorten(text), other=unusual.other)
            return text

    def key(self, ev: Any, top: _Map) -> int:
        """A key off the fast path; returns how many levels of the event stream to skip."""
        at = _pack(ev.start_mark)
        top.key = _SKIP
        if type(ev) is AliasEvent:
            self.alias(ev, at, top.pointer)
            return 0
        self.marks(ev, at, top.pointer)
        if type(ev) is not ScalarEvent:
            shown = "{...}" if type(ev) is MappingStartEvent else "[...]"
            self.add("P021", at, top.pointer, key=shown)
            return 1
        name: str = ev.value
        plain = not ev.style and ev.tag is None
        member = _member(top.pointer, name)
        if plain and name == "<<":
            self.add("P014", at, member)
        elif name in top.value:
            first = (self.keys.get(member, at) >> 32) + 1
            self.add("P011", at, member, key=shorten(name), first_line=first)
        else:
            top.key, top.member = name, member
            self.keys[member] = at
            if len(name) > self.limits.max_string_chars:
                limit = self.limits.max_string_chars
                self.add("L003", at, member, length=len(name), limit=limit)
            if plain and (other := key_reading(name)) is not None:
                self.add("P019", at, member, value=shorten(name), other=other)
        return 0

    def alias(self, ev: Any, at: int, pointer: str) -> None:
        if ev.anchor not in self.aliases:  # one report per name: a bomb repeats a few names
            self.aliases.add(ev.anchor)
            self.add("P012", at, pointer, what=f"alias '*{ev.anchor}'")

    def alias_node(self, ev: Any, top: Any) -> None:
        """An alias where a value belongs: refused, and kept as null to hold its place."""
        at = _pack(ev.start_mark)
        if top is None:
            self.alias(ev, at, "")
            self.set_root(None, ev, at)
        elif type(top) is _Seq:
            self.alias(ev, at, f"{top.pointer}/{len(top.value)}")
            top.value.append(None)
        elif top.key is None:
            self.key(ev, top)
        else:
            key, top.key = top.key, None
            self.alias(ev, at, top.pointer if key is _SKIP else top.member)
            if key is not _SKIP:
                top.value[key] = None

    def too_deep(self, at: int, pointer: str) -> None:
        if not self.deep_reported:
            self.deep_reported = True
            self.add("L002", at, pointer, limit=self.limits.max_depth)

    def run(self, get_event: Any) -> None:
        values, keys = self.values, self.keys
        max_depth, max_chars = self.limits.max_depth, self.limits.max_string_chars
        stack: list[Any] = []
        top: Any = None  # stack[-1], kept in a local for speed
        in_map = False
        skip = 0  # > 0 while passing over a refused subtree
        skipped = ""  # the pointer of the mapping or value it belongs to
        documents = 0
        left = self.limits.max_values_per_file
        while True:
            ev = get_event()
            cls = type(ev)
            if cls is ScalarEvent or cls is MappingStartEvent or cls is SequenceStartEvent:
                left -= 1
                if left < 0:  # L008: the rest is not read (a position per value costs)
                    limit = self.limits.max_values_per_file
                    self.add("L008", _pack(ev.start_mark), "", limit=limit)
                    raise TooMany
            if skip:
                if cls is MappingStartEvent or cls is SequenceStartEvent:
                    skip += 1
                elif cls is MappingEndEvent or cls is SequenceEndEvent:
                    skip -= 1
                    continue
                elif cls is AliasEvent:
                    self.alias(ev, _pack(ev.start_mark), skipped)
                    continue
                if ev.anchor is not None or ev.tag is not None:  # refused where skipped too
                    self.marks(ev, _pack(ev.start_mark), skipped)
                continue
            scalar = cls is ScalarEvent
            if scalar or cls is MappingStartEvent or cls is SequenceStartEvent:
                if in_map:
                    key = top.key
                    if key is None:  # this node is a key
                        if scalar and ev.anchor is None and ev.tag is None:
                            name = ev.value
                            if (
                                (ev.style or (name not in KEY_WORDS and name[0] not in NUMERIC))
                                and name not in top.value
                                and len(name) <= max_chars
                            ):
                                member = _member(top.pointer, name)
                                mark = ev.start_mark
                                keys[member] = (mark.line << 32) | mark.column
                                top.key, top.member = name, member
                                continue
                        skip, skipped = self.key(ev, top), top.pointer
                        continue
                    top.key = None
                    if key is _SKIP:
                        if ev.anchor is not None or ev.tag is not None:
                            self.marks(ev, _pack(ev.start_mark), top.pointer)
                        skip, skipped = (0 if scalar else 1), top.pointer
                        continue
                    pointer = top.member
                elif top is None:
                    pointer = ""
                else:
                    pointer = f"{top.pointer}/{len(top.value)}"
                mark = ev.start_mark
                at = values[pointer] = (mark.line << 32) | mark.column
                if ev.anchor is not None or ev.tag is not None:
                    self.marks(ev, at, pointer)
                frame: Any = None
                if scalar:
                    value = text = ev.value
                    if self.nel_text is not None:
                        self.next_line(ev, at, pointer)
                    if len(text) > max_chars:
                        self.add("L003", at, pointer, length=len(text), limit=max_chars)
                    if not ev.style and ev.tag is None:
                        value = CONSTANTS.get(text, NOTHING)
                        if value is NOTHING:
                            if text[0] in NUMERIC:
                                value = self.plain(text, at, pointer)
                            else:
                                value = text
                                if text in Y11_BOOLS:
                                    other = Y11_BOOLS[text]
                                    self.add("P019", at, pointer, value=text, other=other)
                elif len(stack) >= max_depth:
                    self.too_deep(at, pointer)
                    skip, skipped = 1, pointer
                    value = None
                elif cls is MappingStartEvent:
                    value = {}
                    frame = _Map(value, pointer)
                else:
                    value = []
                    frame = _Seq(value, pointer)
                if in_map:
                    top.value[key] = value
                elif top is None:
                    self.set_root(value, ev, at)
                else:
                    top.value.append(value)
                if frame is not None:
                    stack.append(frame)
                    top = frame
                    in_map = cls is MappingStartEvent
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                stack.pop()
                top = stack[-1] if stack else None
                in_map = type(top) is _Map
            elif cls is AliasEvent:
                self.alias_node(ev, top)
            elif cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.add("P015", _pack(ev.start_mark), "")
                    return
            elif cls is StreamEndEvent:
                if documents == 0:
                    self.add("P016", 0, "", found="nothing")
                return

    def set_root(self, value: Any, ev: Any, at: int) -> None:
        self.root = value
        if isinstance(value, dict):
            return
        if type(ev) is AliasEvent:
            found = "an alias"
        elif value is None:
            found = "nothing" if type(ev) is ScalarEvent and ev.value == "" else "null"
        else:
            found = _FOUND.get(type(value), "a value")
        self.add("P016", at, "", found=found)


def _show_tag(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag
