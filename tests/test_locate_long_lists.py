"""Many problems in one long list are located in one walk over it, at the same places."""

from __future__ import annotations

import json
import random

from toolkit.parsers.locate import JsonLocator, LineIndex, find_offset, split_pointer

# The locator keeps the offsets of every list it walks, whatever its length, so a thousand
# facts show the same as more would; the fresh walk each pointer is compared with costs
# time in the square of the length (3,000 facts took a minute and a half of CI time).
FACTS = 1000


def test_locating_many_problems_in_a_long_list_gives_the_places_a_fresh_walk_gives() -> None:
    facts = [{"id": f"st-{i}", "evidence": f"e {i}", "size": {"value": i}} for i in range(FACTS)]
    text = json.dumps({"source": {"id": "s"}, "statements": facts}, indent=2)
    locator = JsonLocator(text, 0, len(text), 1, LineIndex(text))
    pointers = [f"/statements/{i}/evidence" for i in range(FACTS)]
    pointers += [f"/statements/{i}/size/value" for i in range(0, FACTS, 7)]
    pointers += [f"/statements/{FACTS}/id", "/source/id", "/statements/0"]
    random.Random(3).shuffle(pointers)
    for pointer in pointers:
        fresh = find_offset(text, 0, len(text), split_pointer(pointer), False)
        assert locator.offset(pointer) == fresh, pointer
    at = locator.offset(f"/statements/{FACTS - 1}/evidence")
    assert text[at:].startswith(f'"e {FACTS - 1}"')
