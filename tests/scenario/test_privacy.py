"""Customer data never reaches a message the channel can see: not through a platform's reason, and
not through a button on an answer posted in a thread."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.fake_bird import FakeBird, sample_message
from tests.scenario.conftest import WORKSPACE_ID, BotUnderTest
from tests.scenario.test_on_demand import mention

BOUNCE = "550 5.1.1 <jane.doe@example.com>: recipient +31612345678 unknown"


def rendered(payload: dict[str, Any]) -> str:
    return json.dumps(payload.get("blocks", []), ensure_ascii=False) + str(payload.get("text", ""))


def buttons(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in payload.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    }


def a_bounce(fake_bird: FakeBird) -> dict[str, Any]:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    failed = sample_message(reason=BOUNCE, details="jane.doe@example.com")
    return fake_bird.add_message(WORKSPACE_ID, channel, failed)


async def test_a_reason_quoting_the_recipient_is_masked_until_details_are_asked_for(
    bird_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    message = a_bounce(fake_bird)
    await bird_bot.command("/message", message["id"])
    (answer,) = await bird_bot.slack.wait_for("response_url")

    assert "jane.doe@example.com" not in rendered(answer)
    assert "+31612345678" not in rendered(answer)
    assert "j•••@example.com" in rendered(answer)

    await bird_bot.action("message_details", buttons(answer)["message_details"]["value"])
    _, revealed = await bird_bot.slack.wait_for("response_url", 2)
    assert "jane.doe@example.com" in rendered(revealed)

    await bird_bot.action("message_share", buttons(answer)["message_share"]["value"])
    *_, shared = await bird_bot.slack.wait_for("response_url", 3)
    assert shared["response_type"] == "in_channel"
    assert "jane.doe@example.com" not in rendered(shared)


async def test_buttons_on_a_public_answer_never_reveal_customer_data_to_the_channel(
    bird_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    message = a_bounce(fake_bird)
    fake_bird.fail_next(503, times=10)
    await bird_bot.event(mention(f"<@UBIRDWATCH> {message['id']}", user="U0BOB"))
    await bird_bot.settle()
    (failed,) = bird_bot.slack.of("chat.postMessage")
    retry = buttons(failed)["message_refresh"]
    fake_bird.clear_faults()

    # Retry on the visible post: it is replaced by the answer, still redacted and without buttons.
    await bird_bot.action("message_refresh", retry["value"], ephemeral=False, user="U0BOB")
    (refreshed,) = await bird_bot.slack.wait_for("response_url")
    assert refreshed["replace_original"] is True
    assert "jane.doe@example.com" not in rendered(refreshed)
    assert "+31600000000" not in rendered(refreshed)
    assert buttons(refreshed) == {}

    # A forged "Show details" on the visible post answers the clicker alone, in a new message.
    await bird_bot.action("message_details", retry["value"], ephemeral=False, user="U0BOB")
    _, details = await bird_bot.slack.wait_for("response_url", 2)
    assert details["response_type"] == "ephemeral"
    assert details["replace_original"] is False
