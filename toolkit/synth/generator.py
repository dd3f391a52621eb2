"""Facts and bundles: what one synthetic source reports, drawn from one seeded RNG.

Every draw goes through `Generator.rng` in a fixed order, which is what makes the
output depend only on the arguments; reordering any two draws changes every byte
after them.
"""

from __future__ import annotations

import datetime as dt
import random
from math import gcd
from typing import Any

import pycountry

from toolkit.model.model import load_model
from toolkit.synth.corpus import (
    AGREEMENT_WORDS,
    LANGUAGES,
    OUTLETS,
    PARAPHRASE_FRAMES,
    QUOTE_FRAMES,
    SCRIPT,
    WORDS,
)
from toolkit.synth.registry import build_registry

TEXTS_PER_SHARD = 1000
MODEL_NAME = "newsfacts-extractor-7b-2025.01"
PIPELINE = "factkit synth"

# Kinds of fact and how often a bundle has each (statements dominate news extraction).
KINDS = ("statements", "agreements", "supplies", "deployments", "alignments", "events", "responses")
_KIND_WEIGHTS = (40, 10, 18, 4, 10, 14, 4)
_PREFIX = {"statements": "st", "agreements": "ag", "supplies": "sp", "alignments": "al"}
_PREFIX.update(events="ev", deployments="dp", responses="rs")
_RELATIONS = ("amends", "protocol_to", "implements", "refers_to")
_RESPONSES = ("confirmed", "denied", "neither_confirmed_nor_denied", "declined_to_comment")

_UNITS = ("units", "tonnes", "shells", "sets", "batches")
_STATUSES = ("reported", "planned", "ordered", "delivered")
_PAST_SIGNED = ("signed", "ratified", "in_force", "suspended", "terminated")
_PAST_IN_FORCE = ("in_force", "suspended", "terminated")
_FIRST_DAY = dt.date(2015, 1, 1).toordinal()
_LAST_DAY = dt.date(2025, 12, 31).toordinal()


def iso_date(ordinal: int, precision: int = 10) -> str:
    return dt.date.fromordinal(ordinal).isoformat()[:precision]


def _coprime(m: int) -> int:
    a = 2_654_435_761 % m
    while gcd(a, m) != 1:
        a += 1
    return a


def _supply_combinations(states: list[str], categories: list[str]) -> tuple[list[Any], int]:
    subsets: list[tuple[str, ...]] = [(c,) for c in categories]
    subsets += [(a, b) for i, a in enumerate(categories) for b in categories[i + 1 :] if a != b]
    size = len(states) * (len(states) - 1) * 2 * len(subsets)
    return subsets, size


class Bundle:
    """One source being drawn: its facts so far and the sentences its text will hold."""

    __slots__ = (
        "facts",
        "lang",
        "previous_statement",
        "published",
        "sentences",
        "shard",
        "source_id",
        "statements",
        "value",
    )

    def __init__(
        self, source_id: str, lang: str, published: int, previous: str | None, shard: str
    ) -> None:
        self.source_id = source_id
        self.lang = lang
        self.published = published
        self.previous_statement = previous
        self.shard = shard
        self.sentences: list[str] = []
        self.facts: list[str] = []  # local ids so far, which a response may answer
        self.statements: list[str] = []
        self.value: dict[str, Any] = {}


class Generator:
    """Draws sources and their facts; `rng` is shared with the break injection and writers."""

    def __init__(self, facts: int, seed: int, stem: str) -> None:
        self.rng = random.Random(seed)
        self.total = facts
        self.stem = stem
        model = load_model()
        vocab = model.vocabularies
        self.topics = vocab["statement_topics"].code_list
        self.agreement_kinds = vocab["agreement_kinds"].code_list
        self.agreement_statuses = vocab["agreement_statuses"].code_list
        self.provisions = vocab["agreement_provisions"].code_list
        self.categories = vocab["supply_categories"].code_list
        self.event_kinds = vocab["event_kinds"].code_list
        self.personnel = vocab["personnel_kinds"].code_list
        self.states = sorted(c.alpha_3 for c in pycountry.countries)
        self.subsets, self.combinations = _supply_combinations(self.states, self.categories)
        # a bijection k -> (k * A + B) mod M spreads supply k over the combinations
        self.mult = _coprime(self.combinations)
        self.offset = self.rng.randrange(self.combinations)
        self.supply_serial = 0
        self.agreement_serial = 0
        self.registry = build_registry(self.rng, self.states, facts)
        self.persons = [a for a in self.registry if a.kind == "person"]
        self.orgs = [a for a in self.registry if a.kind == "organization"]
        self.groupings = [a for a in self.registry if a.kind == "grouping"]

    # --- text ---------------------------------------------------------------------------

    def words(self, lang: str, low: int, high: int) -> str:
        rng = self.rng
        return " ".join(rng.choices(WORDS[lang], k=rng.randint(low, high)))

    def sentence(self, lang: str, low: int = 8, high: int = 16) -> str:
        text = self.words(lang, low, high)
        return text[0].upper() + text[1:] + "."

    # --- facts --------------------------------------------------------------------------

    def _ref(self) -> str:
        """An actor reference: mostly states, sometimes a registry actor."""
        rng = self.rng
        if rng.random() < 0.7:
            return rng.choice(self.states)
        return rng.choice(self.registry).id

    def _refs(self, low: int, high: int) -> list[str]:
        return list(dict.fromkeys(self._ref() for _ in range(self.rng.randint(low, high))))

    def _past(self, published: int) -> str:
        rng = self.rng
        return iso_date(published - rng.randint(0, 400), rng.choice((4, 7, 10, 10)))

    def statement(self, b: Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        speaker = rng.choice(self.persons)
        mode = rng.choices(("direct_quote", "partial_quote", "paraphrase"), (35, 25, 40))[0]
        said = self.words(lang, 8, 16)
        name = speaker.names[SCRIPT[lang]]
        if mode == "paraphrase":
            evidence = PARAPHRASE_FRAMES[lang].format(n=name, q=said)
        else:
            evidence = rng.choice(QUOTE_FRAMES[lang]).format(n=name, q=said)
        fact: dict[str, Any] = {"id": local, "speakers": [speaker.id]}
        if rng.random() < 0.3:
            fact["speaker_role"] = self.words(lang, 2, 4)
        if rng.random() < 0.4:
            fact["on_behalf_of"] = speaker.country
        fact["mode"] = mode
        fact["text"] = said
        if rng.random() < 0.5:
            fact["said_on"] = self._past(b.published)
        fact["about"] = self._refs(1, 3)
        fact["topics"] = rng.sample(self.topics, rng.randint(1, 2))
        if b.previous_statement is not None and rng.random() < 0.02:
            fact["same_as"] = b.previous_statement
        self._ground(b, fact, evidence)
        return fact

    def agreement(self, b: Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        self.agreement_serial += 1
        serial = f"{self.agreement_serial * 7919 % 1_000_003}-{self.agreement_serial}"
        title = AGREEMENT_WORDS[lang].format(s=serial, t=self.words(lang, 2, 4))
        status = rng.choice(self.agreement_statuses)
        bound = rng.sample(self.states, rng.randint(2, 3))
        parties: list[dict[str, Any]] = [{"actor": a, "role": "party"} for a in bound]
        for person in {p.id: p for p in rng.sample(self.persons, rng.randint(0, 2))}.values():
            parties.append(
                {"actor": person.id, "role": "signatory", "on_behalf_of": rng.choice(bound)}
            )
        fact: dict[str, Any] = {"id": local, "title": title}
        fact["kind"] = rng.choice(self.agreement_kinds)
        fact["status"] = status
        # the steps in their order: entry into force on or after the signature
        signed = b.published - rng.randint(0, 400)
        actions: list[dict[str, Any]] = []
        if status in _PAST_SIGNED and rng.random() < 0.6:
            actions.append(
                {"action": "signature", "date": iso_date(signed, rng.choice((4, 7, 10)))}
            )
        if status in _PAST_IN_FORCE and rng.random() < 0.4:
            day = rng.randint(signed, b.published)
            actions.append(
                {"action": "entry_into_force", "date": iso_date(day, rng.choice((7, 10)))}
            )
        if rng.random() < 0.5:
            place = {"name": self.words(lang, 1, 2).title(), "country": bound[0]}
            if actions and actions[0]["action"] == "signature":
                actions[0]["place"] = place
        if actions:
            fact["actions"] = actions
        fact["provisions"] = [
            {"code": code} for code in rng.sample(self.provisions, rng.randint(1, 2))
        ]
        fact["parties"] = parties
        # a relation to an earlier agreement of the same source (a protocol to the treaty it
        # reports, say): none of these kinds is held to the order of signatures (C510)
        earlier = [f for f in b.facts if f.startswith(f"{_PREFIX['agreements']}-")]
        if earlier and rng.random() < 0.5:
            fact["relations"] = [
                {"relation": rng.choice(_RELATIONS), "agreement": rng.choice(earlier)}
            ]
        evidence = f"{title}: {self.words(lang, 6, 12)}."
        self._ground(b, fact, evidence)
        return fact

    def _supply_key(self) -> tuple[str, str, str, tuple[str, ...]]:
        k = (self.supply_serial * self.mult + self.offset) % self.combinations
        self.supply_serial += 1
        n = len(self.states)
        pair, rest = k % (n * (n - 1)), k // (n * (n - 1))
        supplier = self.states[pair // (n - 1)]
        others = pair % (n - 1)
        recipient = self.states[others if others < pair // (n - 1) else others + 1]
        polarity = ("affirmed", "denied")[rest % 2]
        return supplier, recipient, polarity, self.subsets[rest // 2]

    def supply(self, b: Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        supplier, recipient, polarity, categories = self._supply_key()
        items: list[dict[str, Any]] = []
        for category in categories:
            item: dict[str, Any] = {"category": category, "description": self.words(lang, 1, 3)}
            if rng.random() < 0.3:
                item["purpose"] = self.words(lang, 2, 5)
            if rng.random() < 0.4:
                item["quantity"] = {
                    "value": rng.randint(1, 5000),
                    "unit": rng.choice(_UNITS),
                    "approximate": rng.random() < 0.5,
                }
            items.append(item)
        fact: dict[str, Any] = {
            "id": local,
            "supplier": supplier,
            "recipient": recipient,
            "items": items,
            "polarity": polarity,
            "status": rng.choice(_STATUSES),
        }
        if b.statements and rng.random() < 0.5:
            fact["asserted_by"] = [rng.choice(b.statements)]
        evidence = f"{supplier} \u2192 {recipient}: {self.words(lang, 8, 14)}."
        self._ground(b, fact, evidence)
        return fact

    def _ground(self, b: Bundle, fact: dict[str, Any], evidence: str) -> None:
        """A machine fact's evidence (a sentence of the article), and its confidence."""
        fact["evidence"] = evidence
        fact["confidence"] = round(self.rng.uniform(0.5, 1.0), 2)
        b.sentences.append(evidence)

    def alignment(self, b: Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        grouping = rng.choice(self.groupings)
        members = rng.sample(self.states, rng.randint(2, 5))
        fact: dict[str, Any] = {"id": local, "grouping": grouping.id}
        if rng.random() < 0.5:
            fact["led_by"] = members[0]
        fact["members"] = [
            {"actor": m, "degree": "full" if rng.random() < 0.8 else "partial"} for m in members
        ]
        if rng.random() < 0.5:
            approximate = rng.random() < 0.5
            low = 1 if approximate else len(members)
            fact["size"] = {"value": rng.randint(low, 60), "approximate": approximate}
        if b.statements and rng.random() < 0.5:
            fact["asserted_by"] = [rng.choice(b.statements)]
        evidence = f"{grouping.names[SCRIPT[lang]]}: {self.words(lang, 8, 14)}."
        self._ground(b, fact, evidence)
        return fact

    def event(self, b: Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        fact: dict[str, Any] = {"id": local, "kind": rng.choice(self.event_kinds)}
        fact["title"] = self.words(lang, 2, 5)
        if rng.random() < 0.7:
            fact["date"] = self._past(b.published)
        if rng.random() < 0.5:
            fact["place"] = {"name": self.words(lang, 1, 2).title(), "country": self._state()}
        fact["participants"] = self._refs(1, 4)
        evidence = self.sentence(lang, 10, 18)
        self._ground(b, fact, evidence)
        return fact

    def deployment(self, b: Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        sender, host = rng.sample(self.states, 2)
        fact: dict[str, Any] = {"id": local, "sender": sender, "host": host}
        fact["personnel"] = rng.choice(self.personnel)
        if rng.random() < 0.5:
            fact["size"] = {"value": rng.randint(10, 20_000), "approximate": rng.random() < 0.5}
        if rng.random() < 0.4:
            fact["purpose"] = self.words(lang, 2, 5)
        fact["status"] = rng.choice(("reported", "planned", "deployed", "withdrawn"))
        fact["polarity"] = "affirmed" if rng.random() < 0.85 else "denied"
        if rng.random() < 0.5:
            fact["date"] = self._past(b.published)
        if b.statements and rng.random() < 0.5:
            fact["asserted_by"] = [rng.choice(b.statements)]
        if rng.random() < 0.3:
            fact["sourcing"] = "alleged"
        evidence = f"{sender} \u2192 {host}: {self.words(lang, 8, 14)}."
        self._ground(b, fact, evidence)
        return fact

    def response(self, b: Bundle, local: str) -> dict[str, Any]:
        """An answer to an earlier fact of the bundle (a statement at least comes first)."""
        rng = self.rng
        fact: dict[str, Any] = {"id": local, "to": rng.choice(b.facts)}
        fact["by"] = [self._state()]
        fact["response"] = rng.choice(_RESPONSES)
        if b.statements and rng.random() < 0.3:
            fact["statement"] = rng.choice(b.statements)
        if rng.random() < 0.5:
            fact["date"] = self._past(b.published)
        self._ground(b, fact, self.sentence(b.lang, 8, 14))
        return fact

    def _state(self) -> str:
        return self.rng.choice(self.states)

    # --- bundles ------------------------------------------------------------------------

    def bundle(self, index: int, facts: int, previous: str | None, text_prefix: str = "") -> Bundle:
        rng = self.rng
        lang = rng.choice(LANGUAGES)
        outlet = rng.choice(OUTLETS[lang])
        published = rng.randint(_FIRST_DAY, _LAST_DAY)
        source_id = f"src-{index}-{iso_date(published)}"
        shard = f"{index // TEXTS_PER_SHARD:05d}"
        b = Bundle(source_id, lang, published, previous, shard)
        title = self.sentence(lang, 5, 10)
        b.sentences.append(title)
        kinds = ["statements", *rng.choices(KINDS, _KIND_WEIGHTS, k=facts - 1)]
        counters = dict.fromkeys(KINDS, 0)
        sections: dict[str, list[dict[str, Any]]] = {}
        makers = {
            "statements": self.statement,
            "agreements": self.agreement,
            "supplies": self.supply,
            "alignments": self.alignment,
            "events": self.event,
            "deployments": self.deployment,
            "responses": self.response,
        }
        for kind in kinds:  # statements first: the other facts may cite them
            counters[kind] += 1
            local = f"{_PREFIX[kind]}-{counters[kind]}"
            fact = makers[kind](b, local)
            if kind == "statements":
                b.statements.append(local)
            b.facts.append(local)
            sections.setdefault(kind, []).append(fact)
            if rng.random() < 0.3:
                b.sentences.append(self.sentence(lang))
        b.value = {
            "format": 2,
            "source": {
                "id": source_id,
                "title": title[:-1],
                "outlet": outlet,
                "published_on": iso_date(published),
                "language": lang,
                "url": f"https://news.example.org/{lang}/{source_id}",
                "text": f"{text_prefix}texts/{self.stem}/{shard}/{source_id}.txt",
            },
            "extraction": {
                "method": "model",
                "by": PIPELINE,
                "model": MODEL_NAME,
                "extracted_on": iso_date(min(published + rng.randint(1, 90), _LAST_DAY + 90)),
                "review": "accepted",
            },
            **{kind: sections[kind] for kind in KINDS if kind in sections},
        }
        return b
