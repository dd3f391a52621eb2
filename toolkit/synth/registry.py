"""The synthetic actor registry: people, organisations and groupings the facts refer to.

Every actor has a Latin, a Cyrillic and a Hangul spelling, so that sources in each
script name the same registry entry the way a real archive would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from toolkit.synth.corpus import FAMILY, GIVEN, GROUPINGS, ORG_KINDS


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    kind: str
    names: tuple[str, str, str]  # Latin, Cyrillic, Hangul
    country: str


def slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def build_registry(rng: random.Random, states: list[str], facts: int) -> list[Actor]:
    """About one actor per hundred facts (200 to 20,000): 60% people, 25% organisations."""
    size = min(20_000, max(200, facts // 100))
    out: list[Actor] = []
    for i in range(size):
        country = rng.choice(states)
        roll = i % 20
        if roll < 12:
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            names = (
                f"{given[0]} {family[0]}",
                f"{given[1]} {family[1]}",
                f"{family[2]}{given[2]}",
            )
            out.append(Actor(f"{slug(names[0])}-{i}", "person", names, country))
        elif roll < 17:
            org = rng.choice(ORG_KINDS)
            names = (f"{org[0]} {i}", f"{org[1]} {i}", f"{org[2]} {i}")
            out.append(
                Actor(f"{slug(org[0])}-{country.lower()}-{i}", "organization", names, country)
            )
        else:
            grp = rng.choice(GROUPINGS)
            names = (f"{grp[0]} {i}", f"{grp[1]} {i}", f"{grp[2]} {i}")
            out.append(Actor(f"{slug(grp[0])}-{i}", "grouping", names, country))
    return out


def actor_record(actor: Actor) -> dict[str, Any]:
    """The registry entry as written to disk (aliases carry the other two scripts)."""
    record: dict[str, Any] = {
        "id": actor.id,
        "kind": actor.kind,
        "name": actor.names[0],
        "aliases": [actor.names[1], actor.names[2]],
        "country": actor.country,
    }
    if actor.kind == "person":
        record["description"] = f"Official of {actor.country}, as the sources report."
    return record
