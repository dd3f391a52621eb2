"""Hints computed in bulk are the hints computed one by one."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toolkit.checks.suggest as suggest
from toolkit.checks.suggest import closest, closest_many

_WORDS = st.text(alphabet="abcdeKOR- ", max_size=10)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(_WORDS, max_size=8),
    choices=st.lists(_WORDS, max_size=12),
    cutoff=st.sampled_from([0.0, 60.0, 70.0, 90.0]),
)
def test_closest_many_is_closest_for_each_value(
    values: list[str], choices: list[str], cutoff: float
) -> None:
    found = closest_many(values, choices, cutoff=cutoff)
    assert set(found) == set(values)
    for value in values:
        assert found[value] == closest(value, choices, cutoff=cutoff), value


def test_closest_many_names_the_registry_entry_a_typo_was_meant_for() -> None:
    registry = ["kim-jong-un", "vladimir-putin", "xi-jinping", "volodymyr-zelensky"]
    found = closest_many(["vladimir-putn", "kim-jong-unn", "zzzz"], registry, cutoff=70)
    assert found == {
        "vladimir-putn": "vladimir-putin",
        "kim-jong-unn": "kim-jong-un",
        "zzzz": None,
    }


def test_closest_many_works_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer score cells than values x choices: the answer does not change."""
    registry = [f"actor-{i}" for i in range(50)]
    values = [f"actor-{i}x" for i in range(40)]
    whole = closest_many(values, registry, cutoff=70)
    monkeypatch.setattr(suggest, "_CELLS", 60)
    assert closest_many(values, registry, cutoff=70) == whole
    assert whole == {v: closest(v, registry, cutoff=70) for v in values}


def test_code_hints_search_meaning_before_spelling() -> None:
    from toolkit.checks.suggest import code_hint

    codes = [
        {"code": "suspended", "label": "Suspended", "description": "Operation suspended."},
        {
            "code": "terminated",
            "label": "Terminated",
            "description": "No longer in force: expired, annulled or superseded.",
            "synonyms": ["void"],
        },
    ]
    where = "agreement_statuses"
    assert code_hint("Void", codes, where) == "did you mean 'terminated'? it covers 'Void'"
    assert code_hint("suspnded", codes, where) == "did you mean 'suspended'?"
    assert code_hint("superseded", codes, where) == (
        "did you mean 'terminated'? its description mentions 'superseded'"
    )
    assert code_hint("troops", codes, where) == (
        "nothing in agreement_statuses is close to 'troops'; codes: suspended, terminated"
    )


def test_a_synonym_names_one_code() -> None:
    from pathlib import Path

    from toolkit.errors import SchemaError
    from toolkit.model.vocab import check_vocabulary

    value = {
        "name": "kinds",
        "version": "1.0.0",
        "title": "Kinds",
        "description": "Kinds.",
        "closed": True,
        "codes": [
            {"code": "a", "label": "A", "description": "A.", "parent": None, "synonyms": ["x"]},
            {"code": "b", "label": "B", "description": "B.", "parent": None, "synonyms": ["X"]},
        ],
    }
    with pytest.raises(SchemaError, match="synonym 'X' of 'b' is also 'a'"):
        check_vocabulary(value, Path("kinds.yaml"))
    value["codes"][1]["synonyms"] = ["a"]
    with pytest.raises(SchemaError, match="synonym 'a' of 'b' is also 'a'"):
        check_vocabulary(value, Path("kinds.yaml"))
