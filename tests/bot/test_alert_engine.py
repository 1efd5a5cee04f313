"""The alert engine's own limits, with a recording stand-in for Slack's client."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.alerting.engine import AlertEngine
from bot.alerting.store import MemoryAlertStore, MemoryFailureQueue
from bot.state import MemoryStateStore
from bot.workspaces import AlertRoute, AlertsConfig, BirdwatchConfig
from catalog import default_catalog
from catalog.failure_groups import FailureFact, GroupState, Policy, Refresh

T0 = 1_772_445_600.0
FACT = FailureFact("ws", "ch", "sms", "delivery_failed", "m", 15005, "sms-messagebird", "1", None, T0)


class RecordingSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("chat.postMessage", kwargs))
        return {"ok": True, "ts": f"{len(self.calls)}.0"}

    async def chat_update(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("chat.update", kwargs))
        return {"ok": True}

    async def chat_getPermalink(self, **kwargs: Any) -> dict[str, Any]:
        return {"ok": True, "permalink": "https://acme.slack.com/archives/C1/p1"}


def engine(slack: RecordingSlack, now: list[float]) -> AlertEngine:
    config = BirdwatchConfig(
        alerts=AlertsConfig(webhook_url="https://x/bird/webhooks", routes=(AlertRoute(channel="C1"),))
    )
    return AlertEngine(
        config=config,
        catalog=default_catalog(),
        store=MemoryAlertStore(),
        queue=MemoryFailureQueue(),
        mutes=MemoryStateStore(clock=lambda: now[0]),
        slack=slack,  # type: ignore[arg-type]
        clock=lambda: now[0],
        tick_seconds=None,
        update_spacing=0,
    )


async def test_a_late_refresh_is_not_followed_by_another_within_30_seconds() -> None:
    slack, now = RecordingSlack(), [T0]
    alerts = engine(slack, now)
    await alerts.process([replace(FACT, message_id=str(n)) for n in range(5)])
    state = await alerts.store.read(GroupState, FACT.group_id)
    assert state is not None
    assert state.alert is not None
    now[0] += 31
    # Two refreshes decided 30 s apart can reach Slack seconds apart when the first waited behind others.
    await alerts._say([Refresh(state)], Policy())
    await alerts._say([Refresh(state)], Policy())
    assert [method for method, _ in slack.calls] == ["chat.postMessage", "chat.update"]
    kept = await alerts.store.read(GroupState, FACT.group_id)
    assert kept is not None
    assert kept.shown_total == -1  # left for the next tick, not forgotten
