"""Text copies: a source's `text` path must name a regular UTF-8 file inside the data folder.

The check looks at paths and file metadata only; it never follows a path out of the
data folder and never opens anything that is not a regular file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.build import DOC


def resolve_text(bundle: Path, root: Path | None, text: str) -> tuple[Path | None, str | None, str]:
    """(resolved path, problem code, detail) for a bundle's text path; code None when safe."""
    base = (root or bundle.parent).resolve()
    candidate = bundle.parent / text
    if os.path.isabs(text):
        return None, "X701", ""
    lexical = Path(os.path.normpath(candidate.absolute()))
    if not lexical.is_relative_to(base):
        return None, "X701", ""
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "R305", ""
    if not resolved.is_relative_to(base):
        return None, "X705", ""
    mode = resolved.stat().st_mode
    if not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        return None, "X702", what
    return resolved, None, ""


def check_text_paths(ctx: CheckContext) -> list[Failures]:
    sources = ctx.table("sources").filter(pl.col("text").is_not_null())
    rows: dict[str, list[object]] = {"code": [], "_doc": [], "path": [], "what": []}
    for index, text in sources.select(DOC, "text").iter_rows():
        doc = ctx.frames.documents[index]
        _, code, what = resolve_text(doc.path, doc.root, text)
        if code:
            rows["code"].append(code)
            rows["_doc"].append(index)
            rows["path"].append(text)
            rows["what"].append(what)
    found = pl.DataFrame(rows, schema={"code": pl.String, "_doc": pl.UInt32, "path": pl.String,
                                       "what": pl.String})
    out: list[Failures] = []
    for code in ("R305", "X701", "X702", "X705"):
        frame = found.filter(pl.col("code") == code).select(
            "_doc", pl.lit("/source/text").alias("pointer"), "path",
            *([pl.col("what")] if code == "X702" else []),
        )
        out += failures(code, frame)
    return out


CHECKS = (check_text_paths,)
