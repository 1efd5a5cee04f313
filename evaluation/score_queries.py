"""How many labelled ``/failure`` queries come out right first.

Run: .venv/bin/python -m evaluation.score_queries

``queries.jsonl`` holds queries as on-call engineers type or paste them, each labelled with the entry
the answer should lead with. An answer leads with: its own entry (a code, platform code, source,
status, family or a Bird message id); for a ranked list, the first entry (a list of one counts as a miss:
a single match must be answered as that entry); for "not found", the
suggested entry ("did you mean"), or ``none`` when it suggests nothing. The neighbours listed for an
unknown code are not an answer, so they count as ``none``.

Free words are labelled with the entry whose meaning matches: a platform's own entry where its name
says what the words say ("number not in service" is the SMS table's code 1), the Bird code where the
words describe what any platform can report ("opted out" is 15016).

The timing line is the best of three runs of each query, so that other processes on a busy machine
do not decide the figure.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from catalog import Explainer, default_catalog
from catalog.answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    FamilyAnswer,
    MatchesAnswer,
    MessageIdAnswer,
    NotFoundAnswer,
    PlatformCodeAnswer,
    SourceAnswer,
    StatusAnswer,
)

QUERIES = Path(__file__).with_name("queries.jsonl")
GOAL = 0.97


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    expected: str  # "code:15005", "platform:whatsapp-cloud:131047", "status:delivery_failed", ...
    form: str  # what kind of input it is: "code", "typo", "words", "json", ...


@dataclass(frozen=True)
class Result:
    labelled: LabelledQuery
    got: str

    @property
    def right(self) -> bool:
        return self.got == self.labelled.expected


def load_queries(path: Path = QUERIES) -> list[LabelledQuery]:
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        if set(item) != {"query", "expected", "form"}:
            raise ValueError(f"{path.name}:{number}: expected the keys query, expected and form")
        queries.append(LabelledQuery(item["query"], item["expected"], item["form"]))
    return queries


def first_key(answer: Answer, explainer: Explainer) -> str:
    """The entry an answer leads with, as a label in ``queries.jsonl``."""
    if isinstance(answer, CodeAnswer):
        return f"code:{answer.code.code}"
    if isinstance(answer, PlatformCodeAnswer):
        return f"platform:{answer.entry.table}:{answer.entry.code}"
    if isinstance(answer, SourceAnswer):
        return f"source:{answer.source.name}"
    if isinstance(answer, StatusAnswer):
        return f"status:{answer.status.name}"
    if isinstance(answer, FamilyAnswer):
        return f"family:{answer.family.prefix}"
    if isinstance(answer, MessageIdAnswer):
        return "message_id"
    if isinstance(answer, DiagnosisAnswer):
        d = answer.diagnosis
        if d.code is not None:
            return f"code:{d.code.code}"
        if d.platform_code is not None:
            return f"platform:{d.platform_code.table}:{d.platform_code.code}"
        return f"status:{d.status.name}" if d.status is not None else "none"
    # A listed or suggested entry is labelled by what its button opens. A list of one is a miss: a
    # single match is the answer itself, shown as that entry.
    if isinstance(answer, MatchesAnswer):
        return first_key(explainer.explain(answer.matches[0].query), explainer) if len(answer.matches) > 1 else "none"
    if isinstance(answer, NotFoundAnswer) and answer.did_you_mean is not None:
        return first_key(explainer.explain(answer.did_you_mean.query), explainer)
    return "none"


def score(explainer: Explainer, queries: list[LabelledQuery]) -> list[Result]:
    return [Result(q, first_key(explainer.explain(q.query), explainer)) for q in queries]


def main() -> int:
    queries = load_queries()
    explainer = Explainer(default_catalog())
    results = score(explainer, queries)
    timings = []
    for q in queries:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            explainer.explain(q.query)
            runs.append((time.perf_counter() - started) * 1000)
        timings.append(min(runs))
    right = sum(r.right for r in results)
    share = right / len(results)
    print(f"{right} of {len(results)} queries right first: {share:.1%} (goal {GOAL:.0%})")
    totals = Counter(r.labelled.form for r in results)
    wrong = Counter(r.labelled.form for r in results if not r.right)
    print("by form: " + ", ".join(f"{form} {totals[form] - wrong[form]}/{totals[form]}" for form in sorted(totals)))
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(f"explain(): p50 {statistics.median(timings):.3f} ms, p99 {p99:.3f} ms, max {timings[-1]:.3f} ms")
    for r in results:
        if not r.right:
            print(f"MISS [{r.labelled.form}] {r.labelled.query!r}: expected {r.labelled.expected}, got {r.got}")
    return 0 if share >= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
