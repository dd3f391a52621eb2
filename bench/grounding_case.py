"""A bundle whose evidence sits in one long text copy: the grounding benchmark case.

The text is ~15 MB of sentences with typographic apostrophes, quotes and dashes, in
paragraphs. Half of the facts' evidence is a sentence of the text typed with plain
ones (it grounds only after normalisation), spread over the whole text; the other half
is a sentence with one word changed (a miss, whose hint needs the closest passage).

    python bench/grounding_case.py OUT_FOLDER [--facts 100] [--mb 15]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WORDS = [
    "minister",
    "government",
    "officials",
    "talks",
    "border",
    "supplies",
    "weapons",
    "agreement",
    "partners",
    "sanctions",
    "coalition",
    "delegation",
    "spokesman",
    "ministry",
    "ceasefire",
    "embassy",
    "summit",
    "parliament",
    "statement",
    "reporters",
    "region",
    "security",
    "council",
    "country",
    "army",
    "deliveries",
    "night",
    "morning",
    "exercise",
    "diplomats",
    "routes",
    "meeting",
    "defence",
    "strategy",
    "alliance",
    "convoy",
    "shipment",
    "trade",
]


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 24))]
    words[0] = words[0].capitalize()
    return f"The {n}th minister’s aide said “{' '.join(words)}” — officials’ view."


def write_case(out: Path, facts: int = 100, megabytes: int = 15, seed: int = 7) -> None:
    rng = random.Random(seed)
    sentences: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        sentence = _sentence(rng, len(sentences))
        sentences.append(sentence)
        size += len(sentence.encode("utf-8")) + 1
    paragraphs = [" ".join(sentences[i : i + 8]) for i in range(0, len(sentences), 8)]
    (out / "texts").mkdir(parents=True, exist_ok=True)
    (out / "sources").mkdir(parents=True, exist_ok=True)
    (out / "texts" / "long.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    statements = []
    for i in range(facts):
        # spread over the text, the last ones near its end
        picked = sentences[(i + 1) * (len(sentences) - 1) // facts]
        typed = picked.replace("’", "'").replace("“", '"').replace("”", '"').replace("—", "-")
        if i % 2:
            typed = typed.replace(" said ", " wrote ", 1)  # one word changed: a miss
        statements.append(
            {
                "id": f"st-{i + 1}",
                "speaker_role": "an aide",
                "mode": "paraphrase",
                "text": "the aide described the officials' view",
                "evidence": typed,
                "confidence": 0.9,
            }
        )
    bundle = {
        "format": 2,
        "source": {
            "id": "long-text",
            "outlet": "Bench Wire",
            "published_on": "2024-06-20",
            "language": "en",
            "text": "../texts/long.txt",
        },
        "extraction": {
            "method": "model",
            "by": "bench",
            "model": "bench-model-1",
            "extracted_on": "2024-06-21",
            "review": "accepted",
        },
        "statements": statements,
    }
    (out / "sources" / "long.json").write_text(json.dumps(bundle, indent=1), encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--facts", type=int, default=100)
    parser.add_argument("--mb", type=int, default=15)
    args = parser.parse_args()
    write_case(Path(args.out), args.facts, args.mb)
