"""Which cross-record checks run, in which order, and the problem codes each may emit.

One place registers every check with its codes, so a test can hold each failure frame
a check returns to its code's message template (tests/test_check_registry.py): a frame
that lacks a template's parameter fails that test instead of a user's run. A family
module lists its checks in `CHECKS`; a check missing from `EMITS` fails the test too.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from toolkit.checks import (
    consistency,
    duplicates,
    grounding,
    identity,
    lifecycle,
    limits,
    links,
    references,
    safety,
    schema,
    texts,
    vocabularies,
)
from toolkit.checks.base import CheckContext, Failures
from toolkit.resolve import checks as resolution

Check = Callable[[CheckContext], list[Failures]]

# The cross-record families, in report order. Each module lists its checks in CHECKS.
FAMILIES: tuple[ModuleType, ...] = (
    identity,
    references,
    vocabularies,
    consistency,
    lifecycle,
    links,
    texts,
    grounding,
    resolution,
    safety,
    limits,
)

# check → the codes its failure frames may carry (codes.py has each code's template).
EMITS: dict[Check, tuple[str, ...]] = {
    schema.check_dates: ("S108",),
    identity.check_fact_ids: ("I201",),
    identity.check_source_ids: ("I202",),
    identity.check_actor_ids: ("I203", "I204"),
    identity.check_lookalikes: ("I205",),
    identity.check_fact_lookalikes: ("I205",),
    references.check_actors: ("R301",),
    references.check_countries: ("R306",),
    references.check_statements: ("R302",),
    references.check_same_as: ("R303", "R304"),
    references.check_agreements: ("R307",),
    references.check_facts: ("R308",),
    vocabularies.check_codes: ("V401",),
    vocabularies.check_languages: ("V402",),
    consistency.check_supplier_recipient: ("C501",),
    consistency.check_quotes: ("C502", "C507"),
    consistency.check_dates_before_publication: ("C503",),
    consistency.check_signatories: ("C504",),
    consistency.check_listed_twice: ("C505",),
    consistency.check_sizes: ("C506",),
    lifecycle.check_step_order: ("C508", "C509"),
    lifecycle.check_supersedes: ("C510",),
    lifecycle.check_status: ("C513",),
    links.check_same_as: ("C511", "C512"),
    links.check_weekdays: ("C514",),
    texts.check_text_paths: ("R305", "X701", "X702", "X703", "X705", "L006"),
    grounding.check_grounding: ("G601", "G602", "G609"),
    grounding.check_machine_facts: ("G603", "G604", "G607"),
    grounding.check_attribution: ("G605", "G608"),
    duplicates.check_duplicates: ("G606",),
    resolution.check_judged_records: ("I206", "R311", "R312"),
    resolution.check_judgement_conflicts: ("I207", "C530"),
    resolution.check_different_in_cluster: ("C531",),
    resolution.check_disagreements: ("C532",),
    safety.check_invisible: ("X704",),
    limits.check_facts_per_bundle: ("L004",),
}


def checks() -> tuple[Check, ...]:
    """Every cross-record check in run (and report) order: dates, then each family's."""
    return (schema.check_dates, *(c for family in FAMILIES for c in family.CHECKS))


def name_of(check: Check) -> str:
    """A check's name in profiles and timings: its family module and function (two
    families have a `check_same_as`)."""
    return f"{check.__module__.rpartition('.')[2]}.{check.__name__}"


def codes_of(check: Check) -> tuple[str, ...]:
    """The codes `check` is registered with; KeyError names an unregistered check."""
    try:
        return EMITS[check]
    except KeyError:
        raise KeyError(f"check {check.__module__}.{check.__qualname__} is not in EMITS") from None
