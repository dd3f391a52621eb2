"""Text copies: a source's `text` path must name a regular UTF-8 file inside the data folder.

Paths are checked before anything is opened: nothing outside the data folder is read,
links are resolved and judged by where they land, and devices or FIFOs are never opened.
The texts read here are kept in the context for the grounding family.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import polars as pl

from toolkit.checks.base import CheckContext, Failures, failures
from toolkit.frames.build import DOC

MAX_TEXT_BYTES = 16 * 1024 * 1024
TEXTS = "texts"


def resolve_text(bundle: Path, root: Path | None, text: str) -> tuple[Path | None, str | None, str]:
    """(resolved path, problem code, detail) for a bundle's text path; code None when safe."""
    base = (root or bundle.parent).resolve()
    if os.path.isabs(text) or "\x00" in text:
        return None, "X701", ""
    candidate = bundle.parent / text
    lexical = Path(os.path.normpath(candidate.absolute()))
    given = Path(os.path.normpath((root or bundle.parent).absolute()))
    if not lexical.is_relative_to(base) and not lexical.is_relative_to(given):
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
    if resolved.stat().st_size > MAX_TEXT_BYTES:
        return None, "X702", f"larger than {MAX_TEXT_BYTES} bytes"
    return resolved, None, ""


def read_text(path: Path) -> str | None:
    """The text copy as a string, or None when it is not UTF-8 text."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    return text.removeprefix("\ufeff")


def load_texts(ctx: CheckContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(texts: _doc → source_text, problems: code/_doc/path/what), computed once per run."""
    if TEXTS in ctx.cache:
        return ctx.cache[TEXTS]  # type: ignore[no-any-return]
    sources = ctx.table("sources").filter(pl.col("text").is_not_null())
    docs: list[int] = []
    bodies: list[str] = []
    found: dict[str, list[object]] = {"code": [], "_doc": [], "path": [], "what": []}
    read: dict[Path, str | None] = {}
    for index, text in sources.select(DOC, "text").iter_rows():
        doc = ctx.frames.documents[index]
        path, code, what = resolve_text(doc.path, doc.root, text)
        if path is not None:
            if path not in read:
                read[path] = read_text(path)
            body = read[path]
            if body is None:
                code = "X703"
            else:
                docs.append(index)
                bodies.append(body)
        if code:
            for key, value in (("code", code), ("_doc", index), ("path", text), ("what", what)):
                found[key].append(value)
    texts = pl.DataFrame(
        {DOC: docs, "source_text": bodies}, schema={DOC: pl.UInt32, "source_text": pl.String}
    )
    problems = pl.DataFrame(
        found, schema={"code": pl.String, "_doc": pl.UInt32, "path": pl.String, "what": pl.String}
    )
    ctx.cache[TEXTS] = (texts, problems)
    return texts, problems


def check_text_paths(ctx: CheckContext) -> list[Failures]:
    _, found = load_texts(ctx)
    out: list[Failures] = []
    for code in ("R305", "X701", "X702", "X703", "X705"):
        frame = found.filter(pl.col("code") == code).select(
            "_doc",
            pl.lit("/source/text").alias("pointer"),
            "path",
            *([pl.col("what")] if code == "X702" else []),
        )
        out += failures(code, frame)
    return out


CHECKS = (check_text_paths,)
