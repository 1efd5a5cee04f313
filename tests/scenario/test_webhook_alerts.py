"""Bird's webhooks through the real app: signed deliveries in, one self-explaining alert per problem out.

Time is a ``FakeClock`` the tests move; the alert engine's ticks are called by the tests.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.alerting.intake import WEBHOOK_PATH
from tests.fakes.fake_bird import failure_event, send_webhook, signed_webhook
from tests.fakes.fake_slack import FakeSlack
from tests.handlers.blocks.limits import assert_within_slack_limits
from tests.redis_server import RedisServer
from tests.scenario.conftest import BotFactory, BotUnderTest
from tests.slack_requests import signed_headers

WORKSPACE = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
ORGANIZATION = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
SMS_CHANNEL = "7b0e5a52-1c1f-4b7e-9a8d-0c6f1e2d3a4b"
WHATSAPP_CHANNEL = "9c8b7a65-4d3e-4f21-8a0b-1c2d3e4f5a6b"
SIGNING_KEY = "current-signing-key"
OLD_SIGNING_KEY = "previous-signing-key"
PUBLIC_URL = "https://birdwatch.example.com"
SIGNED_URL = PUBLIC_URL + WEBHOOK_PATH
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).timestamp()
RECEIVER = "+31600000000"  # what sample messages are sent to: must never reach Slack
BODY_TEXT = "Your code is 123456"

CONFIG = f"""
[alerts]
public_url = "{PUBLIC_URL}"
digest_hour = 9
bird_link = "https://app.bird.com/workspaces/{{workspace}}/channels/{{channel}}"

[[workspace]]
id = "{WORKSPACE}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_PROD"
organization_id = "{ORGANIZATION}"
signing_key_env = "BIRD_SIGNING_PROD"
previous_signing_key_env = "BIRD_SIGNING_PROD_OLD"

[[alert_route]]
channel = "C0SMSALERT"
workspace = "prod"
code = 15005
threshold = 5
window_minutes = 5
quiet_minutes = 30

[[alert_route]]
channel = "C0WHATSAPP"
platform = "whatsapp"
threshold = 2
"""
ENVIRON = {"BIRD_KEY_PROD": "access", "BIRD_SIGNING_PROD": SIGNING_KEY, "BIRD_SIGNING_PROD_OLD": OLD_SIGNING_KEY}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def alert_bot(make_bot: BotFactory, clock: FakeClock) -> BotUnderTest:
    bot = await make_bot(config=CONFIG, environ=ENVIRON, clock=clock)
    assert bot.runtime.alerting is not None
    bot.runtime.alerting.engine.update_spacing = 0
    return bot


async def deliver(
    bot: BotUnderTest,
    clock: FakeClock,
    event: dict[str, Any] | bytes,
    *,
    key: str = SIGNING_KEY,
    url: str = SIGNED_URL,
    age: float = 0,
    request_id: str | None = None,
) -> int:
    return await send_webhook(
        bot.session,
        str(bot.server.make_url(WEBHOOK_PATH)),
        event,
        key=key,
        url=url,
        timestamp=int(clock.now - age),
        request_id=request_id,
    )


async def fail(bot: BotUnderTest, clock: FakeClock, count: int, **event: Any) -> None:
    for _ in range(count):
        assert await deliver(bot, clock, failure_event(**event)) == 200
    await bot.settle()


async def tick(bot: BotUnderTest) -> None:
    assert bot.runtime.alerting is not None
    await bot.runtime.alerting.engine.tick()
    await bot.settle()


def alerts(slack: FakeSlack, channel: str = "C0SMSALERT") -> list[dict[str, Any]]:
    """Top-level posts (not thread notes) in ``channel``."""
    return [p for p in slack.of("chat.postMessage") if p.get("channel") == channel and not p.get("thread_ts")]


def rendered(payload: dict[str, Any]) -> str:
    return json.dumps(payload["blocks"], ensure_ascii=False)


def updates(slack: FakeSlack) -> list[dict[str, Any]]:
    return slack.of("chat.update")


# --- receiving ----------------------------------------------------------------------------------


async def test_bad_signature_stale_timestamp_and_unsigned_requests_get_401_and_count_nothing(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    event = failure_event()
    assert await deliver(alert_bot, clock, event, key="not-the-key") == 401
    assert await deliver(alert_bot, clock, event, url="http://127.0.0.1/bird/webhooks") == 401  # the Host's URL
    assert await deliver(alert_bot, clock, event, age=301) == 401
    assert await deliver(alert_bot, clock, event, age=-301) == 401
    async with alert_bot.session.post(alert_bot.server.make_url(WEBHOOK_PATH), json=event) as response:
        assert response.status == 401
    tampered_body = json.dumps(event).encode()
    _, headers = signed_webhook(tampered_body, key=SIGNING_KEY, url=SIGNED_URL, timestamp=int(clock.now))
    async with alert_bot.session.post(
        alert_bot.server.make_url(WEBHOOK_PATH), data=tampered_body + b" ", headers=headers
    ) as response:
        assert response.status == 401
    await alert_bot.settle()
    assert alert_bot.runtime.alerting is not None
    assert alert_bot.runtime.alerting.receiver.counts["refused"] == 6
    assert alert_bot.runtime.alerting.engine.counts["counted"] == 0
    assert fake_slack.calls == []


async def test_both_keys_are_accepted_during_a_key_change(alert_bot: BotUnderTest, clock: FakeClock) -> None:
    assert await deliver(alert_bot, clock, failure_event(), key=SIGNING_KEY) == 200
    assert await deliver(alert_bot, clock, failure_event(), key=OLD_SIGNING_KEY) == 200
    await alert_bot.settle()
    assert alert_bot.runtime.alerting is not None
    assert alert_bot.runtime.alerting.engine.counts["counted"] == 2


async def test_other_events_and_statuses_are_acknowledged_and_ignored(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    for status in ("accepted", "sent", "delivered"):
        for _ in range(6):
            assert await deliver(alert_bot, clock, failure_event(status=status)) == 200
    assert await deliver(alert_bot, clock, {"service": "channels", "event": "sms.inbound", "payload": {}}) == 200
    inbound_failure = failure_event() | {"event": "sms.inbound"}
    assert await deliver(alert_bot, clock, inbound_failure) == 200
    assert await deliver(alert_bot, clock, b"not json at all, sending_failed") == 200
    assert await deliver(alert_bot, clock, b"[1, 2, 3]") == 200
    await alert_bot.settle()
    assert alert_bot.runtime.alerting is not None
    assert alert_bot.runtime.alerting.receiver.counts == {"failures": 0, "ignored": 22, "refused": 0}
    assert fake_slack.calls == []


# --- one alert per problem ------------------------------------------------------------------------


async def test_crossing_the_threshold_posts_one_explained_alert_without_customer_data(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 4, reason=f"unknown subscriber {RECEIVER}; reason: unknown_subscriber; code: 1")
    assert alerts(fake_slack) == []
    clock.advance(60)
    await fail(alert_bot, clock, 1)
    [alert] = alerts(fake_slack)
    text = rendered(alert)
    assert "15005" in text
    assert "UNKNOWN_SUBSCRIBER" in text or "15005" in alert["text"]
    assert SMS_CHANNEL in text
    assert "5 since 10:00 UTC" in text
    assert "`1` ×5" in text  # the platform code and its count
    assert "Most common reasons" in text
    assert "First steps" in text
    assert RECEIVER not in json.dumps(fake_slack.calls[0].body)
    assert BODY_TEXT not in json.dumps([c.body for c in fake_slack.calls])
    assert "+31 6" in text  # the receiver quoted in the reason, masked
    action_ids = [e["action_id"] for b in alert["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert action_ids == ["explain_more", "alert_snooze", "alert_resolve", "alert_open_in_bird"]
    assert f"https://app.bird.com/workspaces/{WORKSPACE}/channels/{SMS_CHANNEL}" in text
    assert_within_slack_limits(alert)
    # More failures do not post a second alert.
    await fail(alert_bot, clock, 10)
    assert len(alerts(fake_slack)) == 1


async def test_failures_spread_wider_than_the_window_do_not_alert(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    for _ in range(10):
        await fail(alert_bot, clock, 1)
        clock.advance(100)  # 10 failures over 16 minutes: never 5 within 5 minutes
    await tick(alert_bot)
    assert alerts(fake_slack) == []


async def test_bird_retries_and_replays_are_counted_once(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    events = [failure_event() for _ in range(4)]
    for number, event in enumerate(events):
        request_id = f"req-{number}"
        assert await deliver(alert_bot, clock, event, request_id=request_id) == 200
        assert await deliver(alert_bot, clock, event, request_id=request_id) == 200  # a replay
        assert await deliver(alert_bot, clock, event) == 200  # a retry Bird gave a new request id
    await alert_bot.settle()
    assert alert_bot.runtime.alerting is not None
    assert alert_bot.runtime.alerting.engine.counts["counted"] == 4
    assert alert_bot.runtime.alerting.engine.counts["duplicates"] == 8
    assert alerts(fake_slack) == []  # 4 failures, threshold 5
    # The same message failing with its other status is news.
    same_message = failure_event(message_id=events[0]["payload"]["id"], status="sending_failed")
    assert await deliver(alert_bot, clock, same_message) == 200
    await alert_bot.settle()
    assert len(alerts(fake_slack)) == 1


async def test_the_alert_is_updated_in_place_at_most_every_30_seconds(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 5)
    [alert] = alerts(fake_slack)
    for _ in range(6):  # a failure every 10 s for a minute
        clock.advance(10)
        await fail(alert_bot, clock, 1)
        await tick(alert_bot)
    sent = updates(fake_slack)
    assert len(sent) == 2  # at 30 s and at 60 s
    assert {u["channel"] for u in sent} == {"C0SMSALERT"}
    assert len({u["ts"] for u in sent}) == 1
    assert "11 since" in rendered(sent[-1])
    assert len(alerts(fake_slack)) == 1
    assert alert["blocks"][0]["type"] == "header"
    # Nothing new, nothing sent.
    clock.advance(60)
    await tick(alert_bot)
    assert len(updates(fake_slack)) == 2


async def test_milestones_and_new_platform_codes_go_to_the_thread(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 5)
    [alert] = alerts(fake_slack)
    await fail(alert_bot, clock, 45)  # 50 = 10 × the threshold
    await fail(alert_bot, clock, 1, platform_code="34")
    notes = [p for p in fake_slack.of("chat.postMessage") if p.get("thread_ts")]
    assert len(notes) == 2
    assert "10× the threshold" in notes[0]["text"]
    assert "`34`" in rendered(notes[1])
    assert {n["channel"] for n in notes} == {alert["channel"]}
    assert len({n["thread_ts"] for n in notes}) == 1
    await fail(alert_bot, clock, 10)
    assert len([p for p in fake_slack.of("chat.postMessage") if p.get("thread_ts")]) == 2  # no repeats


async def test_quiet_groups_resolve_and_a_new_burst_opens_a_new_alert_linking_the_old(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 5)
    clock.advance(29 * 60)
    await tick(alert_bot)
    assert updates(fake_slack) == []  # quiet for 29 minutes: still open
    clock.advance(60)
    await tick(alert_bot)
    [resolved] = updates(fake_slack)
    assert "Resolved" in resolved["text"]
    assert "alert_resolve" not in rendered(resolved)
    notes = [p for p in fake_slack.of("chat.postMessage") if p.get("thread_ts")]
    assert len(notes) == 1
    assert "no failures for 30 minutes" in notes[0]["text"]
    await tick(alert_bot)
    assert len(updates(fake_slack)) == 1  # resolved once
    clock.advance(3600)
    await fail(alert_bot, clock, 5)
    _, second = alerts(fake_slack)
    assert "previous alert" in rendered(second)
    assert "acme.slack.com/archives/C0SMSALERT/p" in rendered(second)
    assert "5 since" in rendered(second)  # a fresh count
    clock.advance(31)
    await fail(alert_bot, clock, 1)
    await tick(alert_bot)
    assert "previous alert" in rendered(updates(fake_slack)[-1])  # the link survives updates
    assert len(fake_slack.of("chat.getPermalink")) == 1


async def test_resolve_button_closes_the_alert_and_names_who(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 5)
    [alert] = alerts(fake_slack)
    gid = _control_value(alert, "alert_resolve")
    reply = await _click(alert_bot, {"action_id": "alert_resolve", "type": "button", "value": gid})
    assert reply == 200
    await alert_bot.settle()
    [resolved] = updates(fake_slack)
    assert "Resolved by <@U0ALICE>" in rendered(resolved)
    await fail(alert_bot, clock, 5)
    assert len(alerts(fake_slack)) == 2


async def test_explain_shows_the_full_entry_to_the_clicker_and_open_in_bird_is_only_acknowledged(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 5)
    [alert] = alerts(fake_slack)
    explain = _control(alert, "explain_more")
    assert await _click(alert_bot, {"action_id": "explain_more", "type": "button", "value": explain["value"]}) == 200
    opened = {"action_id": "alert_open_in_bird", "type": "button", "url": _control(alert, "alert_open_in_bird")["url"]}
    assert await _click(alert_bot, opened) == 200
    await alert_bot.settle()
    [answer] = fake_slack.of("response_url")
    assert answer["response_type"] == "ephemeral"
    assert "15005" in json.dumps(answer["blocks"])
    assert len(fake_slack.of("chat.postMessage")) == 1
    assert updates(fake_slack) == []


async def test_snooze_silences_the_code_in_the_channel_and_shares_thread_enrichment_mutes(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 5)
    [alert] = alerts(fake_slack)
    option = next(
        o for o in _control(alert, "alert_snooze")["options"] if o["text"]["text"] == "for 4 h"
    )  # value: "<group>|4"
    select = {"action_id": "alert_snooze", "type": "static_select", "selected_option": option}
    assert await _click(alert_bot, select) == 200
    await alert_bot.settle()
    [snoozed] = updates(fake_slack)
    assert "Snoozed by <@U0ALICE>" in rendered(snoozed)
    # The mute is the enrichment store's: thread enrichment sees it too.
    mute = await alert_bot.runtime.alerting.engine.mutes.get_mute("C0SMSALERT", "15005")  # type: ignore[union-attr]
    assert mute is not None
    assert mute.by == "U0ALICE"
    clock.advance(120)
    await fail(alert_bot, clock, 50)  # would be a 10× milestone and an update
    await tick(alert_bot)
    assert len(updates(fake_slack)) == 1
    assert [p for p in fake_slack.of("chat.postMessage") if p.get("thread_ts")] == []
    # Another Bird channel failing with the same code in the same Slack channel stays quiet too.
    await fail(alert_bot, clock, 6, channel_id="11111111-2222-4333-8444-555555555555")
    assert len(alerts(fake_slack)) == 1
    clock.advance(4 * 3600)
    await fail(alert_bot, clock, 1)
    await tick(alert_bot)
    assert len(updates(fake_slack)) >= 2  # back to normal once the snooze ends


async def test_a_mute_from_thread_enrichment_silences_new_alerts_for_that_code(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    assert alert_bot.runtime.alerting is not None
    await alert_bot.runtime.alerting.engine.mutes.set_mute("C0SMSALERT", "15005", clock.now + 180, "U0BOB")
    await fail(alert_bot, clock, 10)
    assert alerts(fake_slack) == []
    clock.advance(181)
    await tick(alert_bot)
    await fail(alert_bot, clock, 1)
    assert len(alerts(fake_slack)) == 1  # the mute ended, and the failures are still counted


async def test_routes_send_each_problem_to_its_channel_with_its_threshold(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    whatsapp = {"platform": "whatsapp", "source": "whatsapp", "code": 15011, "channel_id": WHATSAPP_CHANNEL}
    await fail(alert_bot, clock, 2, **whatsapp, platform_code="131026")
    await fail(alert_bot, clock, 9, code=14001, source="accounting")  # no route takes SMS 14001
    await fail(alert_bot, clock, 5)
    assert len(alerts(fake_slack, "C0WHATSAPP")) == 1
    assert "15011" in rendered(alerts(fake_slack, "C0WHATSAPP")[0])
    assert len(alerts(fake_slack, "C0SMSALERT")) == 1
    assert {p["channel"] for p in fake_slack.of("chat.postMessage")} == {"C0WHATSAPP", "C0SMSALERT"}
    assert alert_bot.runtime.alerting is not None
    assert alert_bot.runtime.alerting.engine.counts["unrouted"] == 9


async def test_the_daily_digest_is_posted_once_per_routed_channel(
    alert_bot: BotUnderTest, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    await fail(alert_bot, clock, 3)  # Monday 10:00
    clock.now = datetime(2026, 3, 3, 8, 59, tzinfo=UTC).timestamp()
    await tick(alert_bot)
    assert alerts(fake_slack) == []
    clock.now = datetime(2026, 3, 3, 9, 0, tzinfo=UTC).timestamp()
    await tick(alert_bot)
    await tick(alert_bot)
    [digest] = alerts(fake_slack)
    text = rendered(digest)
    assert "2026-03-02" in digest["text"]
    assert "`15005`" in text
    assert "Seen for the first time" in text
    assert SMS_CHANNEL in text
    assert_within_slack_limits(digest)


# --- helpers for Slack actions --------------------------------------------------------------------


def _control(alert: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(
        e for b in alert["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id
    )


def _control_value(alert: dict[str, Any], action_id: str) -> str:
    value = _control(alert, action_id)["value"]
    assert isinstance(value, str)
    return value


async def _click(bot: BotUnderTest, action: dict[str, Any]) -> int:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0TEAM", "domain": "acme"},
        "user": {"id": "U0ALICE", "username": "alice", "team_id": "T0TEAM"},
        "api_app_id": "A0BIRDWATCH",
        "token": "deprecated",
        "container": {"type": "message", "message_ts": "1.0", "channel_id": "C0SMSALERT", "is_ephemeral": False},
        "trigger_id": f"trigger-{uuid.uuid4()}",
        "channel": {"id": "C0SMSALERT", "name": "sms-alerts"},
        "response_url": bot.slack.response_url("action"),
        "actions": [action | {"block_id": "b1", "action_ts": "1.0"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    return (await bot.post(body, signed_headers(body))).status


# --- several replicas on Redis ----------------------------------------------------------------------


async def test_replicas_sharing_redis_post_one_alert_per_group_and_one_digest(
    make_bot: BotFactory, clock: FakeClock, fake_slack: FakeSlack, redis_server: RedisServer, redis_prefix: str
) -> None:
    shared = {"redis_url": redis_server.url, "redis_key_prefix": redis_prefix}
    replicas = [await make_bot(config=CONFIG, environ=ENVIRON, clock=clock, **shared) for _ in range(2)]
    engines = []
    for replica in replicas:
        assert replica.runtime.alerting is not None
        replica.runtime.alerting.engine.update_spacing = 0
        engines.append(replica.runtime.alerting.engine)
    for number in range(40):
        first, second = replicas[number % 2], replicas[(number + 1) % 2]
        event = failure_event()
        # The load balancer sends Bird's retry of the same delivery to the other replica.
        assert await deliver(first, clock, event, request_id=f"delivery-{number}") == 200
        assert await deliver(second, clock, event, request_id=f"delivery-{number}") == 200
    for replica in replicas:
        await replica.settle()
    assert len(alerts(fake_slack)) == 1
    assert sum(engine.counts["counted"] for engine in engines) == 40
    assert sum(engine.counts["duplicates"] for engine in engines) == 40
    clock.advance(31)
    for replica in replicas:
        await tick(replica)
    [update] = updates(fake_slack)
    assert "40 since" in rendered(update)
    clock.now = datetime(2026, 3, 3, 9, 30, tzinfo=UTC).timestamp()
    for replica in replicas:
        await tick(replica)
        await tick(replica)
    digests = [p for p in alerts(fake_slack) if "Bird failures on" in p["text"]]
    assert len(digests) == 1
    assert "40" in digests[0]["text"]


async def test_a_failure_redis_cannot_take_is_refused_so_bird_retries_it(
    make_bot: BotFactory, clock: FakeClock, own_redis_server: RedisServer, redis_prefix: str
) -> None:
    bot = await make_bot(
        config=CONFIG, environ=ENVIRON, clock=clock, redis_url=own_redis_server.url, redis_key_prefix=redis_prefix
    )
    assert await deliver(bot, clock, failure_event()) == 200
    own_redis_server.stop()
    assert await deliver(bot, clock, failure_event()) == 503
    own_redis_server.start()
