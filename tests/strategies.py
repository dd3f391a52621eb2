"""Hypothesis strategies for VALID factkit datasets, and a writer that puts them on disk.

`datasets()` draws a plain dict `{"bundles": [...], "actors": [...]}` whose every
reference resolves: actors come from the drawn registry or are ISO 3166-1 codes,
`asserted_by` names a statement of the same bundle, vocabulary codes come from the
model's vocabularies, dates are not after publication, signatories act for a
listed party, ids are unique, machine-extracted facts carry evidence and
confidence. Text values mix random Unicode (Cyrillic, Hangul, astral characters)
with strings that trip up YAML, CSV and spreadsheets ("NO", "012", "=SUM(A1)",
quotes, commas, line breaks).

`write_dataset(tmp_path, dataset, fmt)` writes it as YAML, JSON or JSONL so that
it reads back as exactly those values, plus a text copy for every source that
names one (holding every evidence span and quote, so grounding passes).
Mutation tests can draw a dataset, break one rule in the dict, and write it.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from pathlib import Path
from typing import Any

import pycountry
from hypothesis import strategies as st

from toolkit.checks.safety import flagged_characters
from toolkit.model.model import load_model
from toolkit.parsers.fast_lane import FACT_KEYS
from toolkit.synth.yaml_writer import dump_yaml

ISO3 = sorted(country.alpha_3 for country in pycountry.countries)
LANGUAGES = ("en", "ru", "uk", "ko", "de", "fr", "zh", "ar")
# Words for a relative date that name no weekday (C514 checks those against the date).
DATE_WORDS = ("yesterday", "last week", "this morning", "earlier this month", "on Monday")
MACHINE = ("model", "assisted")

TRICKY = (
    "NO",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "null",
    "~",
    "012",
    "0x1F",
    "1e3",
    "-5",
    "+1",
    "=SUM(A1)",
    "@user",
    "-x",
    "#hash",
    "[x]",
    "{y}",
    "'quoted'",
    'say "hi", ok',
    "a,b,c",
    "line1\nline2",
    "crlf\r\nline",
    "  padded  ",
    "Путин",
    "김정은",
    "Ким Чен Ын",
    "ÉCOLE",
    "e\u0301",
    "😀 emoji",
    "a|b",
    "back\\slash",
)
WORDS = ("Путин", "Пхеньян", "Украина", "김정은", "평양", "러시아", "Kyiv", "Bundeswehr", "Dürer")

INVISIBLE_LETTERS = "".join(
    ch for ch in flagged_characters() if unicodedata.category(ch) not in ("Cf", "Cc")
)
_ALPHABET = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
    include_characters="\n",
    # letters and marks that render as nothing (Hangul fillers, ...): X704 flags them
    exclude_characters=INVISIBLE_LETTERS,
)
_DAY0 = dt.date(1900, 1, 1)
_DAY1 = dt.date(2100, 12, 31)


def texts() -> st.SearchStrategy[str]:
    """Non-empty text as a source reports it."""
    return st.one_of(
        st.sampled_from(TRICKY),
        st.text(_ALPHABET, min_size=1, max_size=24),
        st.lists(st.sampled_from(WORDS + TRICKY), min_size=1, max_size=4).map(" ".join),
    )


def slugs(prefix: str) -> st.SearchStrategy[str]:
    word = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
    return st.lists(word, min_size=1, max_size=2).map(lambda ws: "-".join([prefix, *ws]))


def dates(last: dt.date = _DAY1) -> st.SearchStrategy[str]:
    """A date prefix ('2024', '2024-06' or '2024-06-20') whose first day is not after `last`."""
    return st.tuples(st.dates(_DAY0, last), st.sampled_from((4, 7, 10))).map(
        lambda pair: pair[0].isoformat()[: pair[1]]
    )


def _codes(vocabulary: str) -> list[str]:
    return load_model().vocabularies[vocabulary].code_list


def _maybe(draw: Any, strategy: st.SearchStrategy[Any]) -> Any:
    return draw(strategy) if draw(st.booleans()) else None


def _put(record: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        record[key] = value


@st.composite
def actors(draw: Any) -> dict[str, Any]:
    actor: dict[str, Any] = {
        "id": draw(slugs("actor")),
        "kind": draw(st.sampled_from(("person", "organization", "grouping", "state", "region"))),
        "name": draw(texts()),
    }
    _put(actor, "aliases", _maybe(draw, st.lists(texts(), max_size=3, unique=True)))
    _put(actor, "country", _maybe(draw, st.sampled_from(ISO3)))
    _put(actor, "wikidata", _maybe(draw, st.integers(1, 10**9).map(lambda n: f"Q{n}")))
    _put(actor, "description", _maybe(draw, texts()))
    return actor


def _common(draw: Any, record: dict[str, Any], machine: bool) -> dict[str, Any]:
    """evidence, confidence, review and note; machine extractions always show evidence."""
    if machine or draw(st.booleans()):
        record["evidence"] = draw(texts())
    if machine or draw(st.booleans()):
        record["confidence"] = draw(st.one_of(st.floats(0, 1), st.sampled_from((0, 1))))
    _put(record, "review", _maybe(draw, st.sampled_from(("unreviewed", "accepted", "rejected"))))
    _put(record, "note", _maybe(draw, texts()))
    return record


def _place(draw: Any) -> dict[str, Any] | None:
    place: dict[str, Any] = {}
    _put(place, "name", _maybe(draw, texts()))
    if not place or draw(st.booleans()):
        place["country"] = draw(st.sampled_from(ISO3))
    return place if draw(st.booleans()) else None


def _dated(draw: Any, record: dict[str, Any], field: str, last: dt.date) -> None:
    """A date not after `last`, sometimes with its basis and words (relative needs words)."""
    date = _maybe(draw, dates(last))
    if date is None:
        return
    record[field] = date
    basis = _maybe(draw, st.sampled_from(("stated", "dateline", "relative")))
    _put(record, f"{field}_basis", basis)
    if basis == "relative" or draw(st.booleans()):
        words = draw(st.sampled_from(DATE_WORDS))
        if words == "on Monday" and (len(date) < 10 or dt.date.fromisoformat(date).weekday()):
            words = "last week"  # a weekday must be the date's own (C514)
        record[f"{field}_words"] = words


def _statement(
    draw: Any, local: str, refs: list[str], published: dt.date, machine: bool
) -> dict[str, Any]:
    mode = draw(st.sampled_from(("direct_quote", "partial_quote", "paraphrase")))
    st_: dict[str, Any] = {"id": local, "mode": mode}
    _put(
        st_,
        "speakers",
        _maybe(draw, st.lists(st.sampled_from(refs), min_size=1, max_size=3, unique=True)),
    )
    _put(st_, "speaker_group", _maybe(draw, texts()))
    if not ({"speakers", "speaker_group"} & set(st_)) or draw(st.booleans()):
        st_["speaker_role"] = draw(texts())
    _put(st_, "on_behalf_of", _maybe(draw, st.sampled_from(refs)))
    if mode != "paraphrase" or draw(st.booleans()):
        st_["text"] = draw(texts())
    _dated(draw, st_, "said_on", published)
    _put(st_, "about", _maybe(draw, st.lists(st.sampled_from(refs), max_size=4, unique=True)))
    topics = st.lists(st.sampled_from(_codes("statement_topics")), max_size=3, unique=True)
    _put(st_, "topics", _maybe(draw, topics))
    return _common(draw, st_, machine)


def _parties(draw: Any, refs: list[str]) -> list[dict[str, Any]]:
    bound = draw(st.lists(st.sampled_from(refs), min_size=1, max_size=3, unique=True))
    parties = [{"actor": a, "role": "party"} for a in bound]
    for actor in draw(st.lists(st.sampled_from(refs), max_size=3, unique=True)):
        role = draw(st.sampled_from(("signatory", "guarantor", "observer")))
        entry = {"actor": actor, "role": role}
        if role == "signatory" or draw(st.booleans()):
            entry["on_behalf_of"] = draw(st.sampled_from(bound))  # signs for a listed party
        parties.append(entry)
    shuffled: list[dict[str, Any]] = draw(st.permutations(parties))
    return shuffled


# Statuses and the actions that would contradict them (toolkit.checks.lifecycle, C513).
_CONTRADICTED = {
    "announced": {"signature", "entry_into_force"},
    "signed": {"ratification", "acceptance", "approval", "accession", "entry_into_force"},
    "ratified": {"entry_into_force"},
    "in_force": {"termination"},
}


def _actions(draw: Any, refs: list[str], status: str | None, last: dt.date) -> list[Any]:
    """Steps all on one date (or undated), so none is out of order, and none the status
    contradicts."""
    allowed = [
        c for c in _codes("agreement_actions") if c not in _CONTRADICTED.get(status or "", ())
    ]
    date = _maybe(draw, dates(last))
    out = []
    for action in draw(st.lists(st.sampled_from(allowed), max_size=3)):
        entry: dict[str, Any] = {"action": action}
        _put(entry, "party", _maybe(draw, st.sampled_from(refs)))
        _put(entry, "actor", _maybe(draw, st.sampled_from(refs)))
        if date is not None and draw(st.booleans()):
            entry["date"] = date
            _put(entry, "date_basis", _maybe(draw, st.sampled_from(("stated", "dateline"))))
            _put(entry, "date_words", _maybe(draw, st.sampled_from(DATE_WORDS[:4])))
        _put(entry, "place", _place(draw))
        _put(entry, "evidence", _maybe(draw, texts()))
        _put(entry, "note", _maybe(draw, texts()))
        out.append(entry)
    return out


def _agreement(
    draw: Any,
    local: str,
    refs: list[str],
    statements: list[str],
    published: dt.date,
    machine: bool,
) -> dict[str, Any]:
    ag: dict[str, Any] = {"id": local, "parties": _parties(draw, refs)}
    status = _maybe(draw, st.sampled_from(_codes("agreement_statuses")))
    _put(ag, "status", status)
    _put(ag, "title", _maybe(draw, texts()))
    _put(ag, "kind", _maybe(draw, st.sampled_from(_codes("agreement_kinds"))))
    _put(ag, "articles", _maybe(draw, st.integers(1, 500)))
    actions = _actions(draw, refs, status, published)
    if actions or draw(st.booleans()):
        ag["actions"] = actions
    codes = st.lists(st.sampled_from(_codes("agreement_provisions")), max_size=3, unique=True)
    provisions = _maybe(draw, codes)
    if provisions is not None:
        ag["provisions"] = []
        for code in provisions:
            entry: dict[str, Any] = {"code": code}
            _put(entry, "article", _maybe(draw, st.sampled_from(("4", "51", "1-3", "IV"))))
            _put(entry, "wording", _maybe(draw, texts()))
            ag["provisions"].append(entry)
    _asserted(draw, ag, statements)
    return _common(draw, ag, machine)


def _asserted(draw: Any, fact: dict[str, Any], statements: list[str]) -> None:
    if statements:
        found = st.lists(st.sampled_from(statements), min_size=1, max_size=2, unique=True)
        _put(fact, "asserted_by", _maybe(draw, found))
    _put(fact, "sourcing", _maybe(draw, st.sampled_from(("alleged", "disputed"))))


def _item(draw: Any, category: str) -> dict[str, Any]:
    item: dict[str, Any] = {"category": category}
    _put(item, "description", _maybe(draw, texts()))
    _put(item, "purpose", _maybe(draw, texts()))
    if draw(st.booleans()):
        quantity: dict[str, Any] = {"value": draw(st.integers(0, 2**63 - 1))}
        _put(quantity, "unit", _maybe(draw, texts()))
        _put(quantity, "approximate", _maybe(draw, st.booleans()))
        item["quantity"] = quantity
    return item


def _supply(
    draw: Any, local: str, refs: list[str], statements: list[str], machine: bool
) -> dict[str, Any]:
    supplier, recipient = draw(st.lists(st.sampled_from(refs), min_size=2, max_size=2, unique=True))
    categories = draw(
        st.lists(st.sampled_from(_codes("supply_categories")), min_size=1, max_size=3, unique=True)
    )
    sp: dict[str, Any] = {
        "id": local,
        "supplier": supplier,
        "recipient": recipient,
        "items": [_item(draw, c) for c in categories],
        "polarity": draw(st.sampled_from(("affirmed", "denied"))),
        "status": draw(st.sampled_from(("reported", "planned", "ordered", "delivered"))),
    }
    _asserted(draw, sp, statements)
    return _common(draw, sp, machine)


def _alignment(
    draw: Any, local: str, refs: list[str], statements: list[str], machine: bool
) -> dict[str, Any]:
    al: dict[str, Any] = {"id": local, "grouping": draw(st.sampled_from(refs))}
    _put(al, "led_by", _maybe(draw, st.sampled_from(refs)))
    members = _maybe(draw, st.lists(st.sampled_from(refs), max_size=4, unique=True))
    if members is not None:
        al["members"] = [
            {"actor": a, "degree": draw(st.sampled_from(("full", "partial")))} for a in members
        ]
    if draw(st.booleans()):
        approximate = draw(st.booleans())
        low = 0 if approximate else len(members or ())  # a firm size counts every member
        al["size"] = {"value": draw(st.integers(low, 10**6)), "approximate": approximate}
    _asserted(draw, al, statements)
    return _common(draw, al, machine)


def _event(
    draw: Any,
    local: str,
    refs: list[str],
    statements: list[str],
    facts: list[str],
    published: dt.date,
    machine: bool,
) -> dict[str, Any]:
    ev: dict[str, Any] = {"id": local, "kind": draw(st.sampled_from(_codes("event_kinds")))}
    _put(ev, "title", _maybe(draw, texts()))
    _dated(draw, ev, "date", published)
    _put(ev, "place", _place(draw))
    _put(ev, "participants", _maybe(draw, st.lists(st.sampled_from(refs), max_size=4, unique=True)))
    if facts:
        _put(ev, "about", _maybe(draw, st.lists(st.sampled_from(facts), max_size=2, unique=True)))
    _asserted(draw, ev, statements)
    return _common(draw, ev, machine)


def _deployment(
    draw: Any, local: str, refs: list[str], statements: list[str], published: dt.date, machine: bool
) -> dict[str, Any]:
    dp: dict[str, Any] = {
        "id": local,
        "sender": draw(st.sampled_from(refs)),
        "host": draw(st.sampled_from(refs)),
        "personnel": draw(st.sampled_from(_codes("personnel_kinds"))),
        "polarity": draw(st.sampled_from(("affirmed", "denied"))),
    }
    if draw(st.booleans()):
        size: dict[str, Any] = {"value": draw(st.integers(0, 10**6))}
        _put(size, "approximate", _maybe(draw, st.booleans()))
        dp["size"] = size
    _put(dp, "purpose", _maybe(draw, texts()))
    _put(
        dp,
        "status",
        _maybe(draw, st.sampled_from(("reported", "planned", "deployed", "withdrawn"))),
    )
    _dated(draw, dp, "date", published)
    _put(dp, "place", _place(draw))
    _asserted(draw, dp, statements)
    return _common(draw, dp, machine)


def _response(
    draw: Any,
    local: str,
    refs: list[str],
    statements: list[str],
    facts: list[str],
    published: dt.date,
    machine: bool,
) -> dict[str, Any]:
    rs: dict[str, Any] = {"id": local, "to": draw(st.sampled_from(facts))}
    _put(
        rs, "by", _maybe(draw, st.lists(st.sampled_from(refs), min_size=1, max_size=2, unique=True))
    )
    if "by" not in rs or draw(st.booleans()):
        rs["by_group"] = draw(texts())
    rs["response"] = draw(
        st.sampled_from(
            (
                "confirmed",
                "denied",
                "neither_confirmed_nor_denied",
                "declined_to_comment",
                "disputed",
            )
        )
    )
    if statements:
        _put(rs, "statement", _maybe(draw, st.sampled_from(statements)))
    _dated(draw, rs, "date", published)
    return _common(draw, rs, machine)


@st.composite
def bundles(draw: Any, source_id: str, refs: list[str], max_facts: int = 3) -> dict[str, Any]:
    """One valid bundle of source `source_id` whose actors all come from `refs`."""
    published = draw(st.dates(_DAY0, _DAY1))
    precision = draw(st.sampled_from((4, 7, 10)))
    method = draw(st.sampled_from(("manual", "model", "assisted")))
    machine = method in MACHINE
    source: dict[str, Any] = {
        "id": source_id,
        "outlet": draw(texts()),
        "published_on": published.isoformat()[:precision],
        "language": draw(st.sampled_from(LANGUAGES)),
    }
    _put(source, "title", _maybe(draw, texts()))
    _put(source, "via", _maybe(draw, st.lists(texts(), max_size=2, unique=True)))
    _put(source, "url", _maybe(draw, slugs("p").map(lambda s: f"https://example.org/{s}")))
    if draw(st.booleans()):
        source["text"] = f"../texts/{source_id}.txt"
    extraction: dict[str, Any] = {
        "method": method,
        "by": draw(texts()),
        "extracted_on": draw(dates()),
        "review": draw(st.sampled_from(("unreviewed", "accepted", "rejected"))),
    }
    if machine or draw(st.booleans()):
        extraction["model"] = draw(texts())
    bundle: dict[str, Any] = {"format": 2, "source": source, "extraction": extraction}
    # Fact dates start no later than the first day of the (possibly coarse) publication date.
    last = dt.date(
        published.year,
        published.month if precision > 4 else 1,
        published.day if precision > 7 else 1,
    )
    counter = iter(range(1, 10_000))

    def local(kind: str) -> str:
        """A fact id unique across every fact kind of the bundle."""
        return f"{kind}-{next(counter)}"

    size = st.integers(0, max_facts)
    statements = [_statement(draw, local("st"), refs, last, machine) for _ in range(draw(size))]
    # G608: attributed to someone (an actor or a group)
    ids = [s["id"] for s in statements if {"speakers", "speaker_group"} & set(s)]
    ids += [f"{source_id}/{i}" for i in ids]  # local or dataset-wide, same source either way
    agreements = [
        _agreement(draw, local("ag"), refs, ids, last, machine) for _ in range(draw(size))
    ]
    agreement_ids = [a["id"] for a in agreements]
    for agreement in agreements:  # relations to agreements of the bundle (R307)
        if agreement_ids and draw(st.booleans()):
            kinds = st.sampled_from(("amends", "protocol_to", "implements", "refers_to"))
            agreement["relations"] = [
                {"relation": draw(kinds), "agreement": draw(st.sampled_from(agreement_ids))}
            ]
            _put(agreement["relations"][0], "evidence", _maybe(draw, texts()))
    facts = {
        "statements": statements,
        "agreements": agreements,
        "supplies": [_supply(draw, local("sp"), refs, ids, machine) for _ in range(draw(size))],
        "deployments": [
            _deployment(draw, local("dp"), refs, ids, last, machine) for _ in range(draw(size))
        ],
        "alignments": [
            _alignment(draw, local("al"), refs, ids, machine) for _ in range(draw(size))
        ],
    }
    known = [f["id"] for records in facts.values() for f in records]
    known += [f"{source_id}/{i}" for i in known[:2]]
    facts["events"] = [
        _event(draw, local("ev"), refs, ids, known, last, machine) for _ in range(draw(size))
    ]
    facts["responses"] = (
        [_response(draw, local("rs"), refs, ids, known, last, machine) for _ in range(draw(size))]
        if known
        else []
    )
    for key, records in facts.items():
        if records or draw(st.booleans()):
            bundle[key] = records
    return bundle


def _link_same_as(draw: Any, all_bundles: list[dict[str, Any]]) -> None:
    """Point some facts at the same kind of fact in an earlier source (never back and
    forth: a same_as cycle is C511)."""
    for key in ("statements", "agreements", "supplies", "deployments", "alignments", "events"):
        earlier: list[str] = []
        for bundle in all_bundles:
            for fact in bundle.get(key, ()):
                if earlier and draw(st.booleans()):
                    fact["same_as"] = draw(st.sampled_from(earlier))
            earlier += [f"{bundle['source']['id']}/{f['id']}" for f in bundle.get(key, ())]


def _judgements(draw: Any, all_bundles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """'unsure' judgements between facts of one kind from two sources: they join nothing,
    so the dataset stays valid, and every judgement field is drawn."""
    out: list[dict[str, Any]] = []
    for key in FACT_KEYS:
        ids = [
            (b["source"]["id"], f"{b['source']['id']}/{f['id']}")
            for b in all_bundles
            for f in b.get(key, ())
        ]
        pairs = [(a, b) for sa, a in ids for sb, b in ids if sa < sb]
        if pairs and draw(st.booleans()):
            left, right = draw(st.sampled_from(pairs))
            judgement: dict[str, Any] = {
                "left": left,
                "right": right,
                "judgement": "unsure",
                "by": draw(texts()),
                "decided_at": draw(st.dates(_DAY0, _DAY1)).isoformat() + "T12:00:00Z",
            }
            _put(judgement, "score", _maybe(draw, st.floats(0, 1, allow_nan=False)))
            _put(judgement, "note", _maybe(draw, texts()))
            out.append(judgement)
    return out


@st.composite
def datasets(
    draw: Any, max_bundles: int = 3, max_facts: int = 3, max_actors: int = 4
) -> dict[str, Any]:
    """A valid dataset: `{"bundles": [...], "actors": [...], "judgements": [...]}`."""
    registry = draw(st.lists(actors(), max_size=max_actors, unique_by=lambda a: a["id"]))
    states = draw(st.lists(st.sampled_from(ISO3), min_size=2, max_size=5, unique=True))
    refs = [a["id"] for a in registry] + states
    source_ids = draw(st.lists(slugs("src"), min_size=1, max_size=max_bundles, unique=True))
    all_bundles = [draw(bundles(sid, refs, max_facts)) for sid in source_ids]
    _link_same_as(draw, all_bundles)
    judged = _judgements(draw, all_bundles)
    return {"bundles": all_bundles, "actors": registry, "judgements": judged}


# --- writing ------------------------------------------------------------------------------


def _dump(value: Any, fmt: str) -> str:
    if fmt == "yaml":
        return dump_yaml(value)
    return json.dumps(value, ensure_ascii=False, indent=None if fmt == "jsonl" else 2) + "\n"


def _source_text(bundle: dict[str, Any]) -> str:
    """Every grounded span of the bundle (evidence, quotes, a provision's wording, a part's
    evidence), so each one occurs in the text."""
    spans = []
    for key in FACT_KEYS:
        for fact in bundle.get(key, ()):
            spans.append(fact.get("evidence"))
            if key == "statements" and fact["mode"] != "paraphrase":
                spans.append(fact.get("text"))
            for part in ("actions", "relations", "provisions"):
                for entry in fact.get(part, ()) if key == "agreements" else ():
                    spans += [entry.get("evidence"), entry.get("wording")]
    return "\n\n".join(s for s in spans if s) + "\n"


def write_dataset(tmp_path: Path, dataset: dict[str, Any], fmt: str = "yaml") -> Path:
    """Write `dataset` under `tmp_path/data` as `fmt` (yaml, json or jsonl); returns the folder."""
    if fmt not in ("yaml", "json", "jsonl"):
        raise ValueError(fmt)
    root = tmp_path / "data"
    for sub in ("actors", "sources", "texts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    ext = "json" if fmt == "jsonl" else fmt
    if fmt == "jsonl":
        lines = "".join(_dump(a, fmt) for a in dataset["actors"])
        if lines:
            (root / "actors" / "registry.jsonl").write_text(lines, encoding="utf-8")
        bundles_text = "".join(_dump(b, fmt) for b in dataset["bundles"])
        (root / "sources" / "bundles.jsonl").write_text(bundles_text, encoding="utf-8")
    else:
        for actor in dataset["actors"]:
            path = root / "actors" / f"{actor['id']}.{ext}"
            path.write_text(_dump(actor, fmt), encoding="utf-8")
        for bundle in dataset["bundles"]:
            path = root / "sources" / f"{bundle['source']['id']}.{ext}"
            path.write_text(_dump(bundle, fmt), encoding="utf-8")
    judged = dataset.get("judgements", [])
    if judged:
        (root / "judgements").mkdir()
    if fmt == "jsonl" and judged:
        lines = "".join(_dump(j, fmt) for j in judged)
        (root / "judgements" / "judgements.jsonl").write_text(lines, encoding="utf-8")
    else:
        for number, judgement in enumerate(judged, start=1):
            path = root / "judgements" / f"j{number}.{ext}"
            path.write_text(_dump(judgement, fmt), encoding="utf-8")
    for bundle in dataset["bundles"]:
        if "text" in bundle["source"]:
            text_path = root / "sources" / bundle["source"]["text"]
            text_path.write_bytes(_source_text(bundle).encode("utf-8"))
    return root
