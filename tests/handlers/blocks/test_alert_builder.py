"""Alerts, thread notes and digests: within Slack's limits and free of foreign markup, whatever Bird sent."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import default_catalog
from catalog.failure_groups import AlertRef, DigestState, FailureFact, GroupState, digest_for
from handlers.blocks.alert_builder import (
    AlertView,
    alert_message,
    digest_message,
    explain_query,
    milestone_message,
    resolved_note,
)

from .limits import assert_no_foreign_markup, assert_within_slack_limits

CATALOG = default_catalog()
T0 = 1_772_445_600.0
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
OUTSIDE = st.text(max_size=400) | st.sampled_from(["<!channel>", "<!here>", "<@U1>", "<https://evil|x>", "&", "```"])
FACT = FailureFact("ws", "ch", "sms", "delivery_failed", "m", 15005, "sms-messagebird", "1", None, T0)


def group_with(reasons: list[str], codes: list[str], samples: list[str], text: str) -> GroupState:
    state = GroupState.for_fact(replace(FACT, bird_channel=text[:100] or "ch", source=text[:60] or None), "C1")
    for n, reason in enumerate(reasons or [""]):
        code = codes[n % len(codes)] if codes else None
        sample = samples[n % len(samples)] if samples else str(n)
        state.add(replace(FACT, reason=reason[:150] or None, platform_code=code, message_id=sample, at=T0 + n))
    state.alert = AlertRef("C1", "1.0", T0)
    return state


@PROPERTY
@given(
    reasons=st.lists(OUTSIDE, max_size=25),
    codes=st.lists(st.text(min_size=1, max_size=60), max_size=35),
    samples=st.lists(OUTSIDE.map(lambda s: s[:100]), max_size=8),
    text=OUTSIDE,
    code=st.sampled_from([15005, 15011, 99999, None]),
    resolved=st.booleans(),
)
def test_any_alert_fits_slack_and_relays_no_markup(
    reasons: list[str], codes: list[str], samples: list[str], text: str, code: int | None, resolved: bool
) -> None:
    group = group_with(reasons, codes, samples, text)
    group.code = code
    view = AlertView(
        group=group,
        now=T0 + 60,
        workspace=text[:80],
        threshold=5,
        window_minutes=5,
        quiet_minutes=30,
        code=CATALOG.codes.get(code) if code else None,
        bird_url="https://app.bird.com/x",
        resolved=resolved,
    )
    payload = alert_message(view)
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
    for note in (
        milestone_message(group, threshold=5, factor=10, platform_code=None),
        milestone_message(group, threshold=5, factor=None, platform_code=text),
        resolved_note(group, quiet_minutes=30),
    ):
        assert_within_slack_limits(note)
        assert_no_foreign_markup(note)


def test_the_alert_names_the_problem_and_offers_its_controls() -> None:
    group = group_with(["unknown subscriber"] * 7, ["1"], [], "")
    view = AlertView(group, T0 + 60, "prod", 5, 5, 30, code=CATALOG.codes[15005])
    payload = alert_message(view)
    header = payload["blocks"][0]["text"]["text"]
    assert "15005" in header
    assert CATALOG.codes[15005].name in header
    assert "7 failures" in payload["text"]
    controls = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [c["action_id"] for c in controls] == ["explain_more", "alert_snooze", "alert_resolve"]
    assert controls[0]["value"] == "15005"
    assert [o["text"]["text"] for o in controls[1]["options"]] == ["for 1 h", "for 4 h", "for 24 h", "for 1 week"]
    assert controls[2]["value"] == group.id
    resolved = alert_message(replace(view, resolved=True))
    assert "Resolved" in resolved["text"]
    assert [e["action_id"] for b in resolved["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "explain_more"
    ]


def test_explain_falls_back_to_the_source_and_platform_code() -> None:
    group = group_with(["x"], ["131026"], [], "")
    group.code, group.source = None, "whatsapp"
    assert explain_query(group) == "whatsapp 131026"


@PROPERTY
@given(codes=st.lists(st.tuples(OUTSIDE, st.integers(1, 10**6)), max_size=40), channels=st.lists(OUTSIDE, max_size=10))
def test_any_digest_fits_slack(codes: list[tuple[str, int]], channels: list[str]) -> None:
    state = DigestState()
    for n, (code, count) in enumerate(codes):
        state.add("2026-03-08", code[:20] or "x", channels[n % len(channels)][:100] if channels else "ch", count)
    payload = digest_message(digest_for(state, "2026-03-08", []), {"15005": "UNKNOWN_SUBSCRIBER"})
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
