"""The compiled validator (jsonschema-rs) must agree with the reference `jsonschema`."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.model.model import load_model
from toolkit.parsers import discover, parse_file

ROOT = Path(__file__).resolve().parents[1]


def _documents() -> list[tuple[str, str, Any]]:
    folders = [ROOT / "data", *sorted((ROOT / "fixtures").glob("*/*/data"))]
    out = []
    for folder in folders:
        entries, _ = discover([str(folder)])
        for entry in entries:
            for doc in parse_file(entry.path, entry.file, entry.role, root=entry.root).documents:
                out.append((doc.file, doc.role, doc.value))
    return out


def _schemas() -> dict[str, dict[str, Any]]:
    model = load_model()
    assert model.judgement_schema is not None
    return {
        "bundle": model.bundle_schema,
        "actor": model.actor_schema,
        "judgement": model.judgement_schema,
    }


def _keyword_errors(role: str, value: Any) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    schema = _schemas()[role]
    fast = jsonschema_rs.validator_for(schema)
    ref = jsonschema.Draft202012Validator(schema)
    rs = {
        (*map(str, e.instance_path), str(list(e.schema_path)[-1])) for e in fast.iter_errors(value)
    }
    py = {
        (*map(str, e.absolute_path), str(list(e.absolute_schema_path)[-1]))
        for e in ref.iter_errors(value)
    }
    return rs, py


DOCUMENTS = _documents()


def test_fixture_corpus_is_substantial() -> None:
    assert len(DOCUMENTS) > 50
    assert any(role == "actor" for _, role, _ in DOCUMENTS)


@pytest.mark.parametrize("doc", DOCUMENTS, ids=[f"{d[0]}" for d in DOCUMENTS])
def test_validators_agree_on_fixtures(doc: tuple[str, str, Any]) -> None:
    _, role, value = doc
    rs, py = _keyword_errors(role, value)
    assert rs == py


_SEED = next(v for f, r, v in DOCUMENTS if r == "bundle" and f.startswith(str(ROOT / "data")))
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    # no infinity: the readers never give one (JSON refuses it, YAML's `.inf` stays text),
    # and there the validators differ ('type' in jsonschema-rs, 'maximum' in jsonschema)
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.text(max_size=3), max_size=3),
    st.just({}),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


_SEED_PATHS = [p for p in _paths(_SEED) if p]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(_SEED_PATHS), st.sampled_from(["set", "drop", "extra"]), _JUNK),
        min_size=1,
        max_size=4,
    )
)
def test_validators_agree_on_mutants(edits: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    value = copy.deepcopy(_SEED)
    for path, op, junk in edits:
        parent: Any = value
        try:
            for token in path[:-1]:
                parent = parent[token]
            last = path[-1]
            if op == "set":
                parent[last] = junk
            elif op == "drop" and isinstance(parent, dict):
                parent.pop(last, None)
            elif op == "extra" and isinstance(parent, dict):
                parent["zz_extra"] = junk
        except (KeyError, IndexError, TypeError):
            continue
    rs, py = _keyword_errors("bundle", value)
    assert rs == py
