"""YAML bundles and actors: values typed by factkit's strict rules, problems, positions.

Most files are plain: block mappings and lists of quoted or plainly typed scalars. The
quick reader takes those straight from libyaml's events into values and declines, on the
first thing it does not handle (an anchor, alias or tag, a key that reads as something
else, a duplicate key, a scalar a YAML 1.1 tool reads otherwise, anything over a limit, a
syntax error), by handing the file to the strict builder (`yaml_builder`), which reports
every problem with its position. A document the quick reader made has no positions yet:
its `YamlPositions` runs the strict builder on the same text when a problem first asks
for one, so both ways give the same value, problems and positions.
"""

from __future__ import annotations

from pathlib import Path
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

from toolkit.parsers.base import Document, Limits, ParseResult, Role
from toolkit.parsers.decode import decode, describe_control
from toolkit.parsers.locate import DictLocator, LineIndex, editor_lines
from toolkit.parsers.yaml_builder import BYTE_OFFSETS, LOADER, NOTHING, Builder, TooMany
from toolkit.parsers.yaml_scalars import (
    CONSTANTS,
    KEY_WORDS,
    NUMERIC,
    Y11_BOOLS,
    Unusual,
    read_numeric,
)
from toolkit.problems import Problem


class _Declined(Exception):
    """Something the quick reader leaves to the strict builder."""


class _TooManyValues(Exception):
    """Past the values a file may hold (L008): reported here, not parsed a second time."""

    def __init__(self, mark: Any) -> None:
        super().__init__("too many values")
        self.mark = mark


def _quick(get_event: Any, limits: Limits) -> dict[str, Any]:
    """The value of a plain one-document file whose root is a mapping, straight from the
    events; _Declined (or the parser's own error) on anything that needs a problem."""
    max_depth, max_chars = limits.max_depth, limits.max_string_chars
    stack: list[Any] = []
    top: Any = None  # stack[-1]
    in_map = False
    key: str | None = None  # in a mapping: the key waiting for its value
    root: Any = NOTHING
    documents = 0
    left = limits.max_values_per_file  # values still allowed (L008, the builder reports it)
    while True:
        ev = get_event()
        cls = type(ev)
        if cls is ScalarEvent:
            left -= 1
            if left < 0:
                raise _TooManyValues(ev.start_mark)
            if ev.anchor is not None or ev.tag is not None:
                raise _Declined
            text = ev.value
            if len(text) > max_chars:
                raise _Declined
            if in_map and key is None:
                if (not ev.style and (text in KEY_WORDS or text[0] in NUMERIC)) or text in top:
                    raise _Declined
                key = text
                continue
            value: Any = text
            if not ev.style:
                value = CONSTANTS.get(text, NOTHING)
                if value is NOTHING:
                    if text[0] in NUMERIC:
                        try:
                            value = read_numeric(text)
                        except Unusual:
                            raise _Declined from None
                    elif text in Y11_BOOLS:
                        raise _Declined
                    else:
                        value = text
            if in_map:
                top[key] = value
                key = None
            elif top is None:
                raise _Declined  # a root that is not a mapping
            else:
                top.append(value)
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            left -= 1
            if left < 0:
                raise _TooManyValues(ev.start_mark)
            if ev.anchor is not None or ev.tag is not None:
                raise _Declined
            if len(stack) >= max_depth:
                raise _Declined
            value = {} if cls is MappingStartEvent else []
            if in_map:
                if key is None:
                    raise _Declined  # a mapping or a list as a key
                top[key] = value
                key = None
            elif top is None:
                if cls is not MappingStartEvent:
                    raise _Declined
                root = value
            else:
                top.append(value)
            stack.append(value)
            top = value
            in_map = cls is MappingStartEvent
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            stack.pop()
            top = stack[-1] if stack else None
            in_map = type(top) is dict
        elif cls is AliasEvent:
            raise _Declined
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Declined
        elif cls is StreamEndEvent:
            if root is NOTHING:
                raise _Declined
            return root  # type: ignore[no-any-return]


class YamlPositions:
    """The positions of a YAML document, found by running the strict builder on its text
    when a problem first asks for one (most documents are never asked). `source` is the
    text, or the file's bytes as read (decoded the way parsing decodes them)."""

    __slots__ = ("_limits", "_locator", "_source")

    def __init__(self, source: str | bytes, limits: Limits) -> None:
        self._source: str | bytes | None = source
        self._limits = limits
        self._locator: DictLocator | None = None

    def locate(self, pointer: str, *, key: bool = False) -> tuple[int, int] | None:
        if self._locator is None:
            source, self._source = self._source, None
            if isinstance(source, bytes):
                source = decode(source, "", yaml=True).text
            builder = Builder("", self._limits)
            if source is not None:
                builder.lines = editor_lines(source)
                loader = LOADER(source)
                try:
                    builder.run(loader.get_event)
                except (yaml.YAMLError, TooMany):
                    pass
                finally:
                    loader.dispose()
            self._locator = DictLocator(builder.values, builder.keys, builder.lines)
        return self._locator.locate(pointer, key=key)


def _error_problem(exc: yaml.YAMLError, text: str, file: str, max_depth: int) -> Problem:
    """P010 (or P004 for a control character libyaml refuses) at the parser's mark."""
    if isinstance(exc, yaml.reader.ReaderError):
        offset = exc.position
        if BYTE_OFFSETS:
            offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
        line, column = LineIndex(text).position(offset)
        if isinstance(exc.character, int):
            what = describe_control(chr(exc.character))
            return Problem.of("P004", file, line=line, column=column, what=what)
        return Problem.of("P010", file, line=line, column=column, format="YAML", reason=exc.reason)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if mark is not None and (lines := editor_lines(text)) is not None:
            line, column = lines(line, column)
        if "maximum nesting depth" in reason:  # libyaml's own bound, met before ours
            return Problem.of("L002", file, line=line, column=column, limit=max_depth)
        hint = None
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            hint = "YAML does not allow tabs for indentation; use spaces"
        return Problem.of(
            "P010", file, line=line, column=column, hint=hint, format="YAML", reason=reason
        )
    return Problem.of("P010", file, line=1, column=1, format="YAML", reason=str(exc))


def parse_yaml(
    text: str, file: str, path: Path, role: Role, limits: Limits, root: Path | None
) -> ParseResult:
    """Parse one YAML bundle or actor file; a document only when no error was found."""
    if "\x85" in text:  # the quick path would not see it (see Builder.next_line)
        return parse_strict(text, file, path, role, limits, root)
    loader = LOADER(text)
    try:
        value = _quick(loader.get_event, limits)
    except (_Declined, yaml.YAMLError):
        pass
    except _TooManyValues as exc:
        line, column = exc.mark.line + 1, exc.mark.column + 1
        if (lines := editor_lines(text)) is not None:
            line, column = lines(line, column)
        limit = limits.max_values_per_file
        problem = Problem.of("L008", file, line=line, column=column, limit=limit)
        return ParseResult(problems=[problem])
    else:
        document = Document(file, path, role, value, YamlPositions(text, limits), 1, root)
        return ParseResult(documents=[document])
    finally:
        loader.dispose()
    return parse_strict(text, file, path, role, limits, root)


def parse_strict(
    text: str, file: str, path: Path, role: Role, limits: Limits, root: Path | None
) -> ParseResult:
    """`parse_yaml` by the strict builder alone, every position found while parsing."""
    builder = Builder(file, limits)
    builder.lines = editor_lines(text)
    builder.nel_text = text if "\x85" in text else None
    loader = LOADER(text)
    try:
        builder.run(loader.get_event)
    except yaml.YAMLError as exc:
        builder.problems.append(_error_problem(exc, text, file, limits.max_depth))
    except TooMany:
        pass
    finally:
        loader.dispose()
    result = ParseResult(problems=builder.problems + builder.flagged)
    if builder.root is not NOTHING and not any(p.severity == "error" for p in builder.problems):
        locator = DictLocator(builder.values, builder.keys, builder.lines)
        result.documents.append(
            Document(file, path, role, builder.root, locator, line=1, root=root)
        )
    return result
