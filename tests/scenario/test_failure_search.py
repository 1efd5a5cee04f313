"""``/failure`` through the real app for what people paste: message ids, statuses, typos."""

from __future__ import annotations

import json

from tests.scenario.conftest import BotUnderTest

MESSAGE_ID = "0d3c9f1e-7a2b-4c5d-9e8f-1a2b3c4d5e6f"


def _rendered(body: dict[str, object]) -> str:
    return json.dumps(body.get("blocks"), ensure_ascii=False)


async def test_a_pasted_message_id_points_to_message(bot: BotUnderTest) -> None:
    reply = await bot.command("/failure", f"messageId: {MESSAGE_ID}")
    assert reply.status == 200
    rendered = _rendered(reply.body)
    assert f"```/message &lt;workspace&gt; {MESSAGE_ID}```" in rendered
    assert f"/message {MESSAGE_ID}" in rendered
    assert "/message" in reply.body["text"]
    # Pointing to /message is all: Bird is not asked from /failure.
    await bot.settle()
    assert bot.slack.of("response_url") == []


async def test_status_names_and_pasted_forms(bot: BotUnderTest) -> None:
    expectations = {
        "delivery_failed": "Status: delivery_failed",
        "#15011": "15011 INVALID_SPAM",
        "15O11": "Read “15O11” as 15011.",
        "whatsap 131047": "Read “whatsap” as the source whatsapp.",
        "１５０１１": "15011 INVALID_SPAM",
    }
    for query, expected in expectations.items():
        reply = await bot.command("/failure", query)
        assert reply.status == 200, query
        assert expected in _rendered(reply.body), query
