"""The metrics vocabulary: fixed kinds and outcomes, and labels that cannot grow with traffic."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics, outcome_of, request_kind

LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.]{0,39}$")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "ok"),
        (204, "ok"),
        (400, "bad_request"),
        (413, "bad_request"),
        (401, "rejected"),
        (403, "rejected"),
        (500, "error"),
        (503, "unavailable"),
    ],
)
def test_outcomes(status: int, outcome: str) -> None:
    assert outcome_of(status) == outcome


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"command": "/failure"}, "command"),
        ({"type": "event_callback", "event": {"type": "message"}}, "event"),
        ({"type": "block_actions", "actions": [{"action_id": "share"}]}, "action"),
        ({"type": "message_action"}, "shortcut"),
        ({"type": "shortcut"}, "shortcut"),
        ({"type": "view_submission"}, "view"),
        ({"type": "block_suggestion"}, "options"),
        ({"type": "url_verification"}, "other"),
        ({"type": "app_rate_limited"}, "other"),
        ({}, "other"),
    ],
)
def test_request_kinds_come_from_a_fixed_list(body: dict[str, object], kind: str) -> None:
    assert request_kind(body) == kind


def label_values(metrics: Metrics) -> set[str]:
    return {
        value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        for name, value in sample.labels.items()
        if name != "le"
    }


@given(method=st.text(max_size=80), error=st.text(max_size=80), reason=st.text(max_size=80))
def test_any_slack_method_error_or_reason_becomes_a_short_word_or_other(method: str, error: str, reason: str) -> None:
    metrics = Metrics()
    metrics.slack_call(method, error)
    metrics.reply_abandoned(reason)
    metrics.bird_request(error, 0.1)
    metrics.redis_error(method)
    assert all(LABEL.match(value) for value in label_values(metrics))


def test_abandon_reasons_keep_their_first_word() -> None:
    metrics = Metrics()
    metrics.reply_abandoned("queue full")
    metrics.reply_abandoned("channel_not_found; gave up after 4 attempts")
    metrics.reply_abandoned("ratelimited; gave up after 4 attempts")
    assert label_values(metrics) == {"queue", "channel_not_found", "ratelimited"}


def test_queue_depth_is_read_at_scrape_time() -> None:
    metrics = Metrics()
    depth = [3]
    metrics.track_queue_depth(lambda: depth[0])
    assert "birdwatch_reply_queue_depth 3.0" in metrics.render().decode()
    depth[0] = 0
    assert "birdwatch_reply_queue_depth 0.0" in metrics.render().decode()


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.enrichment("explained")
    assert 'birdwatch_enrichment_decisions_total{decision="explained"} 1.0' in first.render().decode()
    assert "birdwatch_enrichment_decisions_total{" not in second.render().decode()
