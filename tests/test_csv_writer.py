"""The CSV writer writes a table a slice of rows at a time, taking its digest as it goes: the
bytes and the digest must be those of the whole table written at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.export import csv_writer
from toolkit.export.partitioned import multipart_digest

_TEXT = st.text(alphabet=st.sampled_from('ab,"\r\n =é'), min_size=1, max_size=6)


@st.composite
def frames(draw: Any) -> pl.DataFrame:
    rows = draw(st.integers(0, 12))

    def column(values: Any) -> list[Any]:
        return draw(st.lists(st.none() | values, min_size=rows, max_size=rows))

    return pl.DataFrame(
        {
            "text": column(_TEXT),
            "number": column(st.floats(allow_nan=False, allow_infinity=False)),
            "count": column(st.integers(-(2**40), 2**40)),
            "on": column(st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))),
            "flag": column(st.booleans()),
            "codes": column(st.lists(_TEXT, max_size=3)),
        },
        schema={
            "text": pl.String,
            "number": pl.Float64,
            "count": pl.Int64,
            "on": pl.Date,
            "flag": pl.Boolean,
            "codes": pl.List(pl.String),
        },
    )


def _whole(frame: pl.DataFrame, formula_safe: bool) -> bytes:
    """The table's CSV written in one call, as the writer did before it wrote slices."""
    buffer = io.BytesIO()
    csv_writer.text_cells(frame, formula_safe=formula_safe).write_csv(
        buffer,
        line_terminator=csv_writer.LINE_TERMINATOR,
        quote_style="necessary",
        null_value="",
    )
    return buffer.getvalue()


@settings(max_examples=150, deadline=None)
@given(frame=frames(), chunk=st.integers(1, 5), formula_safe=st.booleans())
def test_a_table_written_in_slices_is_the_table_written_at_once(
    frame: pl.DataFrame, chunk: int, formula_safe: bool
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(csv_writer, "CHUNK_ROWS", chunk)
        out, digest = io.BytesIO(), csv_writer.Digest()
        csv_writer.write(frame, out, formula_safe=formula_safe, digest=digest)
    whole = _whole(frame, formula_safe)
    assert out.getvalue() == whole
    assert (digest.size, digest.hexdigest()) == (len(whole), hashlib.sha256(whole).hexdigest())


@settings(max_examples=100, deadline=None)
@given(parts=st.lists(frames(), min_size=1, max_size=4), block=st.integers(1, 7))
def test_the_digest_of_parts_is_the_multipart_digest(parts: list[pl.DataFrame], block: int) -> None:
    """Parts written one after the other into one digest, each header after the first
    left out, whatever blocks the bytes come in (a header split between them too)."""
    data = [_whole(frame, False) for frame in parts]
    size, hexdigest = multipart_digest(data)
    body = data[0] + b"".join(d[d.index(b"\n") + 1 :] for d in data[1:])
    assert (size, hexdigest) == (len(body), hashlib.sha256(body).hexdigest())
    digest = csv_writer.Digest()
    for i, frame in enumerate(parts):
        csv_writer.write(frame, io.BytesIO(), digest=digest, skip_header=i > 0)
    assert (digest.size, digest.hexdigest()) == (size, hexdigest)
    blocks = csv_writer.digest_parts(
        [d[at : at + block] for at in range(0, len(d), block)] for d in data
    )
    assert (blocks.size, blocks.hexdigest()) == (size, hexdigest)
