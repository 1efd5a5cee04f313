"""The labelled alert set and the held-out set: every case as labelled, and the goals they measure.

A case that regresses fails on its own (its id names it); the goal tests fail when the whole set
drifts: any false reply in a message that is not about Bird, or fewer than 99% of Bird alerts
explained as labelled.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from catalog.ids import canonical_uuid
from catalog.loader import default_catalog
from evaluation import alerts_build
from evaluation.score_alerts import HOLDOUT_FILE, found_in, load_cases, score

CATALOG = default_catalog()
CASES = load_cases()
HOLDOUT = load_cases([HOLDOUT_FILE])


@pytest.mark.parametrize("case", CASES + HOLDOUT, ids=[case["id"] for case in CASES + HOLDOUT])
def test_case_is_explained_as_labelled(case: dict[str, Any]) -> None:
    assert sorted(found_in(CATALOG, case)) == sorted(case["expected"])


def test_the_held_out_set_meets_the_goals_and_stays_apart_from_the_labelled_set() -> None:
    result = score(HOLDOUT, CATALOG)
    assert [outcome.case["id"] for outcome in result.false_replies] == []
    assert result.bird_explained_share >= 0.99
    assert len(result.non_bird) >= 200
    assert len(result.bird) >= 60
    assert len({case["id"] for case in HOLDOUT}) == len(HOLDOUT)
    assert not {case["id"] for case in HOLDOUT} & {case["id"] for case in CASES}
    assert all(case["expected"] for case in HOLDOUT if case["kind"] == "bird")
    assert all(not case["expected"] for case in HOLDOUT if case["kind"] == "non_bird")


def test_no_false_replies_and_at_least_99_percent_of_bird_alerts_explained() -> None:
    result = score(CASES, CATALOG)
    assert [outcome.case["id"] for outcome in result.false_replies] == []
    assert result.false_replies_per_1000 == 0
    assert result.bird_explained_share >= 0.99


def test_the_set_is_as_large_and_varied_as_promised() -> None:
    non_bird = [case for case in CASES if case["kind"] == "non_bird"]
    bird = [case for case in CASES if case["kind"] == "bird"]
    assert len(non_bird) >= 300
    assert len(bird) >= 100
    assert len({case["shape"] for case in non_bird}) >= 20
    assert len({case["shape"] for case in bird}) >= 12
    assert len({case["id"] for case in CASES}) == len(CASES)
    assert all(case["expected"] for case in bird)
    assert all(not case["expected"] for case in non_bird)


def test_non_bird_messages_carry_real_bird_codes_on_purpose() -> None:
    codes = {str(code) for code in CATALOG.codes}
    carrying = [
        case
        for case in CASES
        if case["kind"] == "non_bird" and codes & set(re.findall(r"(?<![0-9])[0-9]{5}(?![0-9])", json.dumps(case)))
    ]
    assert len(carrying) >= 200


def test_the_files_are_what_the_builder_writes() -> None:
    non_bird, bird = alerts_build.build()
    assert load_cases([alerts_build.NON_BIRD_FILE]) == non_bird
    assert load_cases([alerts_build.BIRD_FILE]) == bird


def test_every_label_names_something_the_catalog_knows() -> None:
    for case in CASES + HOLDOUT:
        for key in case["expected"]:
            source, _, platform = key.partition(":")
            if key.isdigit():
                assert int(key) in CATALOG.codes, case["id"]
            elif platform:
                known = CATALOG.sources[source]
                assert CATALOG.platform_code_for(known, platform) is not None, case["id"]
            else:
                assert canonical_uuid(key) == key, case["id"]
