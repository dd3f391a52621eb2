"""Known breaks for `--invalid-rate`: each bundle it touches gets exactly one problem.

Each break says which problem (code and JSON pointer) validation must report, so the
synthetic data doubles as a test that every check fires where it should and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from toolkit.synth.generator import KINDS, Bundle, Generator, iso_date

# The breaks --invalid-rate injects, each giving exactly one known problem.
BREAKS = (
    "unknown-actor",
    "bad-vocabulary-code",
    "date-after-publication",
    "date-not-on-calendar",
    "quote-not-in-text",
    "evidence-not-in-text",
    "missing-field",
    "unknown-field",
    "confidence-out-of-range",
    "supplier-is-recipient",
    "unknown-statement",
    "duplicate-fact-id",
    "unknown-language",
    "signatory-without-party",
    "syntax-error",
)


class Breaker:
    """Breaks bundles of `gen`, drawing from its RNG so the output stays deterministic."""

    def __init__(self, gen: Generator) -> None:
        self.rng = gen.rng
        self.states = gen.states
        self.persons = gen.persons
        self.broken_supplies: set[tuple[str, str, tuple[str, ...]]] = set()

    def break_bundle(self, b: Bundle) -> tuple[str, str, str]:
        """Break `b` in one known way: (break name, expected code, pointer)."""
        rng = self.rng
        value = b.value
        kinds = [k for k in BREAKS if self._applies(k, value)]
        kind = rng.choice(kinds)
        statements = value["statements"]
        if kind == "unknown-actor":
            i = rng.randrange(len(statements))
            statements[i]["speakers"][0] = f"unregistered-person-{rng.randrange(10**6)}"
            return kind, "R301", f"/statements/{i}/speakers/0"
        if kind == "bad-vocabulary-code":
            i = rng.randrange(len(statements))
            code = statements[i]["topics"][0]
            statements[i]["topics"][0] = code[:2] + code[3:]  # one letter dropped
            return kind, "V401", f"/statements/{i}/topics/0"
        if kind == "date-after-publication":
            i = rng.randrange(len(statements))
            statements[i]["said_on"] = iso_date(b.published + rng.randint(1, 30))
            return kind, "C503", f"/statements/{i}/said_on"
        if kind == "date-not-on-calendar":
            i = rng.randrange(len(statements))
            year = dt.date.fromordinal(b.published).year - 1
            statements[i]["said_on"] = f"{year}-02-30"
            return kind, "S108", f"/statements/{i}/said_on"
        if kind == "quote-not-in-text":
            i = rng.randrange(len(statements))
            fact = statements[i]
            fact["mode"] = "direct_quote"
            words = fact["text"].split(" ")
            j = rng.randrange(len(words))
            words[j] = "«" + words[j][::-1] + "»"  # no word of the texts looks like this
            fact["text"] = " ".join(words)
            return kind, "G602", f"/statements/{i}/text"
        if kind == "evidence-not-in-text":
            key, i = self._any_fact(value)
            value[key][i]["evidence"] = "Nothing of the kind was ever said."
            return kind, "G601", f"/{key}/{i}/evidence"
        if kind == "missing-field":
            i = rng.randrange(len(statements))
            del statements[i]["mode"]
            return kind, "S101", f"/statements/{i}"
        if kind == "unknown-field":
            i = rng.randrange(len(statements))
            statements[i]["confidance"] = statements[i]["confidence"]
            return kind, "S102", f"/statements/{i}/confidance"
        if kind == "confidence-out-of-range":
            key, i = self._any_fact(value)
            value[key][i]["confidence"] = 1.5
            return kind, "S106", f"/{key}/{i}/confidence"
        if kind == "supplier-is-recipient":
            i = self._free_supply(value)
            fact = value["supplies"][i]
            fact["recipient"] = fact["supplier"]
            cats = tuple(sorted(item["category"] for item in fact["items"]))
            self.broken_supplies.add((fact["supplier"], fact["polarity"], cats))
            return kind, "C501", f"/supplies/{i}/recipient"
        if kind == "unknown-statement":
            i = rng.randrange(len(value["supplies"]))
            value["supplies"][i]["asserted_by"] = ["st-99"]
            return kind, "R302", f"/supplies/{i}/asserted_by/0"
        if kind == "duplicate-fact-id":
            i = rng.randrange(len(value["events"]))
            value["events"][i]["id"] = "st-1"
            return kind, "I201", f"/events/{i}/id"
        if kind == "unknown-language":
            value["source"]["language"] = "xq"
            return kind, "V402", "/source/language"
        if kind == "signatory-without-party":
            i = rng.randrange(len(value["agreements"]))
            parties = value["agreements"][i]["parties"]
            bound = {p["actor"] for p in parties if p["role"] == "party"}
            outsider = next(s for s in self.states if s not in bound)
            listed = {p["actor"] for p in parties}
            signer = next(p.id for p in self.persons if p.id not in listed)
            parties.append({"actor": signer, "role": "signatory", "on_behalf_of": outsider})
            return kind, "C504", f"/agreements/{i}/parties/{len(parties) - 1}"
        return "syntax-error", "P010", ""

    def _applies(self, kind: str, value: dict[str, Any]) -> bool:
        if kind == "supplier-is-recipient":
            return "supplies" in value and self._free_supply(value) is not None
        if kind == "unknown-statement":
            return "supplies" in value
        if kind == "duplicate-fact-id":
            return "events" in value
        if kind == "signatory-without-party":
            return "agreements" in value
        return True

    def _free_supply(self, value: dict[str, Any]) -> Any:
        """A supply whose broken form no other break has made (G606 would pair them)."""
        for i, fact in enumerate(value.get("supplies", ())):
            cats = tuple(sorted(item["category"] for item in fact["items"]))
            if (fact["supplier"], fact["polarity"], cats) not in self.broken_supplies:
                return i
        return None

    def _any_fact(self, value: dict[str, Any]) -> tuple[str, int]:
        key = self.rng.choice([k for k in KINDS if k in value])
        return key, self.rng.randrange(len(value[key]))
