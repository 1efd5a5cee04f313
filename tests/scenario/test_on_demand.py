"""Explanations on request through the real app: the **Explain failure** shortcut and ``@birdwatch`` mentions."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from handlers.on_demand import OnDemand
from tests.fakes.fake_bird import FakeBird, sample_message
from tests.fakes.fake_slack import BOT_USER_ID
from tests.scenario.conftest import WORKSPACE_ID, BotUnderTest, Reply
from tests.slack_requests import shortcut_body, signed_headers

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
MESSAGE_ID = "0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f"
NOTHING_FOUND = "No Bird failure codes, platform codes or message ids found in that message."


def fixture(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return event


def as_message(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The ``message`` object of a shortcut payload: the message event without its envelope fields."""
    return {k: v for k, v in event.items() if k not in ("channel", "event_ts", "channel_type")} | changes


def mention(text: str, *, channel: str = "C0ONCALL", ts: str = "1700006000.000100", **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": "T0TEAM",
    } | extra


def sections(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b]


def elements(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


def rendered(payload: dict[str, Any]) -> str:
    return json.dumps(payload.get("blocks", []), ensure_ascii=False) + str(payload.get("text", ""))


async def shortcut(bot: BotUnderTest, message: dict[str, Any], **kwargs: Any) -> Reply:
    body = shortcut_body(message, response_url=bot.slack.response_url("shortcut"), **kwargs)
    reply = await bot.post(body, signed_headers(body))
    assert reply.status == 200
    return reply


async def explained_privately(bot: BotUnderTest, message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Run the shortcut on ``message`` and return the one ephemeral answer it gave."""
    await shortcut(bot, message, **kwargs)
    await bot.settle()
    (answer,) = bot.slack.of("response_url")
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert bot.slack.of("chat.postMessage") == []  # nothing visible to the channel
    return answer


# --- the message shortcut -----------------------------------------------------------------------


async def test_shortcut_explains_every_code_in_an_alert_privately(bot: BotUnderTest) -> None:
    answer = await explained_privately(bot, as_message(fixture("grafana.json")))

    first, second = sections(answer)
    assert first.startswith("*15011 INVALID_SPAM*")
    assert "*First:*" in first
    assert second.startswith("*whatsapp 131047: ")
    controls = elements(answer)
    assert [e["action_id"] for e in controls] == ["share_items"]  # Share, and no Mute: nothing to mute
    (share,) = controls
    assert share["text"]["text"] == "Share in channel"
    assert json.loads(share["value"]) == {
        "h": [["code", "15011", "15011"], ["platform_code", "whatsapp:131047", "whatsapp 131047"]],
        "t": "1700000100.000200",
    }


async def test_shortcut_explains_codes_in_a_human_message_when_asked(bot: BotUnderTest) -> None:
    message = {"type": "message", "user": "U0BOB", "text": "customer got 15011 again?", "ts": "1700000700.000100"}

    answer = await explained_privately(bot, message)

    (only,) = sections(answer)
    assert only.startswith("*15011 INVALID_SPAM*")


async def test_shortcut_on_a_message_with_nothing_to_explain_says_so(bot: BotUnderTest) -> None:
    message = {"type": "message", "user": "U0BOB", "text": "lunch at 12?", "ts": "1700000800.000100"}

    answer = await explained_privately(bot, message)

    assert NOTHING_FOUND in rendered(answer)
    assert elements(answer) == []


async def test_share_from_a_shortcut_in_a_thread_posts_in_that_thread(bot: BotUnderTest) -> None:
    parent = "1700000000.000100"
    message = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0ALERTS",
        "text": "failure code 15011 again, now with INVALID_BALANCE",
        "ts": "1700000900.000100",
        "thread_ts": parent,
    }
    answer = await explained_privately(bot, message, channel="C0THREADS")
    (share,) = elements(answer)
    assert json.loads(share["value"])["t"] == parent

    reply = await bot.action("share_items", share["value"], user="U0BOB", channel="C0THREADS")
    assert reply.status == 200
    await bot.settle()

    _, shared, deleted = bot.slack.of("response_url")
    assert shared["response_type"] == "in_channel"
    assert "delete_original" not in shared  # Slack documents delete_original as a request of its own
    assert deleted["delete_original"] is True
    assert shared["thread_ts"] == parent
    assert [text.split()[0] for text in sections(shared)] == ["*15011", "*14001"]
    assert "Shared by <@U0BOB> · via Explain failure" in rendered(shared)
    assert elements(shared) == []  # a shared copy has no Share and no Mute


async def test_share_from_a_shortcut_on_a_top_level_alert_answers_in_its_thread(bot: BotUnderTest) -> None:
    alert = fixture("alertmanager.json")
    answer = await explained_privately(bot, as_message(alert))
    (share,) = elements(answer)

    await bot.action("share_items", share["value"], user="U0BOB")
    await bot.settle()

    _, shared, _deleted = bot.slack.of("response_url")
    assert shared["response_type"] == "in_channel"
    assert shared["thread_ts"] == alert["ts"]
    assert sections(shared)[0].startswith("*15011 INVALID_SPAM*")


async def test_share_with_a_forged_value_shares_nothing_it_was_not_asked_about(bot: BotUnderTest) -> None:
    forged = json.dumps({"h": [["shell", "rm -rf", "x"], ["code", "15011", "15011"]], "t": {"no": 1}})

    reply = await bot.action("share_items", forged, user="U0BOB")
    assert reply.status == 200
    await bot.settle()

    shared, _deleted = bot.slack.of("response_url")
    assert [text.split()[0] for text in sections(shared)] == ["*15011"]
    assert "thread_ts" not in shared or shared["thread_ts"] is None
    assert "rm -rf" not in rendered(shared)


async def test_shortcut_diagnoses_a_message_id_in_the_default_workspace(
    bird_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    channel_id = fake_bird.add_channel(WORKSPACE_ID)
    fake_bird.add_message(WORKSPACE_ID, channel_id, sample_message(MESSAGE_ID, status="delivery_failed"))

    answer = await explained_privately(bird_bot, as_message(fixture("blockkit.json")))

    code, message = sections(answer)
    assert code.startswith("*14001 INVALID_BALANCE*")
    assert message.startswith(f"*Message* `{MESSAGE_ID}`: `delivery_failed`.")
    assert "15005 UNKNOWN_SUBSCRIBER" in message
    (share,) = elements(answer)
    assert ["message_id", MESSAGE_ID, MESSAGE_ID] in json.loads(share["value"])["h"]


# --- @birdwatch mentions ------------------------------------------------------------------------


async def test_mention_with_a_code_gets_the_full_answer_in_a_thread(bot: BotUnderTest) -> None:
    event = mention(f"<@{BOT_USER_ID}> 15011")

    reply = await bot.event(event)
    assert reply.status == 200
    await bot.settle()

    (post,) = bot.slack.of("chat.postMessage")
    assert post["channel"] == "C0ONCALL"
    assert post["thread_ts"] == event["ts"]
    assert post["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"
    for expected in ("What to do now", "Likely causes", "Asked by <@U0ALICE>"):
        assert expected in rendered(post)
    assert "share_answer" not in rendered(post)  # already visible: no Share button


async def test_mention_inside_a_thread_answers_in_that_thread(bot: BotUnderTest) -> None:
    event = mention(f"<@{BOT_USER_ID}|birdwatch> what is INVALID_SPAM?", thread_ts="1700000000.000100")

    await bot.event(event)
    await bot.settle()

    (post,) = bot.slack.of("chat.postMessage")
    assert post["thread_ts"] == "1700000000.000100"
    assert post["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"


async def test_mention_with_several_codes_gets_one_compact_answer(bot: BotUnderTest) -> None:
    await bot.event(mention(f"<@{BOT_USER_ID}> 15011 and whatsapp 131047"))
    await bot.settle()

    (post,) = bot.slack.of("chat.postMessage")
    assert [text.split(":")[0] for text in sections(post)] == ["*15011 INVALID_SPAM*", "*whatsapp 131047"]
    assert "Asked by <@U0ALICE>" in rendered(post)
    assert not [e for e in elements(post) if e["type"] == "static_select"]


async def test_mention_with_a_message_id_gets_a_redacted_diagnosis(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    channel_id = fake_bird.add_channel(WORKSPACE_ID)
    fake_bird.add_message(WORKSPACE_ID, channel_id, sample_message(MESSAGE_ID, status="delivery_failed"))
    event = mention(f"<@{BOT_USER_ID}> {MESSAGE_ID.upper()}")

    await bird_bot.event(event)
    await bird_bot.settle()

    (post,) = bird_bot.slack.of("chat.postMessage")
    assert post["thread_ts"] == event["ts"]
    text = rendered(post)
    assert "Message delivery_failed" in text
    assert "15005" in text
    assert "Asked by <@U0ALICE>" in text
    assert "receiver details hidden" in text
    assert "+31600000000" not in text
    assert "Your code is" not in text
    assert fake_bird.requests[fake_bird.message_path(WORKSPACE_ID, channel_id, MESSAGE_ID)] == 1


async def test_mention_with_a_message_id_but_no_workspace_explains_why_not(bot: BotUnderTest) -> None:
    await bot.event(mention(f"<@{BOT_USER_ID}> {MESSAGE_ID}"))
    await bot.settle()

    (post,) = bot.slack.of("chat.postMessage")
    assert "BIRD_ACCESS_KEY" in rendered(post)


async def test_mention_retried_by_slack_is_answered_once(bot: BotUnderTest) -> None:
    event = mention(f"<@{BOT_USER_ID}> 15011")

    first = await bot.event(event, event_id="Ev0MENTION1")
    retries = await asyncio.gather(*(bot.event(event, event_id="Ev0MENTION1", retry_num=n) for n in (1, 2, 3)))
    assert [r.status for r in (first, *retries)] == [200, 200, 200, 200]
    await bot.settle()

    assert len(bot.slack.of("chat.postMessage")) == 1


async def test_channel_alert_that_mentions_the_bot_is_answered_once_by_the_mention(bot: BotUnderTest) -> None:
    ts = "1700007000.000100"
    text = f"<@{BOT_USER_ID}> failure 15011 on whatsapp, see above"
    # Slack sends both: the channel's message event and the bot's app_mention, under different event ids.
    message_event = {"type": "message", "user": "U0ALICE", "text": text, "channel": "C0ONCALL", "ts": ts}
    await asyncio.gather(bot.event(message_event, event_id="Ev0BOTH0001"), bot.event(mention(text, ts=ts)))
    await bot.settle()

    (post,) = bot.slack.of("chat.postMessage")
    assert post["thread_ts"] == ts
    assert post["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"
    assert "Asked by <@U0ALICE>" in rendered(post)  # the mention's full answer, not the enrichment


async def test_a_mention_whose_answer_crashes_still_gets_an_apology(
    bot: BotUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*_: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    monkeypatch.setattr(OnDemand, "mention_reply", crash)
    await bot.event(mention("<@UBIRDWATCH> 15011"))
    await bot.settle()

    (post,) = bot.slack.of("chat.postMessage")
    assert "Something went wrong" in rendered(post)
