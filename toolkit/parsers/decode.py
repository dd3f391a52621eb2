"""Bytes to text, shared by every format: the file is read safely and must be clean UTF-8.

Reading checks the file type before opening it (opening a FIFO blocks, opening a
device can have side effects) and never reads more than the size limit.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.parsers.base import Limits
from toolkit.parsers.locate import LineIndex
from toolkit.problems import Problem

# C0 controls except TAB, LF, CR; and DEL. Everything else is left to the format parsers.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # as CONTROL, in bytes
_CHUNK = 1 << 20
_BLANK = re.compile(r"[ \t\r\n]*\Z")
MAX_CONTROL_PROBLEMS = 10

_C0_NAMES = [
    *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF"),
    *("VT", "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK"),
    *("SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"),
]

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "UTF-32 BE"),
    (b"\xff\xfe", "UTF-16 LE"),
    (b"\xfe\xff", "UTF-16 BE"),
)
_UTF8_BOM = b"\xef\xbb\xbf"

# Formats contributors have been known to save under a data name, by their first bytes.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)
_SNIFF = 8192

_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def printable(text: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate (from a JSON escape) is shown
    as its escape, so reports never fail on the input they report."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def shorten(text: str, limit: int = 40) -> str:
    """Quote input in a message without quoting a megabyte of it."""
    text = printable(text)
    return text if len(text) <= limit else f"{text[: limit - 16]}… ({len(text)} characters)"


def describe_control(char: str) -> str:
    """Human name of a control character, e.g. 'NUL (U+0000)'."""
    code = ord(char)
    if code < 0x20:
        return f"{_C0_NAMES[code]} (U+{code:04X})"
    if code == 0x7F:
        return "DEL (U+007F)"
    if 0x80 <= code < 0xA0:
        return f"C1 control (U+{code:04X})"
    return f"non-character (U+{code:04X})"


@dataclass(slots=True)
class Decoded:
    text: str | None  # None when the bytes could not be decoded at all
    problems: list[Problem] = field(default_factory=list)
    controls: bool = False  # the text holds control characters (reported or not)

    @property
    def failed(self) -> bool:
        return self.text is None or any(p.severity == "error" for p in self.problems)


def _magic(data: bytes) -> str | None:
    """The format a file's first bytes announce, among those in _MAGIC."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    return None


def looks_binary(data: bytes) -> str | None:
    """What a file that is not text seems to be, or None when it may be text.

    Known formats go by their first bytes; anything else counts as binary when more
    than 1 in 100 of its first 8 KiB are NULs or more than 1 in 20 are control bytes
    (random bytes have about 12%), and more than a handful: a text with a stray NUL
    is still text. Only used to word a hint: "save it as UTF-8" is useless advice for
    a PNG.
    """
    kind = _magic(data)
    if kind is not None:
        return kind
    head = data[:_SNIFF]
    if not head:
        return None
    odd = len(head) - len(head.translate(None, CONTROL_BYTES))
    nul = head.count(0)
    if (nul > 2 and nul * 100 > len(head)) or (odd > 8 and odd * 20 > len(head)):
        return "binary data"
    return None


def _binary_hint(kind: str) -> str:
    return f"the file looks like {kind}, not text: is it the file you meant to add?"


def _kind(mode: int) -> str:
    for test, name in _FILE_KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _read_up_to(fd: int, size: int) -> bytes:
    """At most `size` bytes from `fd`, fewer only at the end of the file (a buffered
    read(size) would first allocate `size` bytes whatever the file holds)."""
    parts: list[bytes] = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_bytes(path: Path, file: str, limits: Limits) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes, or the problem that stopped us reading them.

    The size limit (L001) is checked on the file's metadata before anything is read,
    and the read stops one byte past it should the file grow meanwhile.
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        return None, [Problem.of("P001", file, reason=reason)]
    if not stat.S_ISREG(st.st_mode):
        return None, [Problem.of("X702", file, path=file, what=_kind(st.st_mode))]
    limit = limits.max_jsonl_bytes if path.suffix.lower() == ".jsonl" else limits.max_file_bytes
    if st.st_size > limit:
        return None, [Problem.of("L001", file, size=st.st_size, limit=limit)]
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        try:
            now = os.fstat(fd)  # it may have been swapped since stat()
            if not stat.S_ISREG(now.st_mode):
                return None, [Problem.of("X702", file, path=file, what=_kind(now.st_mode))]
            # the size the file has, plus one byte to see that it grew (up to the limit's)
            data = _read_up_to(fd, min(now.st_size, limit) + 1)
            if len(data) == now.st_size + 1 <= limit:  # it grew since: read on
                data += _read_up_to(fd, limit - now.st_size)
        finally:
            os.close(fd)
    except OSError as exc:
        return None, [Problem.of("P001", file, reason=exc.strerror or str(exc))]
    if len(data) > limit:  # grew after stat()
        return None, [Problem.of("L001", file, size=len(data), limit=limit)]
    return data, []


def decode(data: bytes, file: str, *, yaml: bool = False, controls: bool = True) -> Decoded:
    """Decode UTF-8 strictly, reporting byte-order marks, bad bytes and control characters.

    `yaml` selects YAML's line breaks for positions (NEL, LS and PS count as breaks);
    `controls=False` leaves control characters to the caller (JSONL checks each line).
    """
    problems: list[Problem] = []
    for bom, name in _BOMS:
        if data.startswith(bom):
            reason = f"it starts with a {name} byte-order mark; save it as UTF-8"
            return Decoded(None, [Problem.of("P002", file, line=1, column=1, reason=reason)])
    if data.startswith(_UTF8_BOM):
        problems.append(Problem.of("P003", file, line=1, column=1, bom="UTF-8"))
        data = data[len(_UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        line, column = LineIndex(prefix).position(len(prefix))
        bad = data[exc.start]
        reason = f"byte 0x{bad:02X} at line {line}, column {column} ({exc.reason})"
        # Judged on the first line up to just past the bad byte, so that a JSONL file
        # read a line at a time gets the same words as one decoded whole.
        kind = _magic(data[: exc.start + 8]) if line == 1 else None
        hint = None
        if kind is not None:
            hint = _binary_hint(kind)
        elif bad >= 0x80:
            hint = "the file may be Latin-1 or Windows-1252 text (save it as UTF-8), or not text"
        problems.append(
            Problem.of("P002", file, line=line, column=column, hint=hint, reason=reason)
        )
        return Decoded(None, problems)
    if _BLANK.match(text):  # not text.strip(): that would copy the whole text
        problems.append(Problem.of("P005", file, line=1, column=1))
        return Decoded(text, problems)
    # bytes.translate runs at memory speed; a regex scan would cost as much as the parse.
    found = any(
        len(chunk) != len(chunk.translate(None, CONTROL_BYTES))
        for chunk in (data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK))
    )
    if found and controls:
        index = LineIndex(text)
        kind = looks_binary(data)
        if kind is None:
            problems.extend(control_problems(text, file, index))
        else:  # one problem with the likely cause, not ten about single bytes
            first = control_problems(text, file, index, 1)[0]
            if first.hint is None:
                first = dataclasses.replace(first, hint=_binary_hint(kind))
            problems.append(first)
    return Decoded(text, problems, found)


def control_problems(
    text: str, file: str, index: LineIndex, limit: int = MAX_CONTROL_PROBLEMS
) -> list[Problem]:
    """P004 for the first few control characters (a binary file would have millions)."""
    found: list[Problem] = []
    utf16 = text.count("\x00") * 4 > len(text)
    for m in CONTROL.finditer(text):
        line, column = index.position(m.start())
        hint = None
        if utf16 and m.group() == "\x00":
            hint = "many NUL characters: the file may be UTF-16; save it as UTF-8"
        what = describe_control(m.group())
        found.append(Problem.of("P004", file, line=line, column=column, hint=hint, what=what))
        if len(found) >= limit:
            break
    return found
