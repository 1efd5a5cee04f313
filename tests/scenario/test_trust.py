"""Who may trigger a lookup, what a replay or a forged field can do, and events that arrive oddly shaped.

Everything goes through the real app over HTTP with signed requests, against the fake Slack and Bird.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers.thread_explanations import ThreadExplanations
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, sample_message
from tests.fakes.fake_slack import BOT_USER_ID
from tests.scenario.conftest import WORKSPACE_ID, BotFactory, BotUnderTest
from tests.scenario.test_alert_events import edit, mute, posts, rendered, sections, send
from tests.scenario.test_on_demand import mention
from tests.slack_requests import action_body, signed_headers

CHANNEL = "C0ONCALL"
ALLOWED = "U0ALLOWED"
STRANGER = "U0STRANGER"
TRUSTED_BOT, TRUSTED_APP = "B0TRUSTED", "A0TRUSTED"
MONITOR_BOT, MONITOR_APP, MONITOR_USER = "B0MONITOR", "A0MONITOR", "U0MONITOR"

CONFIG = f"""
[[workspace]]
id = "{WORKSPACE_ID}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_PROD"
allowed_users = ["{ALLOWED}", "{MONITOR_USER}"]
channels = ["{CHANNEL}"]
trusted_integrations = ["{TRUSTED_BOT}"]

[trusted_integrations]
{CHANNEL} = ["{TRUSTED_APP}"]
"""
OPEN_CONFIG = CONFIG.replace(f'allowed_users = ["{ALLOWED}", "{MONITOR_USER}"]\n', "")


async def restricted_bot(make_bot: BotFactory, fake_bird: FakeBird, config: str = CONFIG) -> BotUnderTest:
    return await make_bot(bird=fake_bird, environ={"BIRD_KEY_PROD": DEFAULT_ACCESS_KEY}, config=config)


def a_failed_message(fake_bird: FakeBird, **fields: Any) -> str:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message: dict[str, Any] = fake_bird.add_message(WORKSPACE_ID, channel, sample_message(**fields))
    return str(message["id"])


def post(text: str, *, ts: str = "1700001000.000100", **markers: Any) -> dict[str, Any]:
    return {"type": "message", "text": text, "channel": CHANNEL, "ts": ts, "event_ts": ts} | markers


def lookups(fake_bird: FakeBird) -> int:
    return sum(count for path, count in fake_bird.requests.items() if "/messages/" in path)


# --- who may trigger a lookup -------------------------------------------------------------------

FORGED_MARKERS: dict[str, dict[str, Any]] = {
    "bot_id": {"bot_id": "B0FORGED"},
    "bot_profile": {"bot_profile": {"id": "B0FORGED", "app_id": TRUSTED_APP, "name": "alerts"}},
    "subtype": {"subtype": "bot_message"},
    "app_id": {"app_id": "A0FORGED"},
    "username": {"subtype": "bot_message", "username": "Alertmanager"},
    "all of them": {
        "subtype": "bot_message",
        "bot_id": "B0FORGED",
        "app_id": "A0FORGED",
        "username": "Alertmanager",
        "bot_profile": {"id": TRUSTED_BOT, "app_id": TRUSTED_APP},
    },
}


@pytest.mark.parametrize("config", [CONFIG, OPEN_CONFIG], ids=["allowed_users", "open workspace"])
@pytest.mark.parametrize("marker", FORGED_MARKERS)
async def test_no_bot_marker_alone_lets_a_lookup_through(
    make_bot: BotFactory, fake_bird: FakeBird, marker: str, config: str
) -> None:
    bot = await restricted_bot(make_bot, fake_bird, config)
    message_id = a_failed_message(fake_bird)

    await send(bot, post(f"failure code 15011, messageId: {message_id}", **FORGED_MARKERS[marker]))
    await bot.settle()

    assert lookups(fake_bird) == 0  # Bird saw nothing
    (reply,) = posts(bot)
    assert [s.split("*")[1] for s in sections(reply)] == ["15011 INVALID_SPAM"]  # the code still explained
    assert message_id not in rendered(reply)


async def test_a_person_not_in_allowed_users_triggers_no_lookup(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    message_id = a_failed_message(fake_bird)

    await send(bot, post(f"Bird send failed, messageId: {message_id}", user=STRANGER, bot_id="B0FORGED"))
    await bot.settle()

    assert lookups(fake_bird) == 0
    assert posts(bot) == []


@pytest.mark.parametrize(
    "who",
    [
        {"bot_id": TRUSTED_BOT, "subtype": "bot_message"},  # trusted in the workspace, an incoming webhook
        {"app_id": TRUSTED_APP, "bot_id": "B0OTHER"},  # trusted in the channel
        {"user": MONITOR_USER, "bot_id": MONITOR_BOT, "app_id": MONITOR_APP},  # an app whose bot user is allowed
        {"user": ALLOWED},  # a person who may
    ],
    ids=["trusted bot id", "trusted app id", "allowed bot user", "allowed person"],
)
async def test_trusted_integrations_and_allowed_people_are_looked_up(
    make_bot: BotFactory, fake_bird: FakeBird, who: dict[str, Any]
) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    message_id = a_failed_message(fake_bird)

    await send(bot, post(f"Bird send failed, messageId: {message_id}", **who))
    await bot.settle()

    assert lookups(fake_bird) == 1
    (reply,) = posts(bot)
    assert f"*Message* `{message_id}`: `delivery_failed`" in rendered(reply)


async def test_a_mention_without_a_person_or_trusted_integration_looks_nothing_up(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    bot = await restricted_bot(make_bot, fake_bird, OPEN_CONFIG)
    message_id = a_failed_message(fake_bird)

    event = mention(f"<@{BOT_USER_ID}> prod {message_id}", bot_id="B0FORGED")
    del event["user"]
    await send(bot, event)
    await bot.settle()

    assert lookups(fake_bird) == 0
    (reply,) = posts(bot)
    assert "trusted integration" in rendered(reply)


async def test_a_refused_lookup_claims_nothing_so_a_later_legitimate_post_is_explained(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    message_id = a_failed_message(fake_bird)
    text = f"Bird send failed, messageId: {message_id}"

    # The same alert text, first from a stranger's integration, then from the trusted one.
    await send(bot, post(text, ts="1700001000.000100", bot_id="B0FORGED"))
    await bot.settle()
    await send(bot, post(text, ts="1700001001.000100", bot_id=TRUSTED_BOT))
    await bot.settle()

    assert lookups(fake_bird) == 1
    (reply,) = posts(bot)
    assert reply["thread_ts"] == "1700001001.000100"
    assert f"`{message_id}`" in rendered(reply)


async def test_an_event_whose_processing_failed_is_handled_when_slack_retries_it(
    make_bot: BotFactory, fake_bird: FakeBird, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    real_items = ThreadExplanations.items
    calls = 0

    async def crashes_once(self: ThreadExplanations, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("explaining failed")
        return await real_items(self, *args, **kwargs)

    monkeypatch.setattr(ThreadExplanations, "items", crashes_once)
    alert = post("failure code 15011", bot_id=TRUSTED_BOT, subtype="bot_message")

    await send(bot, alert, event_id="Ev0FAILING")
    await bot.settle()
    assert posts(bot) == []

    await send(bot, alert, event_id="Ev0FAILING", retry_num=1)
    await bot.settle()
    (reply,) = posts(bot)
    assert sections(reply)[0].startswith("*15011 INVALID_SPAM*")


# --- replays and fields sent back by the client -----------------------------------------------


async def test_a_replayed_button_click_does_its_work_once(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    message_id = a_failed_message(fake_bird)
    value = json.dumps({"w": WORKSPACE_ID, "c": None, "m": message_id})
    body = action_body("message_refresh", value, response_url=bot.slack.response_url("action"), user=ALLOWED)

    first = await bot.post(body, signed_headers(body))
    replay = await bot.post(body, signed_headers(body))
    await bot.settle()

    assert (first.status, replay.status) == (200, 200)
    assert len(bot.slack.of("response_url")) == 1
    assert lookups(fake_bird) == 1


async def test_a_replayed_mute_mutes_and_notes_once(make_bot: BotFactory) -> None:
    bot = await make_bot()
    await send(bot, post("failure code 15011", bot_id=TRUSTED_BOT, subtype="bot_message"))
    await bot.settle()
    (reply,) = posts(bot)
    message = {"type": "message", "ts": "1700005000.000100", "thread_ts": reply["thread_ts"], "blocks": []}
    payload = {
        "type": "block_actions",
        "user": {"id": "U0CAROL"},
        "team": {"id": "T0TEAM"},
        "api_app_id": "A0BIRDWATCH",
        "container": {"type": "message", "channel_id": CHANNEL, "thread_ts": reply["thread_ts"]},
        "trigger_id": f"trigger-{uuid.uuid4()}",
        "channel": {"id": CHANNEL},
        "message": message,
        "response_url": bot.slack.response_url("mute"),
        "actions": [{"type": "static_select", "action_id": "mute_code:15011", "selected_option": {"value": "15011|1"}}],
    }
    body = urlencode({"payload": json.dumps(payload)})

    for _ in range(3):
        assert (await bot.post(body, signed_headers(body))).status == 200
    await bot.settle()

    assert len(posts(bot)) == 2  # the reply, and one note


async def test_mute_never_posts_back_the_blocks_the_client_sent(bot: BotUnderTest) -> None:
    await send(bot, post("failure code 15011", bot_id=TRUSTED_BOT, subtype="bot_message"))
    await bot.settle()
    (reply,) = posts(bot)
    forged = {"type": "section", "text": {"type": "mrkdwn", "text": "Customer +31612345678 <!channel>"}}

    await mute(bot, reply | {"blocks": [forged, *reply["blocks"]]}, "15011", 1)
    await bot.settle()

    assert bot.slack.of("response_url") == []
    (_, notice) = posts(bot)
    assert "+31612345678" not in rendered(notice)
    assert "`15011` muted in this channel" in rendered(notice)


@pytest.mark.parametrize("is_ephemeral", [True, False])
async def test_show_details_goes_to_the_clicker_alone_whatever_the_container_says(
    make_bot: BotFactory, fake_bird: FakeBird, is_ephemeral: bool
) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    message_id = a_failed_message(fake_bird)
    value = json.dumps({"w": WORKSPACE_ID, "c": None, "m": message_id})

    await bot.action("message_details", value, ephemeral=is_ephemeral, user=ALLOWED)
    (details,) = await bot.slack.wait_for("response_url")

    assert details["response_type"] == "ephemeral"
    assert details["replace_original"] is False
    assert "+31600000000" in rendered(details)


async def test_a_refresh_of_a_shown_answer_stays_redacted_even_if_the_container_claims_it_is_private(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    bot = await restricted_bot(make_bot, fake_bird)
    message_id = a_failed_message(fake_bird)
    fake_bird.fail_next(503, times=10)
    await send(bot, mention(f"<@{BOT_USER_ID}> {message_id}", user=ALLOWED))
    await bot.settle()
    (failed,) = posts(bot)
    retry = next(e for b in failed["blocks"] if b["type"] == "actions" for e in b["elements"])
    fake_bird.clear_faults()

    await bot.action("message_refresh", retry["value"], ephemeral=True, user=ALLOWED)
    (refreshed,) = await bot.slack.wait_for("response_url")

    assert f"Asked by <@{ALLOWED}>" in rendered(refreshed)
    assert not [b for b in refreshed["blocks"] if b["type"] == "actions"]


# --- odd events ------------------------------------------------------------------------------------


async def test_an_edit_without_message_ts_replies_in_the_alerts_thread(bot: BotUnderTest) -> None:
    original = post("deploy finished", ts="1700007000.000100", bot_id=TRUSTED_BOT, subtype="bot_message")
    changed = edit(original, text="failure code 15011")
    del changed["message"]["ts"]

    await send(bot, changed)
    await bot.settle()

    (reply,) = posts(bot)
    assert reply["thread_ts"] == "1700007000.000100"


async def test_an_edit_naming_no_thread_gets_no_reply(bot: BotUnderTest) -> None:
    original = post("deploy finished", ts="1700007000.000100", bot_id=TRUSTED_BOT, subtype="bot_message")
    changed = edit(original, text="failure code 15011")
    del changed["message"]["ts"]
    del changed["previous_message"]

    await send(bot, changed)
    await bot.settle()

    assert posts(bot) == []


@pytest.mark.parametrize("where", ["text", "first line", "attachment"])
async def test_a_lone_surrogate_never_stops_enrichment(bot: BotUnderTest, where: str) -> None:
    lone = "\ud800"
    alert = post("failure code 15011", bot_id=TRUSTED_BOT, subtype="bot_message")
    if where == "text":
        alert["text"] += f" {lone}"
    elif where == "first line":
        alert["text"] = f"{lone} alert\nfailure code 15011"
    else:
        alert["attachments"] = [{"title": f"{lone} firing", "text": "failure code 14001"}]

    assert (await send(bot, alert)).status == 200
    await bot.settle()

    (reply,) = posts(bot)
    assert sections(reply)[0].startswith("*15011 INVALID_SPAM*")


async def test_a_mention_delivered_twice_under_new_event_ids_is_answered_once(bot: BotUnderTest) -> None:
    event = mention(f"<@{BOT_USER_ID}> 15011")

    await send(bot, event, event_id="Ev0MENTION1")
    await send(bot, event, event_id="Ev0MENTION2")
    await bot.settle()

    assert len(posts(bot)) == 1
