"""Grouping failures into problems: windows, episodes, milestones, resolution, the digest."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.failure_groups import (
    MAX_REASONS,
    MAX_SAMPLES,
    AlertRef,
    DigestState,
    FailureFact,
    GroupState,
    Milestone,
    Open,
    Policy,
    Refresh,
    Resolved,
    alert_posted,
    digest_for,
    expired,
    record,
    review,
)

T0 = 1_772_445_600.0  # a whole minute
FACT = FailureFact(
    workspace_id="ws",
    bird_channel="ch",
    platform="sms",
    status="delivery_failed",
    message_id="m",
    code=15005,
    source="sms-messagebird",
    platform_code="1",
    reason="unknown subscriber",
    at=T0,
)
POLICY = Policy(threshold=5, window_minutes=5, quiet_minutes=30)


def facts(count: int, at: float = T0, **changes: object) -> list[FailureFact]:
    return [replace(FACT, message_id=f"m{at}-{i}", at=at, **changes) for i in range(count)]  # type: ignore[arg-type]


def opened(count: int = 5) -> GroupState:
    state, intents = record(None, facts(count), POLICY, "C1", T0, muted=False)
    assert any(isinstance(i, Open) for i in intents)
    alert_posted(state, AlertRef("C1", "1.0", T0), state.total, POLICY)
    return state


def test_the_group_id_ignores_the_platform_code_and_message() -> None:
    assert FACT.group_id == replace(FACT, platform_code="34", message_id="x").group_id
    assert FACT.group_id != replace(FACT, code=15011).group_id
    assert FACT.group_id != replace(FACT, bird_channel="other").group_id
    assert FACT.group_id != replace(FACT, source="whatsapp").group_id
    assert len(FACT.group_id) == 20


def test_threshold_counts_whole_minutes_inside_the_window() -> None:
    state, intents = record(None, facts(4), POLICY, "C1", T0, muted=False)
    assert intents == []
    _, intents = record(state, facts(1, T0 + 299), POLICY, "C1", T0 + 299, muted=False)
    assert [type(i) for i in intents] == [Open]
    late, _ = record(None, facts(4), POLICY, "C1", T0, muted=False)
    _, intents = record(late, facts(1, T0 + 300), POLICY, "C1", T0 + 300, muted=False)
    assert intents == []  # the first four are in minute 0, outside the window ending in minute 5


def test_the_opening_is_leased_so_only_one_caller_posts() -> None:
    state, first = record(None, facts(5), POLICY, "C1", T0, muted=False)
    _, second = record(state, facts(1), POLICY, "C1", T0 + 1, muted=False)
    assert [type(i) for i in first] == [Open]
    assert second == []
    assert [type(i) for i in review(state, POLICY, T0 + 61, muted=False)] == [Open]  # lease expired


def test_refreshes_are_at_least_30_seconds_apart_and_only_when_counts_moved() -> None:
    state = opened()
    assert review(state, POLICY, T0 + 40, muted=False) == []
    _, intents = record(state, facts(1, T0 + 10), POLICY, "C1", T0 + 10, muted=False)
    assert intents == []
    assert [type(i) for i in review(state, POLICY, T0 + 30, muted=False)] == [Refresh]
    assert review(state, POLICY, T0 + 59, muted=False) == []


def test_milestones_once_each_and_new_platform_codes() -> None:
    state = opened()
    _, intents = record(state, facts(45, T0 + 1), POLICY, "C1", T0 + 1, muted=False)
    assert [i.factor for i in intents if isinstance(i, Milestone)] == [10]
    _, intents = record(state, facts(1, T0 + 2, platform_code="34"), POLICY, "C1", T0 + 2, muted=False)
    assert [i.platform_code for i in intents if isinstance(i, Milestone)] == ["34"]
    _, intents = record(state, facts(3, T0 + 3, platform_code="34"), POLICY, "C1", T0 + 3, muted=False)
    assert not [i for i in intents if isinstance(i, Milestone)]


def test_a_muted_group_keeps_counting_and_says_nothing() -> None:
    state, intents = record(None, facts(50), POLICY, "C1", T0, muted=True)
    assert intents == []
    assert state.total == 50
    assert [type(i) for i in review(state, POLICY, T0 + 1, muted=False)] == [Open]


def test_quiet_resolves_and_the_next_burst_is_a_new_episode() -> None:
    state = opened()
    assert review(state, POLICY, T0 + 30 * 60 - 1, muted=False) == []
    [resolved] = review(state, POLICY, T0 + 30 * 60, muted=False)
    assert isinstance(resolved, Resolved)
    assert resolved.view.total == 5
    assert state.total == 0
    assert state.previous_alert == AlertRef("C1", "1.0", T0)
    assert not expired(state, T0 + 3600)
    assert expired(state, T0 + 30 * 60 + 24 * 3600)
    _, intents = record(state, facts(5, T0 + 7200), POLICY, "C1", T0 + 7200, muted=False)
    [open_again] = intents
    assert isinstance(open_again, Open)
    assert open_again.view.previous_alert is not None


def test_a_burst_after_a_silence_resolves_the_old_alert_first() -> None:
    state = opened()
    _, intents = record(state, facts(5, T0 + 3600), POLICY, "C1", T0 + 3600, muted=False)
    assert [type(i) for i in intents] == [Resolved, Open]


@settings(max_examples=100, deadline=None)
@given(reasons=st.lists(st.text(max_size=300), max_size=60), codes=st.lists(st.text(min_size=1, max_size=8)))
def test_state_stays_bounded_and_survives_json(reasons: list[str], codes: list[str]) -> None:
    state, _ = record(None, facts(1), POLICY, "C1", T0, muted=False)
    for n, reason in enumerate(reasons):
        code = codes[n % len(codes)] if codes else None
        record(
            state, [replace(FACT, reason=reason, platform_code=code, message_id=str(n))], POLICY, "C1", T0, muted=False
        )
    assert len(state.reasons) <= MAX_REASONS
    assert len(state.samples) <= MAX_SAMPLES
    assert all(len(r) <= 150 for r in state.reasons)
    assert GroupState.from_json(state.to_json()) == state


def test_digest_compares_a_day_with_the_seven_before() -> None:
    state = DigestState()
    for day in range(1, 8):
        state.add(f"2026-03-0{day}", "15005", "ch1", 10)
    state.add("2026-03-08", "15005", "ch1", 30)
    state.add("2026-03-08", "15011", "ch2", 2)
    digest = digest_for(state, "2026-03-08", [f"2026-03-0{d}" for d in range(1, 8)])
    assert digest.total == 32
    assert [(c.code, c.count, c.average) for c in digest.codes] == [("15005", 30, 10.0), ("15011", 2, 0.0)]
    assert digest.codes[0].change == 2.0
    assert digest.new_codes == ["15011"]
    assert digest.top_channels == [("ch1", 30), ("ch2", 2)]
    assert len(state.days) <= DigestState.KEEP_DAYS
    assert DigestState.from_json(state.to_json()) == state
