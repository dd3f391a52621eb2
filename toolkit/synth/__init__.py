"""Synthetic machine-extracted bundles, for benchmarks and scale tests.

`synthesize(out, facts)` writes `out` (JSONL, one bundle per line, about ten facts per
source, every fact kind) and beside it whatever the bundles reference, so that the
folder holding `out` validates and exports like any dataset:

    <folder>/<name>.jsonl                       the bundles (split with facts_per_file:
                                                <name>-0001.jsonl, <name>-0002.jsonl, …)
    <folder>/actors/<name>.jsonl                the actor registry they reference
    <folder>/texts/<name>/<shard>/<source>.txt  a text copy per source (1,000 per shard)
    <folder>/.<name>.expected.jsonl             the injected breaks (hidden: never read
                                                as a bundle)

The data looks like a language model's output over a multilingual news archive:
`method: model` with `model`, `confidence` and `evidence` on every fact, English,
Russian, Ukrainian and Korean sources, quotes and evidence spans that occur verbatim in
the generated texts, references that resolve to the generated registry or to ISO 3166-1
codes. Every bundle is marked `review: accepted`, so a release export carries all of it.
Nothing repeats across sources in a way the duplicate check (G606) would flag: quotes
are random sentences, agreement titles carry a serial number and each supply gets its
own (supplier, recipient, polarity, categories) combination.

With `invalid_rate` R, about R of the bundles get exactly one known break (an unknown
actor, a misspelt vocabulary code, a date after publication, a quote not in the
text, …); the expected problem of each (line, code, pointer) goes to the sidecar.

The output depends only on (facts, seed, invalid_rate): the same arguments give the
same bytes.

The package: `corpus` (words, names and sentence frames), `registry` (the actors),
`generator` (facts and bundles), `breaks` (the injected problems), `write` (files),
`yaml_writer` (YAML that factkit reads back exactly, also used by the tests).
"""

from toolkit.synth.breaks import BREAKS
from toolkit.synth.generator import MODEL_NAME, PIPELINE, TEXTS_PER_SHARD
from toolkit.synth.write import (
    FACTS_PER_SOURCE,
    Progress,
    SynthResult,
    expected_path,
    part_path,
    synthesize,
    synthesize_yaml,
)

__all__ = [
    "BREAKS",
    "FACTS_PER_SOURCE",
    "MODEL_NAME",
    "PIPELINE",
    "TEXTS_PER_SHARD",
    "Progress",
    "SynthResult",
    "expected_path",
    "part_path",
    "synthesize",
    "synthesize_yaml",
]
