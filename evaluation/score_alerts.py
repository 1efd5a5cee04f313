"""Score alert enrichment on the labelled set: ``.venv/bin/python -m evaluation.score_alerts``.

Every case goes through the same decision the alert listener makes (``hits_to_explain``: resolved
notifications are skipped, then the scanner's unasked rule for the case's channel), and its hits are
compared with its label. Prints false replies per 1,000 messages that are not about Bird (any hit in
one is a reply that should not have been posted), the share of Bird alerts explained exactly as
labelled (every expected hit, nothing else), each miss, and for comparison the false replies the rules
of an explicit query (``/failure``, the shortcut) would make on the same messages. The held-out set
(``alerts_holdout.jsonl``) is scored the same way and reported on its own.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from catalog.loader import Catalog, default_catalog
from catalog.scanner import scan
from handlers.alert_events import hits_to_explain
from handlers.alert_text import alert_text, is_integration_post

HERE = Path(__file__).parent
CASE_FILES = (HERE / "alerts_non_bird.jsonl", HERE / "alerts_bird.jsonl")
# Written apart from the rules, without reading them, so its first figures measure rather than confirm.
HOLDOUT_FILE = HERE / "alerts_holdout.jsonl"


@dataclass(frozen=True)
class Outcome:
    case: dict[str, Any]
    found: list[str]

    @property
    def expected(self) -> list[str]:
        return list(self.case["expected"])

    @property
    def right(self) -> bool:
        return sorted(self.found) == sorted(self.expected)

    def describe(self) -> str:
        missing = sorted(set(self.expected) - set(self.found))
        extra = sorted(set(self.found) - set(self.expected))
        text = " ".join(alert_text(self.case["event"]).split())[:140]
        return f"{self.case['id']} ({self.case['rule']}): missing {missing or '-'}, unexpected {extra or '-'} | {text}"


@dataclass(frozen=True)
class Score:
    non_bird: list[Outcome]
    bird: list[Outcome]

    @property
    def false_replies(self) -> list[Outcome]:
        return [outcome for outcome in self.non_bird if outcome.found]

    @property
    def false_replies_per_1000(self) -> float:
        return 1000 * len(self.false_replies) / max(len(self.non_bird), 1)

    @property
    def bird_misses(self) -> list[Outcome]:
        return [outcome for outcome in self.bird if not outcome.right]

    @property
    def bird_explained_share(self) -> float:
        return (len(self.bird) - len(self.bird_misses)) / max(len(self.bird), 1)


def load_cases(paths: Iterable[Path] = CASE_FILES) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for path in paths:
        cases += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return cases


def found_in(catalog: Catalog, case: dict[str, Any]) -> list[str]:
    """The keys birdwatch would explain for this case's message, in its channel."""
    event = case["event"]
    text = alert_text(event)
    hits = hits_to_explain(
        partial(scan, catalog),
        event,
        text,
        from_integration=is_integration_post(event),
        only_bird_alerts=case["rule"] == "bird_channel",
    )
    return [hit.key for hit in hits]


def found_when_asked(catalog: Catalog, case: dict[str, Any]) -> list[str]:
    """The keys the rules of a person's explicit query find: the baseline the unasked rules improve on."""
    event = case["event"]
    return [hit.key for hit in scan(catalog, alert_text(event), from_integration=is_integration_post(event))]


def score(cases: list[dict[str, Any]], catalog: Catalog | None = None) -> Score:
    catalog = catalog or default_catalog()
    outcomes = [Outcome(case, found_in(catalog, case)) for case in cases]
    return _split(outcomes)


def _split(outcomes: list[Outcome]) -> Score:
    return Score(
        non_bird=[o for o in outcomes if o.case["kind"] == "non_bird"],
        bird=[o for o in outcomes if o.case["kind"] == "bird"],
    )


def timed_outcomes(catalog: Catalog, cases: list[dict[str, Any]]) -> tuple[list[Outcome], list[float]]:
    """Outcomes and, per case, the milliseconds of the listener's decision (flatten, classify, scan)."""
    outcomes, timings = [], []
    for case in cases:
        started = time.perf_counter()
        found = found_in(catalog, case)
        timings.append((time.perf_counter() - started) * 1000)
        outcomes.append(Outcome(case, found))
    return outcomes, timings


def main() -> None:
    catalog = default_catalog()
    found_in(catalog, load_cases()[0])  # compile the scanner's patterns before timing
    print("labelled set:")
    report(catalog, load_cases())
    print("\nheld-out set:")
    report(catalog, load_cases([HOLDOUT_FILE]))


def report(catalog: Catalog, cases: list[dict[str, Any]]) -> None:
    outcomes, timings = timed_outcomes(catalog, cases)
    result = _split(outcomes)
    print(f"non-Bird messages: {len(result.non_bird)}; Bird alerts: {len(result.bird)}")
    print(
        f"false replies: {len(result.false_replies)} of {len(result.non_bird)} non-Bird messages"
        f" = {result.false_replies_per_1000:.1f} per 1,000 (goal 0)"
    )
    explained = len(result.bird) - len(result.bird_misses)
    print(
        f"Bird alerts explained as labelled: {explained} of {len(result.bird)}"
        f" = {100 * result.bird_explained_share:.1f}% (goal at least 99%)"
    )
    ordered = sorted(timings)
    print(
        f"decision time per message: median {statistics.median(ordered):.3f} ms,"
        f" p99 {ordered[round(0.99 * (len(ordered) - 1))]:.3f} ms over {len(ordered)} messages"
    )
    baseline = sum(1 for outcome in result.non_bird if found_when_asked(catalog, outcome.case))
    print(
        f"for comparison, read with the rules of an explicit query: {baseline} false replies"
        f" = {1000 * baseline / max(len(result.non_bird), 1):.1f} per 1,000"
    )
    for outcome in result.false_replies:
        print("  false reply:", outcome.describe())
    for outcome in result.bird_misses:
        print("  miss:", outcome.describe())


if __name__ == "__main__":
    main()
