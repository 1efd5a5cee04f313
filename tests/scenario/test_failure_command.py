"""``/failure`` through the real app over HTTP, as a user in Slack would experience it."""

from __future__ import annotations

import json
import time

from tests.scenario.conftest import BotUnderTest
from tests.slack_requests import command_body, signed_headers


def _texts(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def test_failure_code_is_answered_inside_the_ack(bot: BotUnderTest) -> None:
    reply = await bot.command("/failure", "15011")

    assert reply.status == 200
    assert reply.body.get("response_type", "ephemeral") == "ephemeral"
    header = reply.body["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "15011 INVALID_SPAM"
    rendered = _texts(reply.body["blocks"])
    for expected in ("What to do now", "Likely causes", "Don't retry", "Who acts", "docs.bird.com", "Share in channel"):
        assert expected in rendered
    assert "INVALID_SPAM" in reply.body["text"]
    # Answered from the ack: nothing went through response_url or the Web API.
    await bot.settle()
    assert bot.slack.of("response_url") == []
    assert bot.slack.of("chat.postMessage") == []


async def test_every_query_form_gets_an_answer(bot: BotUnderTest) -> None:
    expectations = {
        "invalid spam": "15011 INVALID_SPAM",
        "whatsapp 131047": "whatsapp 131047",
        "sms-messagebird 1": "sms-messagebird 1",
        "whatsapp": "Failure source: whatsapp",
        "14xxx": "14XXX",
        "opted out": "15016",
        "": "Explain a Bird message failure",
        "15009": "not in the catalog",
    }
    for query, expected in expectations.items():
        reply = await bot.command("/failure", query)
        assert reply.status == 200, query
        assert expected in _texts(reply.body["blocks"]), query


async def test_share_posts_visibly_and_removes_the_ephemeral_answer(bot: BotUnderTest) -> None:
    first = await bot.command("/failure", "15011")
    share = next(
        element
        for block in first.body["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "share_answer"
    )

    reply = await bot.action("share_answer", share["value"], user="U0BOB")
    assert reply.status == 200

    posted, deleted = await bot.slack.wait_for("response_url", 2)
    assert posted["response_type"] == "in_channel"
    assert "delete_original" not in posted  # Slack documents delete_original as a request of its own
    assert deleted["delete_original"] is True
    assert posted["blocks"][0]["text"]["text"] == "15011 INVALID_SPAM"
    rendered = _texts(posted["blocks"])
    assert "<@U0BOB>" in rendered
    assert "share_answer" not in rendered


async def test_explain_button_on_a_list_replaces_it_with_the_full_answer(bot: BotUnderTest) -> None:
    listing = await bot.command("/failure", "opted out")
    first_button = next(b["accessory"] for b in listing.body["blocks"] if "accessory" in b)

    await bot.action(first_button["action_id"], first_button["value"])

    (posted,) = await bot.slack.wait_for("response_url")
    assert posted["replace_original"] is True
    assert posted["blocks"][0]["text"]["text"] == "15016 OPTEDOUT_RECEIVER"


async def test_bad_signature_gets_401_and_no_reply(bot: BotUnderTest) -> None:
    body = command_body("/failure", "15011", response_url=bot.slack.response_url())
    reply = await bot.post(body, signed_headers(body, secret="not-the-secret"))

    assert reply.status == 401
    assert "blocks" not in reply.body
    await bot.settle()
    assert bot.slack.calls == []


async def test_replayed_request_older_than_five_minutes_gets_401(bot: BotUnderTest) -> None:
    body = command_body("/failure", "15011", response_url=bot.slack.response_url())
    reply = await bot.post(body, signed_headers(body, timestamp=int(time.time()) - 301))

    assert reply.status == 401
    assert "blocks" not in reply.body


async def test_user_text_cannot_ping_the_channel(bot: BotUnderTest) -> None:
    reply = await bot.command("/failure", "<!channel> <!here|here> <@U123> <https://evil.example|click> & 15011")

    assert reply.status == 200
    rendered = _texts(reply.body["blocks"]) + reply.body["text"]
    assert "<!" not in rendered
    assert "<@U123>" not in rendered
    assert "<https://evil" not in rendered


async def test_health_check(bot: BotUnderTest) -> None:
    async with bot.session.get(bot.server.make_url("/healthz")) as response:
        assert response.status == 200
        assert await response.json() == {"ok": True}
