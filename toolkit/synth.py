"""Synthetic machine-extracted bundles, for benchmarks and scale tests.

`synthesize(out, facts)` writes `out` (JSONL, one bundle per line, about ten facts per
source, every fact kind) and beside it whatever the bundles reference, so that the
folder holding `out` validates and exports like any dataset:

    <folder>/<name>.jsonl                       the bundles
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
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry

from toolkit.model.model import load_model

FACTS_PER_SOURCE = (8, 12)  # uniform, so ten on average
TEXTS_PER_SHARD = 1000
MODEL_NAME = "newsfacts-extractor-7b-2025.01"
PIPELINE = "factkit synth"

# Kinds of fact and how often a bundle has each (statements dominate news extraction).
_KINDS = ("statements", "agreements", "supplies", "alignments", "events")
_KIND_WEIGHTS = (40, 10, 20, 10, 20)
_PREFIX = {"statements": "st", "agreements": "ag", "supplies": "sp", "alignments": "al"}
_PREFIX["events"] = "ev"

_LANGUAGES = ("en", "en", "en", "ru", "ru", "uk", "ko")
_OUTLETS = {
    "en": ("Daily Ledger", "Harbor Times", "Northern Wire", "The Atlas Review"),
    "ru": ("Вечерний курьер", "Северная газета", "Балтийский вестник"),
    "uk": ("Київський огляд", "Дніпровські новини", "Голос Полісся"),
    "ko": ("한빛일보", "동해신문", "서울타임스"),
}
_TEXTS = {
    "en": (
        "the government said it would expand cooperation with its partners in the region "
        "while officials warned that new deliveries of equipment could change the balance "
        "of power along the border ministers discussed sanctions energy supplies and "
        "security guarantees after talks that lasted late into the night analysts noted "
        "that the agreement had been prepared for months and that further steps depend on "
        "parliament diplomats described the meeting as frank and constructive but stressed "
        "that differences remain over trade routes shipments and the future of joint "
        "exercises near the coast"
    ),
    "ru": (
        "правительство заявило что расширит сотрудничество с партнерами в регионе тогда как "
        "официальные лица предупредили что новые поставки оборудования могут изменить "
        "баланс сил вдоль границы министры обсудили санкции поставки энергии и гарантии "
        "безопасности после переговоров которые продолжались до поздней ночи аналитики "
        "отметили что соглашение готовилось несколько месяцев и что дальнейшие шаги зависят "
        "от парламента дипломаты назвали встречу откровенной и конструктивной но подчеркнули "
        "что разногласия сохраняются по торговым маршрутам и будущим совместным учениям"
    ),
    "uk": (
        "уряд заявив що розширить співпрацю з партнерами в регіоні тоді як посадовці "
        "попередили що нові постачання обладнання можуть змінити баланс сил уздовж кордону "
        "міністри обговорили санкції постачання енергії та гарантії безпеки після переговорів "
        "які тривали до пізньої ночі аналітики зазначили що угоду готували кілька місяців а "
        "подальші кроки залежать від парламенту дипломати назвали зустріч відвертою"
    ),
    "ko": (
        "정부는 지역 협력국과의 협력을 확대하겠다고 밝혔다 관리들은 새로운 장비 공급이 국경 "
        "지역의 힘의 균형을 바꿀 수 있다고 경고했다 장관들은 제재와 에너지 공급 안보 보장을 "
        "논의했다 분석가들은 협정이 수개월 동안 준비되었으며 향후 조치는 의회에 달려 있다고 "
        "지적했다 외교관들은 회담이 솔직하고 건설적이었다고 평가했지만 무역 경로와 합동 훈련의 "
        "미래를 둘러싼 이견이 남아 있다고 강조했다"
    ),
}
_WORDS = {lang: tuple(text.split()) for lang, text in _TEXTS.items()}
# (Latin, Cyrillic, Hangul) spellings: registry names and aliases, and how sources write them.
_GIVEN = (
    ("Ivan", "Иван", "이반"),
    ("Olena", "Олена", "올레나"),
    ("Min-jun", "Мин Джун", "민준"),
    ("Seo-yeon", "Со Ён", "서연"),
    ("Dmitri", "Дмитрий", "드미트리"),
    ("Anna", "Анна", "안나"),
    ("Taras", "Тарас", "타라스"),
    ("Ji-ho", "Чжи Хо", "지호"),
    ("Maria", "Мария", "마리아"),
    ("Oleksandr", "Олександр", "올렉산드르"),
    ("Hye-jin", "Хе Джин", "혜진"),
    ("Pavel", "Павел", "파벨"),
)
_FAMILY = (
    ("Kovalenko", "Коваленко", "코발렌코"),
    ("Petrov", "Петров", "페트로프"),
    ("Kim", "Ким", "김"),
    ("Park", "Пак", "박"),
    ("Shevchenko", "Шевченко", "셰브첸코"),
    ("Lee", "Ли", "이"),
    ("Smirnova", "Смирнова", "스미르노바"),
    ("Choi", "Чхве", "최"),
    ("Bondar", "Бондар", "본다르"),
    ("Volkov", "Волков", "볼코프"),
    ("Jung", "Чон", "정"),
)
_ORG_KINDS = (
    ("Ministry of Defence", "Министерство обороны", "국방부"),
    ("Foreign Ministry", "Министерство иностранных дел", "외교부"),
    ("State Arms Exporter", "Государственный экспортер вооружений", "국영 무기 수출사"),
    ("Security Council", "Совет безопасности", "안전보장회의"),
    ("Trade Agency", "Торговое агентство", "무역청"),
)
_GROUPINGS = (
    ("Coalition", "Коалиция", "연합"),
    ("Contact Group", "Контактная группа", "연락 그룹"),
    ("Partnership", "Партнерство", "동반자 관계"),
)
_SCRIPT = {"en": 0, "ru": 1, "uk": 1, "ko": 2}
_QUOTE_FRAMES = {
    "en": ('"{q}," {n} said.', "{n} said: \u201c{q}\u201d."),
    "ru": ("\u00ab{q}\u00bb, \u2014 заявил {n}.", "{n} сказал: \u00ab{q}\u00bb."),
    "uk": ("\u00ab{q}\u00bb, \u2014 заявив {n}.", "{n} сказав: \u00ab{q}\u00bb."),
    "ko": ('{n}은 "{q}"라고 말했다.', '{n}는 "{q}"라고 밝혔다.'),
}
_PARAPHRASE_FRAMES = {
    "en": "According to {n}, {q}.",
    "ru": "По словам {n}, {q}.",
    "uk": "За словами {n}, {q}.",
    "ko": "{n}에 따르면 {q}.",
}
_AGREEMENT_WORDS = {
    "en": "Agreement No. {s} on {t}",
    "ru": "Соглашение № {s} о {t}",
    "uk": "Угода № {s} про {t}",
    "ko": "{t}에 관한 제{s}호 협정",
}
_UNITS = ("units", "tonnes", "shells", "sets", "batches")
_STATUSES = ("reported", "planned", "ordered", "delivered")
_PAST_SIGNED = ("signed", "ratified", "in_force", "suspended", "terminated")
_PAST_IN_FORCE = ("in_force", "suspended", "terminated")
_FIRST_DAY = dt.date(2015, 1, 1).toordinal()
_LAST_DAY = dt.date(2025, 12, 31).toordinal()

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

Progress = Callable[[int], None]  # called with the number of facts written so far


@dataclass(frozen=True, slots=True)
class SynthResult:
    """What `synthesize` wrote."""

    path: Path  # the bundles (JSONL)
    folder: Path  # the data folder: validate or export this
    actors_path: Path
    expected_path: Path
    facts: int
    bundles: int
    actors: int
    breaks: int


@dataclass(frozen=True, slots=True)
class _Actor:
    id: str
    kind: str
    names: tuple[str, str, str]  # Latin, Cyrillic, Hangul
    country: str


def expected_path(out: Path) -> Path:
    """Where the sidecar listing the injected breaks goes."""
    return out.with_name(f".{out.stem}.expected.jsonl")


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _date(ordinal: int, precision: int = 10) -> str:
    return dt.date.fromordinal(ordinal).isoformat()[:precision]


def _supply_combinations(states: list[str], categories: list[str]) -> tuple[list[Any], int]:
    subsets: list[tuple[str, ...]] = [(c,) for c in categories]
    subsets += [(a, b) for i, a in enumerate(categories) for b in categories[i + 1 :] if a != b]
    size = len(states) * (len(states) - 1) * 2 * len(subsets)
    return subsets, size


class _Generator:
    def __init__(self, facts: int, seed: int, invalid_rate: float, stem: str) -> None:
        self.rng = random.Random(seed)
        self.total = facts
        self.invalid_rate = invalid_rate
        self.stem = stem
        model = load_model()
        vocab = model.vocabularies
        self.topics = vocab["statement_topics"].code_list
        self.agreement_kinds = vocab["agreement_kinds"].code_list
        self.agreement_statuses = vocab["agreement_statuses"].code_list
        self.provisions = vocab["agreement_provisions"].code_list
        self.categories = vocab["supply_categories"].code_list
        self.event_kinds = vocab["event_kinds"].code_list
        self.states = sorted(c.alpha_3 for c in pycountry.countries)
        self.subsets, self.combinations = _supply_combinations(self.states, self.categories)
        # a bijection k -> (k * A + B) mod M spreads supply k over the combinations
        self.mult = self._coprime(self.combinations)
        self.offset = self.rng.randrange(self.combinations)
        self.supply_serial = 0
        self.agreement_serial = 0
        self.registry = self._registry(facts)
        self.persons = [a for a in self.registry if a.kind == "person"]
        self.orgs = [a for a in self.registry if a.kind == "organization"]
        self.groupings = [a for a in self.registry if a.kind == "grouping"]
        self.broken_supplies: set[tuple[str, str, tuple[str, ...]]] = set()

    def _coprime(self, m: int) -> int:
        from math import gcd

        a = 2_654_435_761 % m
        while gcd(a, m) != 1:
            a += 1
        return a

    # --- the registry -----------------------------------------------------------------

    def _registry(self, facts: int) -> list[_Actor]:
        rng = self.rng
        size = min(20_000, max(200, facts // 100))
        out: list[_Actor] = []
        for i in range(size):
            country = rng.choice(self.states)
            roll = i % 20
            if roll < 12:
                given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
                names = (
                    f"{given[0]} {family[0]}",
                    f"{given[1]} {family[1]}",
                    f"{family[2]}{given[2]}",
                )
                out.append(_Actor(f"{_slug(names[0])}-{i}", "person", names, country))
            elif roll < 17:
                org = rng.choice(_ORG_KINDS)
                names = (f"{org[0]} {i}", f"{org[1]} {i}", f"{org[2]} {i}")
                out.append(
                    _Actor(f"{_slug(org[0])}-{country.lower()}-{i}", "organization", names, country)
                )
            else:
                grp = rng.choice(_GROUPINGS)
                names = (f"{grp[0]} {i}", f"{grp[1]} {i}", f"{grp[2]} {i}")
                out.append(_Actor(f"{_slug(grp[0])}-{i}", "grouping", names, country))
        return out

    def actor_record(self, actor: _Actor) -> dict[str, Any]:
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

    # --- text ---------------------------------------------------------------------------

    def words(self, lang: str, low: int, high: int) -> str:
        rng = self.rng
        return " ".join(rng.choices(_WORDS[lang], k=rng.randint(low, high)))

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
        return _date(published - rng.randint(0, 400), rng.choice((4, 7, 10, 10)))

    def statement(self, b: _Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        speaker = rng.choice(self.persons)
        mode = rng.choices(("direct_quote", "partial_quote", "paraphrase"), (35, 25, 40))[0]
        said = self.words(lang, 8, 16)
        name = speaker.names[_SCRIPT[lang]]
        if mode == "paraphrase":
            evidence = _PARAPHRASE_FRAMES[lang].format(n=name, q=said)
        else:
            evidence = rng.choice(_QUOTE_FRAMES[lang]).format(n=name, q=said)
        fact: dict[str, Any] = {"id": local, "speaker": speaker.id}
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
        fact["evidence"] = evidence
        fact["confidence"] = round(rng.uniform(0.5, 1.0), 2)
        b.sentences.append(evidence)
        return fact

    def agreement(self, b: _Bundle, local: str) -> dict[str, Any]:
        rng = self.rng
        lang = b.lang
        self.agreement_serial += 1
        serial = f"{self.agreement_serial * 7919 % 1_000_003}-{self.agreement_serial}"
        title = _AGREEMENT_WORDS[lang].format(s=serial, t=self.words(lang, 2, 4))
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
        if status in _PAST_SIGNED and rng.random() < 0.6:
            fact["signed_on"] = self._past(b.published)
        if status in _PAST_IN_FORCE and rng.random() < 0.4:
            fact["in_force_on"] = self._past(b.published)
        if rng.random() < 0.5:
            fact["place"] = {"name": self.words(lang, 1, 2).title(), "country": bound[0]}
        fact["provisions"] = rng.sample(self.provisions, rng.randint(1, 2))
        fact["parties"] = parties
        evidence = f"{title}: {self.words(lang, 6, 12)}."
        fact["evidence"] = evidence
        fact["confidence"] = round(rng.uniform(0.5, 1.0), 2)
        b.sentences.append(evidence)
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

    def supply(self, b: _Bundle, local: str) -> dict[str, Any]:
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
            fact["asserted_by"] = rng.choice(b.statements)
        evidence = f"{supplier} \u2192 {recipient}: {self.words(lang, 8, 14)}."
        fact["evidence"] = evidence
        fact["confidence"] = round(rng.uniform(0.5, 1.0), 2)
        b.sentences.append(evidence)
        return fact

    def alignment(self, b: _Bundle, local: str) -> dict[str, Any]:
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
            fact["asserted_by"] = rng.choice(b.statements)
        evidence = f"{grouping.names[_SCRIPT[lang]]}: {self.words(lang, 8, 14)}."
        fact["evidence"] = evidence
        fact["confidence"] = round(rng.uniform(0.5, 1.0), 2)
        b.sentences.append(evidence)
        return fact

    def event(self, b: _Bundle, local: str) -> dict[str, Any]:
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
        fact["evidence"] = evidence
        fact["confidence"] = round(rng.uniform(0.5, 1.0), 2)
        b.sentences.append(evidence)
        return fact

    def _state(self) -> str:
        return self.rng.choice(self.states)

    # --- bundles ------------------------------------------------------------------------

    def bundle(
        self, index: int, facts: int, previous: str | None, text_prefix: str = ""
    ) -> _Bundle:
        rng = self.rng
        lang = rng.choice(_LANGUAGES)
        outlet = rng.choice(_OUTLETS[lang])
        published = rng.randint(_FIRST_DAY, _LAST_DAY)
        source_id = f"src-{index}-{_date(published)}"
        shard = f"{index // TEXTS_PER_SHARD:05d}"
        b = _Bundle(source_id, lang, published, previous, shard)
        title = self.sentence(lang, 5, 10)
        b.sentences.append(title)
        kinds = ["statements", *rng.choices(_KINDS, _KIND_WEIGHTS, k=facts - 1)]
        counters = dict.fromkeys(_KINDS, 0)
        sections: dict[str, list[dict[str, Any]]] = {}
        makers = {
            "statements": self.statement,
            "agreements": self.agreement,
            "supplies": self.supply,
            "alignments": self.alignment,
            "events": self.event,
        }
        for kind in kinds:  # statements first: the other facts may cite them
            counters[kind] += 1
            local = f"{_PREFIX[kind]}-{counters[kind]}"
            fact = makers[kind](b, local)
            if kind == "statements":
                b.statements.append(local)
            sections.setdefault(kind, []).append(fact)
            if rng.random() < 0.3:
                b.sentences.append(self.sentence(lang))
        b.value = {
            "source": {
                "id": source_id,
                "title": title[:-1],
                "outlet": outlet,
                "published_on": _date(published),
                "language": lang,
                "url": f"https://news.example.org/{lang}/{source_id}",
                "text": f"{text_prefix}texts/{self.stem}/{shard}/{source_id}.txt",
            },
            "extraction": {
                "method": "model",
                "by": PIPELINE,
                "model": MODEL_NAME,
                "extracted_on": _date(min(published + rng.randint(1, 90), _LAST_DAY + 90)),
                "review": "accepted",
            },
            **{kind: sections[kind] for kind in _KINDS if kind in sections},
        }
        return b

    # --- breaks -------------------------------------------------------------------------

    def break_bundle(self, b: _Bundle) -> tuple[str, str, str]:
        """Break `b` in one known way: (break name, expected code, pointer)."""
        rng = self.rng
        value = b.value
        kinds = [k for k in BREAKS if self._applies(k, value)]
        kind = rng.choice(kinds)
        statements = value["statements"]
        if kind == "unknown-actor":
            i = rng.randrange(len(statements))
            statements[i]["speaker"] = f"unregistered-person-{rng.randrange(10**6)}"
            return kind, "R301", f"/statements/{i}/speaker"
        if kind == "bad-vocabulary-code":
            i = rng.randrange(len(statements))
            code = statements[i]["topics"][0]
            statements[i]["topics"][0] = code[:2] + code[3:]  # one letter dropped
            return kind, "V401", f"/statements/{i}/topics/0"
        if kind == "date-after-publication":
            i = rng.randrange(len(statements))
            statements[i]["said_on"] = _date(b.published + rng.randint(1, 30))
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
            value["supplies"][i]["asserted_by"] = "st-99"
            return kind, "R302", f"/supplies/{i}/asserted_by"
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
        key = self.rng.choice([k for k in _KINDS if k in value])
        return key, self.rng.randrange(len(value[key]))


class _Bundle:
    __slots__ = (
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
        self.statements: list[str] = []
        self.value: dict[str, Any] = {}


def _text(b: _Bundle, rng: random.Random) -> str:
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


def synthesize(
    out: str | os.PathLike[str],
    facts: int,
    *,
    seed: int = 0,
    invalid_rate: float = 0.0,
    progress: Progress | None = None,
) -> SynthResult:
    """Write `facts` facts as JSONL bundles to `out`, with their registry and texts beside it."""
    if facts < 1:
        raise ValueError("facts must be at least 1")
    if not 0.0 <= invalid_rate <= 1.0:
        raise ValueError("invalid_rate must be between 0 and 1")
    path = Path(out)
    folder = path.parent
    stem = path.stem
    gen = _Generator(facts, seed, invalid_rate, stem)
    rng = gen.rng
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    texts = folder / "texts" / stem
    actors_path = folder / "actors" / f"{stem}.jsonl"
    actors_path.parent.mkdir(parents=True, exist_ok=True)
    with open(actors_path, "w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(encode(gen.actor_record(a)) + "\n" for a in gen.registry)
    sidecar = expected_path(path)
    written = bundles = breaks = 0
    previous: str | None = None
    shard = None
    low, high = FACTS_PER_SOURCE
    with (
        open(path, "w", encoding="utf-8", newline="\n") as handle,
        open(sidecar, "w", encoding="utf-8", newline="\n") as expected,
    ):
        lines: list[str] = []
        while written < facts:
            n = min(rng.randint(low, high), facts - written)
            b = gen.bundle(bundles, n, previous)
            line_no = bundles + 1
            broken = invalid_rate > 0 and rng.random() < invalid_rate
            text = _text(b, rng)
            if broken:
                kind, code, pointer = gen.break_bundle(b)
                line = encode(b.value)
                if code == "P010":
                    line = line[: rng.randint(len(line) // 4, len(line) // 2)]
                entry = {"line": line_no, "code": code, "pointer": pointer, "break": kind}
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
                handle.write("\n".join(lines) + "\n")
                lines.clear()
            written += n
            bundles += 1
            if progress is not None and bundles % 1000 == 0:
                progress(written)
        if lines:
            handle.write("\n".join(lines) + "\n")
    if progress is not None:
        progress(written)
    return SynthResult(
        path=path,
        folder=folder,
        actors_path=actors_path,
        expected_path=sidecar,
        facts=written,
        bundles=bundles,
        actors=len(gen.registry),
        breaks=breaks,
    )


def _yaml(value: Any, indent: int = 0) -> str:
    """Block YAML whose scalars are JSON scalars (so factkit reads back exactly `value`)."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_yaml(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = _yaml(item, indent + 2)
                lines.append(f"{pad}- {body[indent + 2 :]}")
            else:
                lines.append(f"{pad}- {_yaml(item)}")
        return "\n".join(lines)
    return json.dumps(value, ensure_ascii=False)


def synthesize_yaml(
    folder: str | os.PathLike[str], facts: int, *, seed: int = 0, name: str = "synth"
) -> SynthResult:
    """The hand-written layout: one YAML file per bundle under `folder/sources/` (1,000 per
    shard folder), one per actor under `folder/actors/`, texts under `folder/texts/`."""
    root = Path(folder)
    gen = _Generator(facts, seed, 0.0, name)
    rng = gen.rng
    actors = root / "actors"
    actors.mkdir(parents=True, exist_ok=True)
    for actor in gen.registry:
        (actors / f"{actor.id}.yaml").write_text(
            _yaml(gen.actor_record(actor)) + "\n", encoding="utf-8"
        )
    written = bundles = 0
    previous: str | None = None
    low, high = FACTS_PER_SOURCE
    while written < facts:
        n = min(rng.randint(low, high), facts - written)
        b = gen.bundle(bundles, n, previous, text_prefix="../../")
        text = _text(b, rng)
        sources = root / "sources" / b.shard
        texts = root / "texts" / name / b.shard
        if bundles % TEXTS_PER_SHARD == 0:
            sources.mkdir(parents=True, exist_ok=True)
            texts.mkdir(parents=True, exist_ok=True)
        (sources / f"{b.source_id}.yaml").write_text(_yaml(b.value) + "\n", encoding="utf-8")
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
