"""CSV output and its reference decoder: one format description, both directions.

The format (also in docs/codebook.md and each datapackage resource):

* UTF-8 without a byte-order mark; RFC 4180: comma separator, CRLF line ends
  (RFC 4180's own choice, and what spreadsheet software expects); a field is
  quoted with `"` when it holds a comma, a quote, CR or LF, a quote inside is
  doubled; one header row.
* null is an empty unquoted cell. An empty string would be `""`, but the
  schema gives every text field a minimum length of 1, so it does not occur.
* dates `YYYY-MM-DD`; booleans `true`/`false`; integers in decimal; floats in
  the shortest text that reads back as the same double (Python's `repr`).
* list cells hold one JSON array of strings (`["RUS","PRK"]`, `[]` for an
  empty list), non-ASCII characters written as they are.
* formula-safe mode (off by default) prefixes `'` to every text cell that starts
  with `=`, `+`, `-`, `@`, TAB or CR, as OWASP advises against CSV injection, and
  to every cell whose first visible character is `=`, `+`, `-`, `@` or a form of
  them that Unicode compatibility folding (NFKC) turns into one (full-width `＝`,
  `＋`, `－`, `＠`, small, superscript and subscript forms), after any leading
  whitespace or zero-width characters: spreadsheet software may trim the one and
  fold the other. Those cells then differ from the data; the default mode keeps
  values exact.

`read_csv` applies exactly this decoding, so an export read back from CSV
equals the Parquet tables.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

import polars as pl

LINE_TERMINATOR = "\r\n"
# OWASP's list: a cell starting with one of these may run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What Unicode compatibility folding (NFKC) turns into text starting with = + - @: the
# full-width, small, superscript and subscript forms, ⩵ and ⩶ (== and ===) and the Hebrew
# alternative plus sign.
FORMULA_LOOKALIKES = (
    "\uff1d\ufe66\u207c\u208c\u2a75\u2a76"  # =
    "\uff0b\ufe62\u207a\u208a\ufb29"  # +
    "\uff0d\ufe63"  # -
    "\uff20\ufe6b"  # @
)
# What may stand unseen before them and be trimmed away: Unicode whitespace (what
# str.isspace() accepts) and the zero-width characters.
LEADING_BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
    "\u180e\u200b\u200c\u200d\u2060\ufeff"
)


def _char_class(chars: str) -> str:
    """A regex character class of exactly `chars`, each written as `\\x{HEX}`."""
    return "[" + "".join(f"\\x{{{ord(c):X}}}" for c in chars) + "]"


# A cell that starts with TAB or CR, or whose first character after any leading blanks
# is = + - @ or a lookalike of one.
_FORMULA_PATTERN = "^(?:{}|{}*{})".format(
    _char_class("\t\r"),
    _char_class(LEADING_BLANKS),
    _char_class("=+-@" + FORMULA_LOOKALIKES),
)


def _repr_floats(series: pl.Series) -> pl.Series:
    """Python's `repr` of each float. polars writes the same shortest text for finite
    values from 1e-4 to 1e16 (and zero); the rest (rare) go through `repr`."""
    text = series.cast(pl.String)
    size = series.abs()
    plain = series.is_finite() & ((series == 0) | ((size >= 1e-4) & (size < 1e16)))
    other = (~plain).fill_null(False)
    if other.any():
        where = other.arg_true()
        text = text.scatter(where, [repr(v) for v in series.gather(where).to_list()])
    return text.rename(series.name)


def _json_lists(series: pl.Series) -> pl.Series:
    """Each list as compact JSON with non-ASCII characters as they are: what
    `json.dumps(value, ensure_ascii=False, separators=(",", ":"))` writes (the tests hold
    polars' encoder to it), without a Python call per cell."""
    frame = series.rename("x").to_frame()
    encoded = frame.select(
        pl.when(pl.col("x").is_not_null())
        .then(pl.struct("x").struct.json_encode().str.slice(5).str.strip_suffix("}"))
        .alias(series.name)
    )
    return encoded.to_series()


def text_cells(frame: pl.DataFrame, *, formula_safe: bool = False) -> pl.DataFrame:
    """Every column as the text of its cells (null stays null), per the format above."""
    columns: list[pl.Series] = []
    for name, dtype in frame.schema.items():
        series = frame.get_column(name)
        if dtype == pl.Float64 or dtype == pl.Float32:
            columns.append(_repr_floats(series))
        elif isinstance(dtype, pl.List):
            columns.append(_json_lists(series))
        elif dtype == pl.Date:
            columns.append(series.dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            mapping = {True: "true", False: "false"}
            columns.append(series.replace_strict(mapping, return_dtype=pl.String))
        elif dtype == pl.String and formula_safe:
            risky = series.str.contains(_FORMULA_PATTERN).fill_null(False)
            columns.append(
                pl.select(
                    pl.when(risky).then("'" + pl.lit(series)).otherwise(pl.lit(series)).alias(name)
                ).to_series()
            )
        else:
            columns.append(series.cast(pl.String))
    return pl.DataFrame(columns)


CHUNK_ROWS = 1 << 16  # rows turned into text at a time: the text of a table is never whole


class Digest:
    """Size and SHA-256 of a CSV resource as the Data Package records it, taken from the
    bytes as they are written. A multipart resource is its parts one after the other, each
    header after the first one left out, as Frictionless reads it."""

    def __init__(self) -> None:
        self.size = 0
        self._sha = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._sha.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


class _Tee:
    """Bytes on their way to `handle` (if any), fed to a `Digest` as they pass, from the
    second line on with `skip_header`."""

    def __init__(self, handle: IO[bytes] | None, digest: Digest, *, skip_header: bool) -> None:
        self._handle, self._digest, self._skipping = handle, digest, skip_header

    def write(self, data: bytes) -> int:
        if self._handle is not None:
            self._handle.write(data)
        if not self._skipping:
            self._digest.update(data)
            return len(data)
        end = bytes(data).find(b"\n")
        if end >= 0:
            self._digest.update(data[end + 1 :])
            self._skipping = False
        return len(data)


def digest_parts(parts: Iterable[Iterable[bytes]]) -> Digest:
    """The digest of a resource's parts (each given as blocks of its bytes), in order."""
    digest = Digest()
    for i, blocks in enumerate(parts):
        tee = _Tee(None, digest, skip_header=i > 0)
        for block in blocks:
            tee.write(block)
    return digest


def file_blocks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    """A file's bytes, a block at a time."""
    with open(path, "rb") as handle:
        while block := handle.read(size):
            yield block


def write(
    frame: pl.DataFrame,
    handle: IO[bytes],
    *,
    formula_safe: bool = False,
    digest: Digest | None = None,
    skip_header: bool = False,
) -> None:
    """The CSV file of one typed table, written to `handle` `CHUNK_ROWS` rows at a time
    (the bytes are those of the whole table at once: each row's text is its own);
    `digest`, when given, is fed what is written (without the header, `skip_header`)."""
    tee = None if digest is None else _Tee(handle, digest, skip_header=skip_header)
    sink = handle if tee is None else cast(IO[bytes], tee)  # polars calls `write` only
    for start in range(0, max(frame.height, 1), CHUNK_ROWS):
        text_cells(frame.slice(start, CHUNK_ROWS), formula_safe=formula_safe).write_csv(
            sink,
            include_bom=False,
            include_header=start == 0,
            separator=",",
            line_terminator=LINE_TERMINATOR,
            quote_char='"',
            quote_style="necessary",
            null_value="",
        )


_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "integer": pl.Int64(),
    "number": pl.Float64(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "array": pl.List(pl.String()),
}


def field_dtype(spec: dict[str, Any]) -> pl.DataType:
    """The polars dtype a Table Schema field describes (closed strings become Enums)."""
    enum = spec.get("constraints", {}).get("enum")
    if spec["type"] == "string" and enum:
        return pl.Enum(list(enum))
    return _TYPES[spec["type"]]


def _decode(name: str, spec: dict[str, Any]) -> pl.Expr:
    col = pl.col(name)
    kind = spec["type"]
    if kind == "date":
        return col.str.to_date("%Y-%m-%d", strict=True)
    if kind == "boolean":
        return col.replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean)
    if kind == "array":
        return col.str.json_decode(pl.List(pl.String()))
    return col.cast(field_dtype(spec), strict=True)


def decode(text: pl.DataFrame, fields: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Typed columns from the text cells of a CSV table, per its Table Schema fields."""
    return text.select(_decode(spec["name"], spec).alias(spec["name"]) for spec in fields)


def read_csv(source: Any, fields: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Read one exported CSV file (path or bytes) with the documented decoding."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    text = pl.read_csv(
        source,
        schema={spec["name"]: pl.String() for spec in fields},
        has_header=True,
        separator=",",
        quote_char='"',
        encoding="utf8",
        infer_schema=False,
    )
    return decode(text, fields)
