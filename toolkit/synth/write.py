"""Writing synthetic datasets: JSONL bundles with registry, texts and expected breaks,
or the hand-written layout of one YAML file per bundle and per actor.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from toolkit.synth.breaks import Breaker
from toolkit.synth.generator import TEXTS_PER_SHARD, Bundle, Generator
from toolkit.synth.registry import actor_record
from toolkit.synth.yaml_writer import dump_yaml

FACTS_PER_SOURCE = (8, 12)  # uniform, so ten on average

Progress = Callable[[int], None]  # called with the number of facts written so far


@dataclass(frozen=True, slots=True)
class SynthResult:
    """What `synthesize` wrote."""

    path: Path  # the bundles (JSONL); with `facts_per_file`, the first of `paths`
    folder: Path  # the data folder: validate or export this
    actors_path: Path
    expected_path: Path
    facts: int
    bundles: int
    actors: int
    breaks: int
    paths: tuple[Path, ...] = ()  # every bundle file written, in order


def part_path(out: Path, part: int) -> Path:
    """The `part`-th (from 1) bundle file when the output is split: `name-0001.jsonl`."""
    return out.with_name(f"{out.stem}-{part:04d}{out.suffix}")


def expected_path(out: Path) -> Path:
    """Where the sidecar listing the injected breaks goes."""
    return out.with_name(f".{out.stem}.expected.jsonl")


def article_text(b: Bundle, rng: random.Random) -> str:
    """The article: its title, then the sentences in paragraphs of two to four."""
    sentences = b.sentences
    out = [sentences[0], ""]
    i = 1
    while i < len(sentences):
        n = rng.randint(2, 4)
        out.append(" ".join(sentences[i : i + n]))
        out.append("")
        i += n
    return "\n".join(out)


def _flush(handle: TextIO, lines: list[str]) -> None:
    """Write the buffered lines, one per line, and empty the buffer."""
    if lines:
        handle.write("\n".join(lines) + "\n")
        lines.clear()


def synthesize(
    out: str | os.PathLike[str],
    facts: int,
    *,
    seed: int = 0,
    invalid_rate: float = 0.0,
    progress: Progress | None = None,
    facts_per_file: int | None = None,
) -> SynthResult:
    """Write `facts` facts as JSONL bundles to `out`, with their registry and texts beside it.

    With `facts_per_file`, the bundles go to `name-0001.jsonl`, `name-0002.jsonl`, … instead,
    a new file once one holds that many facts (at a bundle boundary): the same bundles in the
    same order as one file would hold, in files a validator reads without its size limit
    (a JSONL file may hold at most 1 GiB, about two million facts).
    """
    if facts < 1:
        raise ValueError("facts must be at least 1")
    if facts_per_file is not None and facts_per_file < 1:
        raise ValueError("facts_per_file must be at least 1")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid_rate must be between 0 and 1")
    path = Path(out)
    folder = path.parent
    stem = path.stem
    gen = Generator(facts, seed, stem)
    breaker = Breaker(gen)
    rng = gen.rng
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    texts = folder / "texts" / stem
    actors_path = folder / "actors" / f"{stem}.jsonl"
    actors_path.parent.mkdir(parents=True, exist_ok=True)
    with open(actors_path, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(encode(actor_record(a)) + "\n" for a in gen.registry)
    sidecar = expected_path(path)
    written = bundles = breaks = 0
    previous: str | None = None
    shard = None
    low, high = FACTS_PER_SOURCE
    paths = [path if facts_per_file is None else part_path(path, 1)]
    in_file = first_line = 0  # facts in the current file; bundles before it
    with open(sidecar, "w", encoding="utf-8", newline="\n") as expected:
        handle = open(paths[0], "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        lines: list[str] = []
        try:
            while written < facts:
                if facts_per_file is not None and in_file >= facts_per_file:
                    _flush(handle, lines)
                    handle.close()
                    paths.append(part_path(path, len(paths) + 1))
                    handle = open(paths[-1], "w", encoding="utf-8", newline="\n")  # noqa: SIM115
                    in_file, first_line = 0, bundles
                n = min(rng.randint(low, high), facts - written)
                b = gen.bundle(bundles, n, previous)
                line_no = bundles - first_line + 1
                broken = invalid_rate > 0 and rng.random() < invalid_rate
                text = article_text(b, rng)
                if broken:
                    kind, code, pointer = breaker.break_bundle(b)
                    line = encode(b.value)
                    if code == "P010":
                        line = line[: rng.randint(len(line) // 4, len(line) // 2)]
                    entry = {
                        "file": paths[-1].name,
                        "line": line_no,
                        "code": code,
                        "pointer": pointer,
                        "break": kind,
                    }
                    expected.write(encode(entry) + "\n")
                    breaks += 1
                else:
                    line = encode(b.value)
                # a later statement may point here with same_as, unless this line cannot parse
                previous = None if broken else f"{b.source_id}/st-1"
                if b.shard != shard:
                    shard = b.shard
                    (texts / shard).mkdir(parents=True, exist_ok=True)
                with open(texts / shard / f"{b.source_id}.txt", "w", encoding="utf-8") as t:
                    t.write(text)
                lines.append(line)
                if len(lines) >= 1000:
                    _flush(handle, lines)
                written += n
                in_file += n
                bundles += 1
                if progress is not None and bundles % 1000 == 0:
                    progress(written)
            _flush(handle, lines)
        finally:
            handle.close()
    if progress is not None:
        progress(written)
    return SynthResult(
        path=paths[0],
        folder=folder,
        actors_path=actors_path,
        expected_path=sidecar,
        facts=written,
        bundles=bundles,
        actors=len(gen.registry),
        breaks=breaks,
        paths=tuple(paths),
    )


def synthesize_yaml(
    folder: str | os.PathLike[str], facts: int, *, seed: int = 0, name: str = "synth"
) -> SynthResult:
    """The hand-written layout: one YAML file per bundle under `folder/sources/` (1,000 per
    shard folder), one per actor under `folder/actors/`, texts under `folder/texts/`."""
    root = Path(folder)
    gen = Generator(facts, seed, name)
    rng = gen.rng
    actors = root / "actors"
    actors.mkdir(parents=True, exist_ok=True)
    for actor in gen.registry:
        (actors / f"{actor.id}.yaml").write_text(dump_yaml(actor_record(actor)), encoding="utf-8")
    written = bundles = 0
    previous: str | None = None
    low, high = FACTS_PER_SOURCE
    while written < facts:
        n = min(rng.randint(low, high), facts - written)
        b = gen.bundle(bundles, n, previous, text_prefix="../../")
        text = article_text(b, rng)
        sources = root / "sources" / b.shard
        texts = root / "texts" / name / b.shard
        if bundles % TEXTS_PER_SHARD == 0:
            sources.mkdir(parents=True, exist_ok=True)
            texts.mkdir(parents=True, exist_ok=True)
        (sources / f"{b.source_id}.yaml").write_text(dump_yaml(b.value), encoding="utf-8")
        (texts / f"{b.source_id}.txt").write_text(text, encoding="utf-8")
        previous = f"{b.source_id}/st-1"
        written += n
        bundles += 1
    return SynthResult(
        path=root / "sources",
        folder=root,
        actors_path=actors,
        expected_path=root / "sources",
        facts=written,
        bundles=bundles,
        actors=len(gen.registry),
        breaks=0,
    )
