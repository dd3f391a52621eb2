"""Every check is registered with the codes it emits, and every failure frame it returns
fits its code's message template: a missing parameter fails here, not in a user's run.

Each check runs over every fixture (valid and invalid), the seed dataset and a small
synthetic set with injected breaks, through the checker itself (so with the contexts a
real run builds); each frame it returns is held to the catalogue.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from functools import wraps
from pathlib import Path

import pytest

from toolkit import checker
from toolkit.checks import registry
from toolkit.checks.base import CheckContext, Failures
from toolkit.codes import CODES
from toolkit.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
# Columns of a failure frame that locate or annotate a problem rather than fill its message.
RESERVED = {"_doc", "pointer", "hint", "key"}


def _datasets() -> list[Path]:
    cases = [
        p / "data" for kind in ("valid", "invalid") for p in sorted((FIXTURES / kind).iterdir())
    ]
    return [p for p in cases if p.is_dir()] + [ROOT / "data"]


def _fields(template: str) -> set[str]:
    """The parameter names a message template formats."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name
    }


def test_every_check_is_registered_once_with_catalogued_codes() -> None:
    run = registry.checks()
    assert len(set(run)) == len(run), "a check runs twice"
    assert set(run) == set(registry.EMITS), "EMITS and the checks that run differ"
    for check, codes in registry.EMITS.items():
        assert codes, f"{check.__qualname__} emits no code"
        unknown = [code for code in codes if code not in CODES]
        assert not unknown, f"{check.__qualname__} registers codes not in codes.py: {unknown}"


def test_the_checker_runs_the_registered_checks() -> None:
    assert checker.FAMILIES is registry.FAMILIES


def _assert_fits(check: registry.Check, fails: Failures) -> None:
    """`fails` carries a code `check` is registered with, and every row renders."""
    name = check.__qualname__
    assert fails.code in registry.codes_of(check), f"{name} emitted unregistered {fails.code}"
    columns = set(fails.frame.columns)
    assert {"_doc", "pointer"} <= columns, f"{name}/{fails.code}: no _doc or pointer column"
    needed = _fields(CODES[fails.code].template)
    missing = needed - (columns - RESERVED)
    assert not missing, f"{name}/{fails.code}: frame lacks {sorted(missing)}"
    for row in fails.frame.iter_rows(named=True):
        params = {k: v for k, v in row.items() if k not in RESERVED}
        assert CODES[fails.code].render(**params)


Returned = list[tuple[registry.Check, Failures]]


@pytest.fixture(scope="module")
def returned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Returned]:
    """Every (check, failure frame) the checks return over all the datasets."""
    seen: Returned = []

    def recording(check: registry.Check) -> registry.Check:
        @wraps(check)
        def run(ctx: CheckContext) -> list[Failures]:
            out = check(ctx)
            for fails in out:  # before the checker renders them, which would fail less clearly
                _assert_fits(check, fails)
                seen.append((check, fails))
            return out

        return run

    synthetic = tmp_path_factory.mktemp("synthetic") / "bundles.jsonl"
    synthesize(synthetic, 2000, seed=3, invalid_rate=0.5)
    wrapped = tuple(recording(check) for check in registry.checks())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "checks", lambda: wrapped)
        for data in [*_datasets(), synthetic.parent]:
            checker.run([str(data)])
    yield seen


def test_failure_frames_fit_their_templates(returned: Returned) -> None:
    assert returned, "no check returned a failure over the invalid fixtures"
    for check, fails in returned:
        _assert_fits(check, fails)


def test_the_datasets_exercise_most_registered_codes(returned: Returned) -> None:
    """A code no dataset provokes is checked only by its registration; keep those few."""
    registered = {code for codes in registry.EMITS.values() for code in codes}
    provoked = {fails.code for _, fails in returned}
    unprovoked = registered - provoked
    assert len(unprovoked) <= len(registered) // 4, sorted(unprovoked)


def test_every_check_has_a_name_of_its_own_in_profiles() -> None:
    """Profiles and timings key each check by `registry.name_of`: two checks under one name
    would add up as one stage (two families have a `check_same_as`)."""
    names = [registry.name_of(check) for check in registry.checks()]
    assert len(set(names)) == len(names)
    assert "links.check_same_as" in names and "references.check_same_as" in names
