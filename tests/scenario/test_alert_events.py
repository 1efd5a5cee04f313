"""Alert-thread enrichment through the real app over HTTP: one reply per alert, never noise.

Every scenario sends signed Events API requests to the running bot, waits for its background work and
queued posts (``settle``), then reads what reached the fake Slack. The poster paces replies at one per
second per channel, so tests that expect several replies spread them over channels where they can.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.state import MemoryStateStore
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, sample_message
from tests.fakes.fake_slack import BOT_ID, BOT_USER_ID
from tests.scenario.conftest import WORKSPACE_ID, BotFactory, BotUnderTest, Reply
from tests.slack_requests import signed_headers

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
HUMAN = "U0HUMAN"

# What each real alert shape must be explained as: the bold start of each section, in order.
EXPECTED_SECTIONS = {
    "alertmanager.json": ["*15011 INVALID_SPAM*"],
    "grafana.json": ["*15011 INVALID_SPAM*", "*whatsapp 131047: "],
    "blockkit.json": ["*14001 INVALID_BALANCE*", "*Message* `0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f`"],
    "webhook_bot_message.json": ["*14001 INVALID_BALANCE*", "*Message* `a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d`"],
    "attachment_blocks.json": ["*sms-messagebird 34: "],
    "edited_alert.json": ["*15011 INVALID_SPAM*"],
}
EXPECTED_MUTES = {
    "alertmanager.json": ["mute_code:15011"],
    "grafana.json": ["mute_code:15011", "mute_code:whatsapp:131047"],
    "blockkit.json": ["mute_code:14001"],
    "webhook_bot_message.json": ["mute_code:14001"],
    "attachment_blocks.json": ["mute_code:sms-messagebird:34"],
    "edited_alert.json": ["mute_code:15011"],
}


# --- helpers ------------------------------------------------------------------------------------


def fixture(name: str, **overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return event | overrides


def alert(text: str, *, channel: str, ts: str = "1700001000.000100", bot_id: str = "B0ALERTS") -> dict[str, Any]:
    """A custom integration's alert: a bot_message with the code in its text."""
    return {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": bot_id,
        "username": "alerts",
        "text": text,
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "channel",
    }


def human(text: str, *, channel: str, ts: str = "1700002000.000100", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": HUMAN, "text": text, "channel": channel, "ts": ts, "event_ts": ts} | extra


def edit(original: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The message_changed event for an edit of ``original`` (a message event)."""
    message = {k: v for k, v in original.items() if k not in ("channel", "event_ts", "channel_type")} | changes
    message["edited"] = {"user": original.get("bot_id") or original.get("user"), "ts": "1700009999.000000"}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": original["channel"],
        "ts": "1700009999.000100",
        "event_ts": "1700009999.000100",
        "message": message,
        "previous_message": {k: v for k, v in original.items() if k not in ("channel", "event_ts")},
    }


def posts(bot: BotUnderTest, channel: str | None = None) -> list[dict[str, Any]]:
    return [p for p in bot.slack.of("chat.postMessage") if channel is None or p["channel"] == channel]


def sections(post: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in post["blocks"] if b["type"] == "section"]


def mute_menus(post: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in post["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "static_select"
    ]


def rendered(payload: dict[str, Any]) -> str:
    return json.dumps(payload.get("blocks", []), ensure_ascii=False) + str(payload.get("text", ""))


async def send(bot: BotUnderTest, event: dict[str, Any], **kwargs: Any) -> Reply:
    reply = await bot.event(event, **kwargs)
    assert reply.status == 200, reply
    return reply


def select_body(
    action_id: str, value: str, *, response_url: str, message: dict[str, Any], channel: str, user: str = "U0ALICE"
) -> str:
    """A block_actions request for choosing ``value`` in a static_select on a bot message in a channel."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T0TEAM", "domain": "acme"},
        "user": {"id": user, "username": "alice", "team_id": "T0TEAM"},
        "api_app_id": "A0BIRDWATCH",
        "token": "deprecated",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
            **({"thread_ts": message["thread_ts"]} if "thread_ts" in message else {}),
        },
        "trigger_id": f"trigger-mute-{uuid.uuid4()}",
        "channel": {"id": channel, "name": "oncall"},
        "message": message,
        "response_url": response_url,
        "actions": [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": "mute",
                "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
                "action_ts": str(time.time()),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def until_text(epoch: float) -> str:
    return time.strftime("%H:%M UTC on %b %d", time.gmtime(epoch))


class Clock:
    """The state store's clock: real time plus however far a test has moved it on."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Bots started after this fixture keep their enrichment state on a clock the test can move."""
    store_clock = Clock()
    monkeypatch.setattr("bot.app.MemoryStateStore", lambda: MemoryStateStore(clock=store_clock))
    return store_clock


# --- every real alert shape ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_SECTIONS))
async def test_each_real_alert_gets_one_compact_thread_reply(bot: BotUnderTest, name: str) -> None:
    event = fixture(name)
    alert_ts = event["message"]["ts"] if event.get("subtype") == "message_changed" else event["ts"]

    await send(bot, event)
    await bot.settle()

    (post,) = posts(bot)
    assert post["channel"] == event["channel"]
    assert post["thread_ts"] == alert_ts
    assert post["unfurl_links"] is False
    assert post["unfurl_media"] is False
    found = sections(post)
    assert len(found) == len(EXPECTED_SECTIONS[name]), found
    for text, start in zip(found, EXPECTED_SECTIONS[name], strict=True):
        assert text.startswith(start), (text, start)
    # Every catalog entry has its first step and a More button; only catalog entries can be muted.
    more = [b["accessory"] for b in post["blocks"] if b["type"] == "section" and "accessory" in b]
    assert all(b["action_id"] == "explain_more" for b in more)
    assert len(more) == len(EXPECTED_MUTES[name])
    assert all("*First:*" in text for text in found if not text.startswith("*Message*"))
    assert [m["action_id"] for m in mute_menus(post)] == EXPECTED_MUTES[name]
    assert "<!" not in rendered(post)  # the alerts' own @here/@channel never reach the reply


async def test_more_button_gives_the_full_explanation_to_the_clicker_alone(bot: BotUnderTest) -> None:
    await send(bot, fixture("alertmanager.json"))
    await bot.settle()
    (post,) = posts(bot)
    (more,) = [b["accessory"] for b in post["blocks"] if "accessory" in b]

    reply = await bot.action(more["action_id"], more["value"], ephemeral=False, user="U0BOB")
    assert reply.status == 200

    (answer,) = await bot.slack.wait_for("response_url")
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert answer["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"
    assert "What to do now" in rendered(answer)
    await bot.settle()
    assert len(posts(bot)) == 1  # nothing new in the thread


# --- exactly once ------------------------------------------------------------------------------


async def test_slack_retries_of_one_event_get_one_reply(bot: BotUnderTest) -> None:
    event = fixture("alertmanager.json")

    await send(bot, event, event_id="Ev0RETRY01")
    # Redeliveries carry the same event_id; let them race each other too.
    replies = await asyncio.gather(*(bot.event(event, event_id="Ev0RETRY01", retry_num=n) for n in (1, 2, 3)))
    assert [r.status for r in replies] == [200, 200, 200]
    await bot.settle()

    assert len(posts(bot)) == 1


async def test_same_message_under_another_event_id_gets_one_reply(bot: BotUnderTest) -> None:
    event = fixture("grafana.json")

    await asyncio.gather(send(bot, event, event_id="Ev0FIRST01"), send(bot, event, event_id="Ev0SECOND1"))
    await send(bot, event, event_id="Ev0THIRD01")
    await bot.settle()

    (post,) = posts(bot)
    assert len(sections(post)) == 2


async def test_edit_repeating_the_codes_adds_no_reply(bot: BotUnderTest) -> None:
    original = alert("Bird delivery failures above threshold: failure code 15011", channel="C0EDITS")
    await send(bot, original)
    await bot.settle()
    assert len(posts(bot)) == 1

    await send(bot, edit(original, text="Bird delivery failures above threshold (x3): failure code 15011"))
    moved = {"fallback": "[FIRING:2] failure code 15011", "text": "failure code 15011 on 212 messages"}
    await send(bot, edit(original, text="", attachments=[moved]))
    await bot.settle()

    assert len(posts(bot)) == 1


async def test_edit_or_redelivery_long_after_the_repeat_window_adds_no_reply(
    make_bot: BotFactory, clock: Clock
) -> None:
    bot = await make_bot()
    original = alert("Bird delivery failures above threshold: failure code 15011", channel="C0LATE")
    await send(bot, original)
    await bot.settle()

    clock.advance(3 * 3600)  # the alert is still firing hours later
    await send(bot, edit(original, text="Bird delivery failures above threshold (x9): failure code 15011"))
    await send(bot, original)  # and Slack delivers the original once more, under a new event_id
    await bot.settle()

    assert len(posts(bot)) == 1


async def test_edit_adding_a_code_gets_one_reply_for_only_the_new_code(bot: BotUnderTest) -> None:
    original = fixture("edited_alert.json")["previous_message"] | {"channel": "C0ONCALL"}
    await send(bot, original)  # the alert as first posted: 14001
    await bot.settle()
    (first,) = posts(bot)
    assert sections(first)[0].startswith("*14001 INVALID_BALANCE*")

    edited = fixture("edited_alert.json")
    edited["message"]["attachments"][0]["text"] = "*Description:* failure.code 15011 on 212 messages, 14001 on 3"
    await send(bot, edited)
    await bot.settle()

    assert len(posts(bot)) == 2
    second = posts(bot)[1]
    assert second["thread_ts"] == original["ts"] == "1700000400.000500"  # the alert's thread, not the edit's ts
    (only,) = sections(second)
    assert only.startswith("*15011 INVALID_SPAM*")
    assert [m["action_id"] for m in mute_menus(second)] == ["mute_code:15011"]


# --- never noise --------------------------------------------------------------------------------


def own_message(text: str, blocks: list[dict[str, Any]], *, channel: str, **ids: str) -> dict[str, Any]:
    return {
        "type": "message",
        "text": text,
        "blocks": blocks,
        "channel": channel,
        "ts": "1700003000.000100",
        "event_ts": "1700003000.000100",
        "team": "T0TEAM",
        "bot_profile": {"id": BOT_ID, "name": "birdwatch", "team_id": "T0TEAM"},
    } | ids


async def test_its_own_posts_are_never_answered(bot: BotUnderTest) -> None:
    await send(bot, fixture("alertmanager.json", channel="C0SOURCE"))
    await bot.settle()
    (reply,) = posts(bot)  # a real reply: it names 15011, the code it reacts to
    text, blocks = reply["text"], reply["blocks"]
    loops = {
        "C0LOOP1": own_message(text, blocks, channel="C0LOOP1", user=BOT_USER_ID, bot_id=BOT_ID),
        "C0LOOP2": own_message(text, blocks, channel="C0LOOP2", bot_id=BOT_ID) | {"subtype": "bot_message"},
        "C0LOOP3": own_message(text, blocks, channel="C0LOOP3", user=BOT_USER_ID),
        # An edit of its own post (a Mute replaces the reply, a Share rewrites a message) comes as
        # message_changed, whose envelope names no user at all.
        "C0LOOP4": edit(own_message(text, blocks, channel="C0LOOP4", user=BOT_USER_ID, bot_id=BOT_ID)),
        "C0LOOP5": edit(own_message(text, blocks, channel="C0LOOP5", bot_id=BOT_ID)),
    }
    for event in loops.values():
        await send(bot, event)
    # The same words from another integration are an alert: only the sender tells them apart.
    await send(bot, own_message(text, blocks, channel="C0CONTROL", bot_id="B0OTHERAPP"))
    await bot.settle()

    assert [p["channel"] for p in posts(bot)] == ["C0SOURCE", "C0CONTROL"]


async def test_replies_inside_threads_are_left_alone(bot: BotUnderTest) -> None:
    parent = "1700000000.000100"
    in_thread = alert("failure code 15011", channel="C0THREAD1", ts="1700000050.000100") | {"thread_ts": parent}
    broadcast = alert("failure code 15011", channel="C0THREAD2", ts="1700000060.000100") | {
        "subtype": "thread_broadcast",
        "thread_ts": parent,
    }
    human_in_thread = human("failure 15011 on whatsapp again", channel="C0THREAD3", thread_ts=parent)
    edited_reply = edit(in_thread | {"channel": "C0THREAD4"}, text="failure code 15011 (edited)")
    for event in (in_thread, broadcast, human_in_thread, edited_reply):
        await send(bot, event)
    # A thread's parent carries thread_ts == ts: it is still a top-level alert.
    await send(bot, alert("failure code 15011", channel="C0PARENT", ts=parent) | {"thread_ts": parent})
    await bot.settle()

    assert [(p["channel"], p["thread_ts"]) for p in posts(bot)] == [("C0PARENT", parent)]


async def test_only_enabled_channels_are_enriched(make_bot: BotFactory) -> None:
    bot = await make_bot(config='[enrichment]\nall_channels = false\nchannels = ["C0ENABLED"]\n')

    await send(bot, fixture("alertmanager.json", channel="C0ONCALL"))
    await send(bot, human("failure 15011 on whatsapp", channel="C0RANDOM"))
    await send(bot, fixture("alertmanager.json", channel="C0ENABLED"))
    await bot.settle()

    assert [p["channel"] for p in posts(bot)] == ["C0ENABLED"]


async def test_human_chatter_is_not_an_alert_but_a_human_failure_report_is(bot: BotUnderTest) -> None:
    for channel, text in (
        ("C0CHAT1", "order 15011 shipped"),
        ("C0CHAT2", "Order 15011 shipped today, tracking 14001 too"),
        ("C0CHAT3", "see <https://shop.example.com/orders/15011|order 15011>"),
    ):
        await send(bot, human(text, channel=channel))
    await send(bot, human("Bird failure 15011 on whatsapp", channel="C0REPORT"))
    await bot.settle()

    (post,) = posts(bot)
    assert post["channel"] == "C0REPORT"
    assert post["thread_ts"] == "1700002000.000100"
    assert sections(post)[0].startswith("*15011 INVALID_SPAM*")


async def test_message_that_is_not_an_alert_or_has_no_channel_gets_nothing(bot: BotUnderTest) -> None:
    await send(bot, alert("all good: 0 failures", channel="C0QUIET"))
    await send(bot, {k: v for k, v in fixture("alertmanager.json").items() if k != "channel"})
    await send(bot, fixture("alertmanager.json", subtype="channel_join"))
    await send(bot, fixture("alertmanager.json", subtype="message_deleted"))
    await bot.settle()

    assert posts(bot) == []


# --- repeat window ------------------------------------------------------------------------------


async def test_the_same_alert_firing_again_is_not_explained_again_within_the_window(
    make_bot: BotFactory, clock: Clock
) -> None:
    bot = await make_bot()
    await send(bot, alert("failure code 15011 on channel sms", channel="C0REPEAT", ts="1700000001.000100"))
    await bot.settle()
    assert len(posts(bot)) == 1

    clock.advance(29 * 60)  # default window: 30 minutes
    await send(bot, alert("failure code 15011 on channel sms", channel="C0REPEAT", ts="1700001741.000100"))
    # Another channel has its own window.
    await send(bot, alert("failure code 15011 on channel sms", channel="C0ELSEWHERE", ts="1700001742.000100"))
    await bot.settle()
    assert [p["channel"] for p in posts(bot)] == ["C0REPEAT", "C0ELSEWHERE"]

    clock.advance(2 * 60)  # 31 minutes after the first reply
    await send(bot, alert("failure code 15011 on channel sms", channel="C0REPEAT", ts="1700001861.000100"))
    await bot.settle()
    replies = posts(bot, "C0REPEAT")
    assert [p["thread_ts"] for p in replies] == ["1700000001.000100", "1700001861.000100"]


async def test_a_different_alert_with_the_same_code_gets_its_own_reply(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await send(bot, alert("[FIRING:2] SMS failures: failure code 15011", channel="C0ALERTS", ts="1700000001.000100"))
    # The same alert firing again: its counts change, it is still the same alert.
    await send(bot, alert("[FIRING:3] SMS failures: failure code 15011", channel="C0ALERTS", ts="1700000061.000100"))
    await send(bot, alert("WhatsApp campaign blocked: failure code 15011", channel="C0ALERTS", ts="1700000121.000100"))
    await bot.settle()

    assert [p["thread_ts"] for p in posts(bot, "C0ALERTS")] == ["1700000001.000100", "1700000121.000100"]


async def test_no_channel_is_enriched_until_configured(make_bot: BotFactory) -> None:
    bot = await make_bot(birdwatch_enrich_channels=None)
    await send(bot, alert("failure code 15011", channel="C0ONCALL", ts="1700000001.000100"))
    await bot.settle()

    assert posts(bot) == []


async def test_enriched_channels_can_be_listed_without_a_config_file(make_bot: BotFactory) -> None:
    bot = await make_bot(birdwatch_enrich_channels="C0ONCALL, C0PAGING")
    await send(bot, alert("failure code 15011", channel="C0ONCALL", ts="1700000001.000100"))
    await send(bot, alert("failure code 15011", channel="C0RANDOM", ts="1700000002.000100"))
    await bot.settle()

    assert [p["channel"] for p in posts(bot)] == ["C0ONCALL"]


async def test_a_persons_message_id_is_looked_up_only_if_they_may_query_the_workspace(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    config = f"""
[[workspace]]
id = "{WORKSPACE_ID}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_PROD"
allowed_users = ["U0ALICE"]
channels = ["C0ONCALL"]
"""
    bot = await make_bot(bird=fake_bird, config=config, environ={"BIRD_KEY_PROD": DEFAULT_ACCESS_KEY})
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, sample_message())
    human = {
        "type": "message",
        "channel": "C0ONCALL",
        "ts": "1700000001.000100",
        "user": "U0MALLORY",
        "text": f"delivery failure, message id {message['id']}",
    }

    await send(bot, human)
    await bot.settle()

    assert posts(bot) == []
    assert sum(fake_bird.requests.values()) == 0


async def test_repeat_window_comes_from_the_config(make_bot: BotFactory, clock: Clock) -> None:
    bot = await make_bot(config="[enrichment]\nrepeat_window_minutes = 5\n")
    await send(bot, alert("failure code 15011", channel="C0SHORT", ts="1700000001.000100"))
    await bot.settle()
    clock.advance(4 * 60)
    await send(bot, alert("failure code 15011", channel="C0SHORT", ts="1700000241.000100"))
    await bot.settle()
    assert len(posts(bot)) == 1

    clock.advance(2 * 60)
    await send(bot, alert("failure code 15011", channel="C0SHORT", ts="1700000361.000100"))
    await bot.settle()
    assert [p["thread_ts"] for p in posts(bot)] == ["1700000001.000100", "1700000361.000100"]


# --- many codes ---------------------------------------------------------------------------------


async def test_more_than_five_codes_show_five_sections_and_how_many_more(bot: BotUnderTest) -> None:
    codes = ["15011", "14001", "15005", "15016", "11001", "12008", "15012"]
    await send(bot, alert("Bird failures in the last hour: " + ", ".join(codes), channel="C0MANY"))
    await bot.settle()

    (post,) = posts(bot)
    found = sections(post)
    assert len(found) == 5
    assert [text.split()[0].strip("*") for text in found] == codes[:5]
    assert "+2 more" in rendered(post)
    assert [m["action_id"] for m in mute_menus(post)] == [f"mute_code:{code}" for code in codes[:5]]


# --- mute ---------------------------------------------------------------------------------------


async def mute(bot: BotUnderTest, reply: dict[str, Any], key: str, hours: int, user: str = "U0CAROL") -> Reply:
    """Choose "for <hours> h" in the reply's Mute menu for ``key``, as ``user``."""
    message = {
        "type": "message",
        "ts": "1700005000.000100",
        "thread_ts": reply["thread_ts"],
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "text": reply["text"],
        "blocks": reply["blocks"],
    }
    body = select_body(
        f"mute_code:{key}",
        f"{key}|{hours}",
        response_url=bot.slack.response_url("mute"),
        message=message,
        channel=reply["channel"],
        user=user,
    )
    answer = await bot.post(body, signed_headers(body))
    assert answer.status == 200
    return answer


async def test_mute_silences_that_code_in_that_channel_and_says_who_and_until(
    make_bot: BotFactory, clock: Clock
) -> None:
    bot = await make_bot()
    await send(bot, fixture("grafana.json", channel="C0MUTE"))  # 15011 and whatsapp 131047
    await bot.settle()
    (reply,) = posts(bot)

    before = time.time()
    await mute(bot, reply, "15011", 1)
    after = time.time()
    await bot.settle()

    # A note in the alert's thread says who muted what until when; the reply itself is not
    # rebuilt from the copy of it that the client sent back.
    assert bot.slack.of("response_url") == []
    (_, notice) = posts(bot)
    assert (notice["channel"], notice["thread_ts"]) == ("C0MUTE", reply["thread_ts"])
    note = notice["blocks"][-1]["elements"][0]["text"]
    assert "`15011` muted in this channel by <@U0CAROL> until " in note
    assert any(note.endswith(f"until {until_text(at + 3600)}") for at in (before, after)), note

    # Past the repeat window but within the hour: a new alert with the muted code gets nothing;
    # the same code in another channel, or another code here, gets a reply.
    clock.advance(31 * 60)
    await send(bot, alert("failure code 15011", channel="C0MUTE", ts="1700004000.000100"))
    await send(bot, alert("failure code 15011", channel="C0UNMUTED", ts="1700004001.000100"))
    await send(bot, alert("failure code 15011 and 14001", channel="C0MUTE", ts="1700004002.000100"))
    await bot.settle()
    replies = posts(bot)
    assert [(p["channel"], p["thread_ts"]) for p in replies[2:]] == [
        ("C0UNMUTED", "1700004001.000100"),
        ("C0MUTE", "1700004002.000100"),
    ]
    (only,) = sections(replies[3])
    assert only.startswith("*14001 INVALID_BALANCE*")

    # The mute ends after its hour.
    clock.advance(30 * 60)
    await send(bot, alert("failure code 15011", channel="C0MUTE", ts="1700008000.000100"))
    await bot.settle()
    assert len(posts(bot)) == 5
    assert posts(bot)[-1]["thread_ts"] == "1700008000.000100"


@pytest.mark.parametrize("value", ["15011|2", "15011", "|1", "15011|1 ", ""])
async def test_mute_with_a_value_it_did_not_offer_changes_nothing(bot: BotUnderTest, value: str) -> None:
    body = select_body(
        "mute_code:15011",
        value,
        response_url=bot.slack.response_url("mute"),
        message={"type": "message", "ts": "1700005000.000100", "text": "x", "blocks": []},
        channel="C0FORGED",
    )
    answer = await bot.post(body, signed_headers(body))
    assert answer.status == 200
    await send(bot, alert("failure code 15011", channel="C0FORGED"))
    await bot.settle()

    assert bot.slack.of("response_url") == []
    assert len(posts(bot)) == 1


# --- Slack pushes back --------------------------------------------------------------------------


async def test_reply_rate_limited_by_slack_is_retried_after_retry_after_and_posted_once(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    caplog.set_level(logging.INFO, logger="birdwatch.poster")

    started = time.monotonic()
    await send(bot, fixture("alertmanager.json"))
    await bot.settle()

    first, second = posts(bot)  # the refused attempt and the retry, identical
    assert first == second
    assert second["thread_ts"] == "1700000000.000100"
    assert time.monotonic() - started >= 0.9  # it waited for Retry-After
    retries = [r.getMessage() for r in caplog.records if "retry in" in r.getMessage()]
    assert retries == [
        "chat.postMessage retry in 1.0s: channel=C0ONCALL thread_ts=1700000000.000100 reason=ratelimited attempt=1"
    ]
    assert not [r for r in caplog.records if "abandoned" in r.getMessage()]


async def test_reply_slack_refuses_for_good_is_logged_with_its_reason(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    bot.slack.fail_next("chat.postMessage", status=200, error="not_in_channel", retry_after=None)
    caplog.set_level(logging.WARNING, logger="birdwatch.poster")

    await send(bot, fixture("alertmanager.json"))
    await bot.settle()

    assert len(posts(bot)) == 1  # not retried: it would fail the same way
    (warning,) = [r for r in caplog.records if r.name == "birdwatch.poster"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "reply abandoned: channel=C0ONCALL thread_ts=1700000000.000100 reason=not_in_channel"
    )


# --- message ids --------------------------------------------------------------------------------


async def trusting_bot(make_bot: BotFactory, fake_bird: FakeBird, integrations: str = '"B0WEBHOOK"') -> BotUnderTest:
    """The bot with a default workspace, trusting the given integrations' alerts in C0ONCALL."""
    return await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_workspace_id=WORKSPACE_ID,
        config=f"[trusted_integrations]\nC0ONCALL = [{integrations}]\n",
    )


async def test_message_id_in_an_alert_is_diagnosed_in_the_channels_default_workspace(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    bird_bot = await trusting_bot(make_bot, fake_bird)
    event = fixture("webhook_bot_message.json")
    message_id = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
    channel_id = fake_bird.add_channel(WORKSPACE_ID)
    fake_bird.add_message(WORKSPACE_ID, channel_id, sample_message(message_id, status="delivery_failed"))

    await send(bird_bot, event)
    await bird_bot.settle()

    (post,) = posts(bird_bot)
    assert post["thread_ts"] == event["ts"]
    code, message = sections(post)
    assert code.startswith("*14001 INVALID_BALANCE*")
    assert message.startswith(f"*Message* `{message_id}`: `delivery_failed`.")
    assert "Failure 15005 UNKNOWN_SUBSCRIBER" in message  # the message's own failure, not the alert's
    assert "*First:*" in message
    assert fake_bird.requests[fake_bird.message_path(WORKSPACE_ID, channel_id, message_id)] == 1
    assert all(r.headers["Authorization"] == f"AccessKey {DEFAULT_ACCESS_KEY}" for r in fake_bird.request_log)
    # The thread is visible to the channel: no receiver, no message content.
    assert "+31600000000" not in rendered(post)
    assert "Your code is" not in rendered(post)


async def test_message_id_lookup_failure_still_replies(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    fake_bird.add_channel(WORKSPACE_ID)  # the message is in no channel: 404 everywhere

    await send(bird_bot, fixture("blockkit.json"))
    await bird_bot.settle()

    (post,) = posts(bird_bot)
    code, message = sections(post)
    assert code.startswith("*14001 INVALID_BALANCE*")
    assert message.startswith("*Message* `0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f`")
    assert "Bird has no message with this id" in message


async def test_message_id_without_a_default_workspace_points_to_slash_message(bot: BotUnderTest) -> None:
    await send(bot, fixture("blockkit.json"))
    await bot.settle()

    (post,) = posts(bot)
    assert "no default Bird workspace for this channel" in sections(post)[1]
    assert "/message &lt;workspace&gt; 0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f" in sections(post)[1]


# --- silent unless it is about Bird ---------------------------------------------------------------


def attachment_alert(title: str, text: str, *, channel: str, ts: str) -> dict[str, Any]:
    """An Alertmanager-shaped post: one legacy attachment with the title and the description."""
    return alert("", channel=channel, ts=ts, bot_id="B0ALERTMGR") | {
        "attachments": [{"title": title, "fallback": title, "text": text, "color": "danger"}]
    }


async def test_an_alert_about_something_else_gets_no_reply_while_a_bird_alert_does(bot: BotUnderTest) -> None:
    await send(
        bot,
        attachment_alert(
            "[FIRING:1] HighErrorRate (prod checkout-api)",
            "*Description:* 15011 errors in the last 5m on checkout-api-7d9f-15006 (build #15006)",
            channel="C0NOISE",
            ts="1700005000.000100",
        ),
    )
    await send(bot, human('Traceback:\n  File "/app/api.py", line 404, in handler', channel="C0NOISE"))
    await send(
        bot,
        attachment_alert(
            "[FIRING:1] BirdSendFailures (prod messaging)",
            "*Description:* Bird delivery_failed on 212 messages, failure.code 15011",
            channel="C0BIRDALERT",
            ts="1700005001.000100",
        ),
    )
    await bot.settle()

    (post,) = posts(bot)
    assert post["channel"] == "C0BIRDALERT"
    assert [text.split()[0].strip("*") for text in sections(post)] == ["15011"]


async def test_a_resolved_notification_is_not_explained(bot: BotUnderTest) -> None:
    firing = attachment_alert(
        "[FIRING:1] BirdSendFailures", "Bird failure.code 15011", channel="C0RESOLVE", ts="1700006000.000100"
    )
    resolved = attachment_alert(
        "[RESOLVED] BirdSendFailures", "Bird failure.code 14001", channel="C0RESOLVE", ts="1700006300.000100"
    )
    await send(bot, firing)
    await send(bot, resolved)
    await bot.settle()

    assert [p["thread_ts"] for p in posts(bot)] == ["1700006000.000100"]


async def test_a_channel_of_bird_alerts_alone_explains_bare_codes(make_bot: BotFactory) -> None:
    bot = await make_bot(config='[enrichment]\nchannels = ["C0BIRDONLY", "C0ONCALL"]\nbird_channels = ["C0BIRDONLY"]\n')
    for channel, ts in (("C0BIRDONLY", "1700007000.000100"), ("C0ONCALL", "1700007001.000100")):
        await send(bot, alert("[FIRING:1] SendFailures code=15011", channel=channel, ts=ts))
    await send(bot, alert("15011 errors in the last 5m", channel="C0BIRDONLY", ts="1700007002.000100"))
    await bot.settle()

    assert [(p["channel"], p["thread_ts"]) for p in posts(bot)] == [("C0BIRDONLY", "1700007000.000100")]
