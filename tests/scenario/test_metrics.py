"""``/metrics`` through the real app: what operators scrape, with labels that stay few."""

from __future__ import annotations

import re
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, failure_event
from tests.fakes.fake_slack import FakeSlack
from tests.scenario.conftest import WORKSPACE_ID, BotFactory, BotUnderTest
from tests.scenario.test_alert_events import mute, send
from tests.scenario.test_message_command import message_with
from tests.scenario.test_trust import STRANGER, a_failed_message, post, restricted_bot
from tests.scenario.test_webhook_alerts import CONFIG as WEBHOOK_CONFIG
from tests.scenario.test_webhook_alerts import ENVIRON as WEBHOOK_ENVIRON
from tests.scenario.test_webhook_alerts import FakeClock, deliver

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(bot: BotUnderTest) -> Samples:
    async with bot.session.get(bot.server.make_url("/metrics")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def bird_alert(channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0ALERTS",
        "text": "Bird delivery_failed: failure.code 15011 INVALID_SPAM",
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
    }


async def test_requests_are_counted_by_kind_and_outcome_with_their_ack_latency(bot: BotUnderTest) -> None:
    await bot.command("/failure", "15011")
    await bot.command("/failure", "invalid spam")
    unsigned = await bot.post("command=%2Ffailure&text=15011", {"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status == 401

    samples = await scrape(bot)
    assert value(samples, "birdwatch_requests_total", kind="command", outcome="ok") == 2
    assert value(samples, "birdwatch_requests_total", kind="other", outcome="rejected") == 1
    assert value(samples, "birdwatch_ack_seconds_count", kind="command") == 2
    # Every /failure answer is built inside the ack: both fall well inside Slack's 3 s.
    assert value(samples, "birdwatch_ack_seconds_bucket", kind="command", le="3.0") == 2


async def test_slack_api_calls_count_errors_and_rate_limits(bot: BotUnderTest, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=0)
    await bot.event(bird_alert("C0METRICS", "1700003000.000100"))
    await bot.settle()
    assert len(fake_slack.of("chat.postMessage")) == 2  # refused once, then posted

    samples = await scrape(bot)
    assert value(samples, "birdwatch_slack_api_calls_total", method="chat.postMessage", error="ratelimited") == 1
    assert value(samples, "birdwatch_slack_api_calls_total", method="chat.postMessage", error="ok") == 1
    assert value(samples, "birdwatch_requests_total", kind="event", outcome="ok") == 1


async def test_abandoned_replies_are_counted_by_reason(bot: BotUnderTest, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=200, error="channel_not_found", retry_after=None)
    await bot.event(bird_alert("C0GONE", "1700003100.000100"))
    await bot.settle()

    samples = await scrape(bot)
    assert value(samples, "birdwatch_replies_abandoned_total", reason="channel_not_found") == 1
    assert value(samples, "birdwatch_reply_queue_depth") == 0


async def test_bird_requests_are_counted_by_status_with_latency(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await make_bot(bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_workspace_id=WORKSPACE_ID)
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    await bot.command("/message", f"{WORKSPACE_ID} {channel} {message['id']}")
    await bot.command("/message", f"{WORKSPACE_ID} {channel} 00000000-0000-4000-8000-000000000000")
    await bot.settle()

    samples = await scrape(bot)
    assert value(samples, "birdwatch_bird_requests_total", status="200") == 1
    assert value(samples, "birdwatch_bird_requests_total", status="404") == 1
    assert value(samples, "birdwatch_bird_request_seconds_count") == 2


async def test_no_user_channel_or_message_id_ever_becomes_a_label(bot: BotUnderTest) -> None:
    for n in range(30):
        await bot.command("/failure", f"1500{n % 10}", user=f"U0USER{n:04d}", channel=f"C0CHAN{n:04d}")
        await bot.event(bird_alert(f"C0ALERT{n:04d}", f"17000040{n:02d}.000100"))
    await bot.settle()

    samples = await scrape(bot)
    label_values = {v for _, labels in samples for _, v in labels}
    identifiers = re.compile(r"^[UCBAWT]0[A-Z0-9]{4,}$|^[0-9a-f]{8}-[0-9a-f]{4}-|^\d{10}\.\d+$")
    assert not [v for v in label_values if identifiers.match(v)]
    birdwatch_series = {name for name, _ in samples if name.startswith("birdwatch_")}
    assert len([key for key in samples if key[0] in birdwatch_series]) < 200


async def test_each_alert_read_is_counted_by_what_enrichment_decided(bot: BotUnderTest) -> None:
    await bot.event(bird_alert("C0DECIDE", "1700005000.000100"), event_id="Ev1")
    await bot.event(bird_alert("C0DECIDE", "1700005000.000100"), event_id="Ev1")  # Slack's redelivery
    chatter = bird_alert("C0DECIDE", "1700005100.000100") | {"text": "deploy finished in 15011 ms"}
    await bot.event(chatter, event_id="Ev2")
    await bot.settle()
    (reply,) = bot.slack.of("chat.postMessage")
    await mute(bot, reply, "15011", 1)
    await bot.event(bird_alert("C0DECIDE", "1700005200.000100"), event_id="Ev3")
    await bot.event(bird_alert("C0DECIDE", "1700005200.000100"), event_id="Ev3")  # a muted alert redelivered
    await bot.settle()

    samples = await scrape(bot)
    assert value(samples, "birdwatch_enrichment_decisions_total", decision="explained") == 1
    assert value(samples, "birdwatch_enrichment_decisions_total", decision="duplicate") == 2
    assert value(samples, "birdwatch_enrichment_decisions_total", decision="nothing_found") == 1
    assert value(samples, "birdwatch_enrichment_decisions_total", decision="muted") == 1


async def test_a_lookup_the_poster_may_not_trigger_is_counted_as_refused(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    await send(bot, post(f"Bird send failed, messageId: {a_failed_message(fake_bird)}", user=STRANGER))
    await bot.settle()

    samples = await scrape(bot)
    assert value(samples, "birdwatch_enrichment_decisions_total", decision="refused") == 1


async def test_bird_webhooks_are_counted_as_their_own_kind(make_bot: BotFactory) -> None:
    clock = FakeClock()
    bot = await make_bot(config=WEBHOOK_CONFIG, environ=WEBHOOK_ENVIRON, clock=clock)
    assert await deliver(bot, clock, failure_event()) == 200
    assert await deliver(bot, clock, failure_event(), key="not the signing key") == 401

    samples = await scrape(bot)
    assert value(samples, "birdwatch_requests_total", kind="bird_webhook", outcome="ok") == 1
    assert value(samples, "birdwatch_requests_total", kind="bird_webhook", outcome="rejected") == 1
