"""Prometheus metrics for operators: what birdwatch is asked, how fast it answers, what it spends.

Every label has a small, fixed vocabulary (request kinds, outcomes, Slack method names, decision
names): no user, channel or message id ever becomes a label, so the series count stays bounded
whatever traffic arrives. Each runtime owns its registry, so tests and several apps in one
process never share counters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from handlers.deps import EnrichmentDecision

CONTENT_TYPE = CONTENT_TYPE_LATEST
# A "_created" timestamp beside every series doubles the scrape and tells operators nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]

RequestKind = Literal[
    "command", "event", "action", "shortcut", "view", "options", "bird_webhook", "unreadable", "other"
]

# Slack's acknowledgement deadline is 3 s; buckets resolve the fast path and the edge of it.
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_BIRD_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
# Slack method names and error codes are short words ("chat.postMessage", "channel_not_found");
# anything else is folded into "other" so that it cannot grow the series.
_SLACK_WORD = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.]{0,39}$")
_FIRST_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")


class Metrics:
    """The counters, histograms and gauges birdwatch exports at ``/metrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "birdwatch_requests", "Requests answered, by kind and outcome.", ["kind", "outcome"], registry=r
        )
        self.ack_seconds = Histogram(
            "birdwatch_ack_seconds",
            "Time from receiving a request to acknowledging it.",
            ["kind"],
            buckets=_ACK_BUCKETS,
            registry=r,
        )
        self.enrichment_decisions = Counter(
            "birdwatch_enrichment_decisions", "What alert enrichment decided, per alert.", ["decision"], registry=r
        )
        self.bird_requests = Counter(
            "birdwatch_bird_requests", "Requests to Bird's API, by HTTP status or error.", ["status"], registry=r
        )
        self.bird_seconds = Histogram(
            "birdwatch_bird_request_seconds", "Latency of requests to Bird's API.", buckets=_BIRD_BUCKETS, registry=r
        )
        self.slack_calls = Counter(
            "birdwatch_slack_api_calls", "Slack Web API calls, by method and error.", ["method", "error"], registry=r
        )
        self.reply_queue_depth = Gauge(
            "birdwatch_reply_queue_depth", "Replies accepted for posting and not yet posted.", registry=r
        )
        self.replies_abandoned = Counter(
            "birdwatch_replies_abandoned", "Replies given up on, by reason.", ["reason"], registry=r
        )
        self.redis_errors = Counter(
            "birdwatch_redis_errors", "Redis operations that failed, by operation.", ["operation"], registry=r
        )

    # -- recording -------------------------------------------------------------------------------

    def request(self, kind: RequestKind, status: int, seconds: float) -> None:
        self.requests.labels(kind, outcome_of(status)).inc()
        self.ack_seconds.labels(kind).observe(seconds)

    def enrichment(self, decision: EnrichmentDecision) -> None:
        self.enrichment_decisions.labels(decision).inc()

    def bird_request(self, status: int | str, seconds: float) -> None:
        label = str(status) if isinstance(status, int) else _word(status, "error")
        self.bird_requests.labels(label).inc()
        self.bird_seconds.observe(seconds)

    def slack_call(self, method: str, error: str) -> None:
        self.slack_calls.labels(_word(method, "other"), _word(error, "other")).inc()

    def reply_abandoned(self, reason: str) -> None:
        """``reason`` as the reply queue words it ("queue full", "channel_not_found; gave up after 4
        attempts"): its first word is the label."""
        first = _FIRST_WORD.match(reason)
        self.replies_abandoned.labels(first.group() if first else "other").inc()

    def redis_error(self, operation: str) -> None:
        self.redis_errors.labels(_word(operation, "other")).inc()

    def track_queue_depth(self, depth: Callable[[], float]) -> None:
        """Read the reply queue's depth at each scrape, so it is never stale."""
        self.reply_queue_depth.set_function(depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def outcome_of(status: int) -> str:
    if status in (401, 403):
        return "rejected"
    if status == 503:
        return "unavailable"
    if status >= 500:
        return "error"
    if status >= 400:
        return "bad_request"
    return "ok"


def request_kind(body: Mapping[str, Any]) -> RequestKind:
    """A Slack request's kind, from a fixed list (never the command or action name itself)."""
    if body.get("command"):
        return "command"
    if isinstance(body.get("event"), Mapping) or body.get("type") == "event_callback":
        return "event"
    kind = body.get("type")
    if kind == "block_actions" or kind == "interactive_message":
        return "action"
    if kind in ("shortcut", "message_action"):
        return "shortcut"
    if kind in ("view_submission", "view_closed"):
        return "view"
    if kind in ("block_suggestion", "dialog_suggestion"):
        return "options"
    return "other"


def _word(text: str, fallback: str) -> str:
    return text if _SLACK_WORD.match(text) else fallback


class MeteredWebClient(AsyncWebClient):
    """Slack's Web API client, counting every call by method and outcome (``ok``, Slack's error
    code, ``ratelimited`` for HTTP 429, or ``connection`` when Slack could not be reached)."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        outcome = "connection"
        try:
            response = await super().api_call(api_method, **kwargs)
            outcome = "ok"
            return response
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            outcome = "ratelimited" if status == 429 else str(exc.response.get("error") or "unknown")
            raise
        finally:
            self.metrics.slack_call(api_method, outcome)
