"""``/message`` through the real app over HTTP against the fake Bird, as a user in Slack would see it.

Every test goes from a signed slash command (or button click) to what Slack receives: the HTTP
acknowledgement and the posts to ``response_url``. FakeBird counts what reached "Bird".
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from typing import Any

import pytest

from bot.bird import BirdClient, RequestBudget
from catalog.message import FoundMessage
from handlers.blocks.failure_builder import ACTION_MORE
from handlers.blocks.message_builder import (
    ACTION_MESSAGE_DETAILS,
    ACTION_MESSAGE_REFRESH,
    ACTION_MESSAGE_SHARE,
    REQUIRED_RESOURCES,
)
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, sample_message
from tests.handlers.blocks.limits import assert_no_foreign_markup, assert_within_slack_limits
from tests.scenario.conftest import WORKSPACE_ID, BotFactory, BotUnderTest, Reply

PROD = "0b7c2a9e-1d4f-4e6a-8b3c-5d2e1f0a9b8c"
STAGING = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
PROD_KEY = "prod-key-0123456789"
STAGING_KEY = "staging-key-9876543210"
PHONE = "+31612345678"
BODY_TEXT = "Your one-time code is 837261"
REFERENCE = "order-4711-secret"

CONFIG = f"""
[[workspace]]
id = "{PROD}"
aliases = ["prod", "production"]
access_key_env = "BIRD_KEY_PROD"
channels = ["C0ONCALL"]

[[workspace]]
id = "{STAGING}"
aliases = ["staging"]
access_key_env = "BIRD_KEY_STAGING"
allowed_users = ["U0CAROL"]
"""
ENVIRON = {"BIRD_KEY_PROD": PROD_KEY, "BIRD_KEY_STAGING": STAGING_KEY}


# --- helpers ---------------------------------------------------------------------------------


def rendered(payload: dict[str, Any]) -> str:
    """Everything in a payload a person could read (and button values, which are harmless here)."""
    return json.dumps({"blocks": payload.get("blocks", []), "text": payload.get("text", "")}, ensure_ascii=False)


def buttons(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = [e for b in payload.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]
    found += [b["accessory"] for b in payload.get("blocks", []) if "accessory" in b]
    return {element["action_id"]: element for element in found}


def field_texts(payload: dict[str, Any]) -> dict[str, str]:
    """The facts section as {label: value}."""
    (facts,) = [b for b in payload["blocks"] if b["type"] == "section" and "fields" in b]
    pairs = (item["text"].split("\n", 1) for item in facts["fields"])
    return {label.strip("*"): value for label, value in pairs}


def message_with(status: str = "delivery_failed", **fields: Any) -> dict[str, Any]:
    """An SMS to PHONE (failed unless ``status`` says otherwise) with a body and a reference that
    must stay private; ``fields`` override any key."""
    base = sample_message(
        status=status,
        receiver={"contacts": [{"id": str(uuid.uuid4()), "identifierKey": "phonenumber", "identifierValue": PHONE}]},
        body={"type": "text", "text": {"text": BODY_TEXT}},
        reference=REFERENCE,
    )
    return base | fields


def assert_private(payload: dict[str, Any]) -> None:
    text = rendered(payload)
    assert PHONE not in text
    assert "612345678" not in text  # no run of the middle digits either
    assert BODY_TEXT not in text
    assert "837261" not in text
    assert REFERENCE not in text


def assert_ephemeral(reply: Reply) -> None:
    assert reply.status == 200
    assert reply.body.get("response_type", "ephemeral") == "ephemeral"


def assert_valid(payload: dict[str, Any], *, mention: str | None = None) -> None:
    payload = {k: v for k, v in payload.items() if k in ("blocks", "text")}
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload, mention=mention)


async def answer_of(bot: BotUnderTest, command_text: str, *, user: str = "U0ALICE", channel: str = "C0ONCALL") -> Any:
    """Run /message; return the ack and the response_url post that replaced it."""
    before = len(bot.slack.of("response_url"))
    ack = await bot.command("/message", command_text, user=user, channel=channel)
    assert_ephemeral(ack)
    assert "Looking up message" in ack.body["text"], ack.body
    posts = await bot.slack.wait_for("response_url", before + 1)
    await bot.settle()
    assert len(bot.slack.of("response_url")) == before + 1, "exactly one answer per command"
    answer = posts[before]
    assert answer["_token"] == "command"
    assert answer["replace_original"] is True
    assert answer.get("response_type", "ephemeral") == "ephemeral"
    assert_valid(answer)
    return ack, answer


async def click(
    bot: BotUnderTest, action_id: str, value: str, *, user: str = "U0ALICE", expect_posts: int = 1
) -> list[dict[str, Any]]:
    """Press a button; return the response_url posts it caused."""
    before = len(bot.slack.of("response_url"))
    reply = await bot.action(action_id, value, user=user)
    assert reply.status == 200
    await bot.slack.wait_for("response_url", before + expect_posts)
    await bot.settle()
    new = bot.slack.of("response_url")[before:]
    assert len(new) == expect_posts, new
    for post in new:
        assert post["_token"] == "action"
    return new


async def refused_without_request(bot: BotUnderTest, bird: FakeBird, text: str, *, user: str = "U0ALICE") -> str:
    """The command is answered in the ack itself, privately, and Bird sees nothing."""
    ack = await bot.command("/message", text, user=user)
    assert_ephemeral(ack)
    assert_valid(ack.body)
    assert "Looking up" not in ack.body["text"]
    await bot.settle()
    assert bird.count() == 0, bird.requests
    assert bot.slack.of("response_url") == []
    return str(ack.body["text"])


class RecordedSleeps:
    """The BirdClient's retry sleep: records each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def client_for(bird: FakeBird, **options: Any) -> BirdClient:
    return BirdClient(base_url=bird.url, **options)


@pytest.fixture
async def config_bot(make_bot: BotFactory, fake_bird: FakeBird) -> BotUnderTest:
    """Two workspaces from a config file, each with its own key; prod is #oncall's default."""
    fake_bird.set_access_key(PROD, PROD_KEY)
    fake_bird.set_access_key(STAGING, STAGING_KEY)
    return await make_bot(bird=fake_bird, environ=ENVIRON, config=CONFIG)


@pytest.fixture
def stored(fake_bird: FakeBird) -> tuple[str, dict[str, Any]]:
    """A failed message in the default workspace: (channel id, message)."""
    channel = fake_bird.add_channel(WORKSPACE_ID)
    return channel, fake_bird.add_message(WORKSPACE_ID, channel, message_with())


# --- command forms -----------------------------------------------------------------------------


async def test_default_workspace_form_acks_at_once_then_replaces_the_note(
    bird_bot: BotUnderTest, fake_bird: FakeBird, stored: tuple[str, dict[str, Any]]
) -> None:
    channel, message = stored
    fake_bird.latency = 0.5
    started = time.perf_counter()
    ack = await bird_bot.command("/message", message["id"])
    acked_after = time.perf_counter() - started

    # The ack went out before Bird answered (listing channels, then reading the message: 2 x 0.5 s),
    # and nothing has replaced it yet.
    assert acked_after < 1.0
    assert bird_bot.slack.of("response_url") == []
    assert_ephemeral(ack)
    assert_valid(ack.body)
    assert f"Looking up message `{message['id']}`" in ack.body["blocks"][0]["text"]["text"]

    (answer,) = await bird_bot.slack.wait_for("response_url")
    assert answer["replace_original"] is True
    assert answer["blocks"][0]["text"]["text"] == "Message delivery_failed"
    # Searched the default workspace's channels: the answer names the channel that holds it.
    assert field_texts(answer)["Channel"] == f"`{channel}`\nsms-messagebird"
    assert fake_bird.count(FakeBird.channels_path(WORKSPACE_ID)) >= 1


async def test_workspace_alias_id_and_channel_forms(config_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    channel = fake_bird.add_channel(PROD)
    message = fake_bird.add_message(PROD, channel, message_with())
    path = FakeBird.message_path(PROD, channel, message["id"])
    forms = [
        f"prod {message['id']}",
        f"PRODUCTION {message['id'].upper()}",
        f"{PROD} {message['id']}",
        f"{PROD.upper()} {message['id'].replace('-', '')}",
        f"prod {channel} {message['id']}",
        f"<{message['id']}>",  # Slack-ish wrapping is tolerated
        message["id"],  # #oncall's default workspace is prod
    ]
    for number, text in enumerate(forms, 1):
        _, answer = await answer_of(config_bot, text, channel="C0ONCALL")
        assert "Message delivery_failed" in rendered(answer), text
        assert field_texts(answer)["Workspace"] == "prod", text
        assert len(config_bot.slack.of("response_url")) == number
    # Every request carried prod's own key, and the id went into the URL in canonical form.
    assert {r.headers["Authorization"] for r in fake_bird.request_log} == {f"AccessKey {PROD_KEY}"}
    assert fake_bird.requests[path] == 1  # the rest came from the cache


async def test_workspace_and_channel_form_reads_the_message_directly(
    bird_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())

    _, answer = await answer_of(bird_bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    assert "Message delivery_failed" in rendered(answer)
    assert fake_bird.count(FakeBird.channels_path(WORKSPACE_ID) + "?") == 0
    assert list(fake_bird.requests) == [FakeBird.message_path(WORKSPACE_ID, channel, message["id"])]
    (request,) = fake_bird.request_log
    assert request.headers["Authorization"] == f"AccessKey {DEFAULT_ACCESS_KEY}"


async def test_each_workspace_uses_its_own_key(config_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    staging_channel = fake_bird.add_channel(STAGING)
    staged = fake_bird.add_message(STAGING, staging_channel, message_with(status="delivered"))

    _, answer = await answer_of(config_bot, f"staging {staging_channel} {staged['id']}", user="U0CAROL")

    assert "Delivered" in rendered(answer)
    assert [r.headers["Authorization"] for r in fake_bird.request_log] == [f"AccessKey {STAGING_KEY}"]


async def test_no_default_workspace_is_a_clear_answer_without_a_request(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    bot = await make_bot(bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY)

    text = await refused_without_request(bot, fake_bird, str(uuid.uuid4()))

    assert "no default Bird workspace" in text
    assert "/message &lt;workspace&gt; &lt;message-id&gt;" in text


async def test_channel_default_comes_from_the_config_file(config_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    # #random has no default in the file, and the file sets no BIRD_WORKSPACE_ID.
    ack = await config_bot.command("/message", str(uuid.uuid4()), channel="C0RANDOM")
    assert_ephemeral(ack)
    assert "no default Bird workspace" in ack.body["text"]
    await config_bot.settle()
    assert fake_bird.count() == 0


async def test_unknown_workspace_gets_a_clear_answer_without_a_request(
    config_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    message_id = str(uuid.uuid4())
    for workspace in ("nope", str(uuid.uuid4())):  # an unknown alias, and an id not in the file
        text = await refused_without_request(config_bot, fake_bird, f"{workspace} {message_id}")
        assert f"I don't know a Bird workspace called `{workspace}`" in text


async def test_a_workspace_id_is_never_invented_from_what_was_typed(
    bird_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    # With BIRD_ACCESS_KEY alone any workspace id may be queried, but only one the user typed.
    for workspace in ("1111111_" + "1" * 24, "a" * 31 + "_"):
        text = await refused_without_request(bird_bot, fake_bird, f"{workspace} {uuid.uuid4()}")
        assert f"I don't know a Bird workspace called `{workspace}`" in text


async def test_not_configured_says_how_to_configure(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await make_bot(bird=fake_bird)

    text = await refused_without_request(bot, fake_bird, f"{WORKSPACE_ID} {uuid.uuid4()}")

    assert "no Bird access key" in text
    assert "BIRD_ACCESS_KEY" in text
    assert "BIRDWATCH_CONFIG" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "Usage: `/message"),
        ("help", "Usage: `/message"),
        ("prod not-a-uuid", "`not-a-uuid` is not a message id"),
        ("prod ../../channels 1234", "`1234` is not a message id"),
        (f"prod ../channels {uuid.uuid4()}", "`../channels` is not a channel id"),
        (f"pr/od {uuid.uuid4()}", "`pr/od` is not a workspace id or alias"),
        (f"prod {uuid.uuid4()} {uuid.uuid4()} extra", "That is 4 words"),
        ("3fa85f64-5717-4562-b3fc-2c963f66afa", "is not a message id"),  # one digit short
        ("3fa85f64-5717-4562-b3fc-2c963f66afa6?x=1", "is not a message id"),
        # What uuid.UUID alone would turn into an id nobody typed:
        ("+" + "1" * 31, "is not a message id"),
        ("1111111_" + "1" * 24, "is not a message id"),
        ("٣" * 32, "is not a message id"),
        ("urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6", "is not a message id"),
    ],
)
async def test_invalid_input_is_refused_before_any_request(
    config_bot: BotUnderTest, fake_bird: FakeBird, text: str, expected: str
) -> None:
    answer = await refused_without_request(config_bot, fake_bird, text)
    assert expected in answer


async def test_refused_user_gets_a_private_answer_and_bird_sees_nothing(
    config_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    channel = fake_bird.add_channel(STAGING)
    message = fake_bird.add_message(STAGING, channel, message_with())

    for text in (f"staging {message['id']}", f"{STAGING} {channel} {message['id']}"):
        answer = await refused_without_request(config_bot, fake_bird, text, user="U0ALICE")
        assert "You are not allowed to query the Bird workspace *staging*" in answer


# --- what an answer says -----------------------------------------------------------------------


async def test_failed_message_answer_explains_everything_and_hides_customer_data(
    bird_bot: BotUnderTest, stored: tuple[str, dict[str, Any]]
) -> None:
    channel, message = stored
    _, answer = await answer_of(bird_bot, message["id"])
    text = rendered(answer)

    assert answer["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Message delivery_failed", "emoji": True},
    }
    facts = field_texts(answer)
    assert facts["Status"] == "`delivery_failed`\nFailed after the platform took it"
    # The channel and its platform, as Bird's channel list names it.
    assert facts["Channel"] == f"`{channel}`\nsms-messagebird"
    assert facts["Direction"] == "outgoing"
    assert facts["Created"] == "2024-05-01 10:00:00 UTC"
    assert facts["Last status"] == "2024-05-01 10:00:05 UTC"
    assert facts["Time to failure"] == "5.0 s"
    assert facts["Receiver"] == "+31 6•••• 5678"
    for expected in (
        "Failed after the platform took it",  # the status in plain words
        "15005 UNKNOWN_SUBSCRIBER",  # the catalog's explanation of failure.code
        "The platform does not know the recipient",
        "What to do now",
        "*Source:* `sms-messagebird`",
        "*Platform code 1*",  # failure.source.code, resolved in its table
        "EC_UNKNOWN_SUBSCRIBER",
        "*Reason from the platform*",  # the parsed reason
        "• details: `unknown subscriber`",
        "• reason: `unknown_subscriber`",
        "• code: `1`",
        "Receiver masked, body hidden",
    ):
        assert expected in text, expected
    assert "Failure 15005 UNKNOWN_SUBSCRIBER" in answer["text"]
    assert_private(answer)
    assert set(buttons(answer)) == {ACTION_MESSAGE_SHARE, ACTION_MESSAGE_REFRESH, ACTION_MORE, ACTION_MESSAGE_DETAILS}
    # Buttons are pinned to the channel the search found.
    assert json.loads(buttons(answer)[ACTION_MESSAGE_REFRESH]["value"]) == {
        "w": WORKSPACE_ID,
        "c": channel,
        "m": message["id"],
    }


async def test_sending_failed_and_other_receivers_are_masked(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    contacts = [
        {"identifierKey": "emailaddress", "identifierValue": "jane.doe@example.com"},
        {"identifierKey": "phonenumber", "identifierValue": "+44 7700 900123"},
        {"platformAddress": "whatsapp-user-0042-xyz"},
        {"identifierKey": "phonenumber", "identifierValue": "+15550001111"},
        {"identifierKey": "phonenumber", "identifierValue": "+15550002222"},
    ]
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(
        WORKSPACE_ID,
        channel,
        message_with(
            status="sending_failed",
            receiver={"contacts": contacts},
            failure={"code": 11003, "source": {"name": "pre-processing"}},
            reason=None,
            details=None,
            lastStatusAt="2024-05-01T10:03:00.000Z",
        ),
    )

    _, answer = await answer_of(bird_bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    facts = field_texts(answer)
    assert facts["Status"] == "`sending_failed`\nFailed before reaching the platform"
    assert facts["Receiver"] == "j•••@example.com, +44 7•••• 0123, wh••••yz and 2 more"
    assert facts["Time to failure"] == "3 min"
    text = rendered(answer)
    for secret in ("jane.doe", "7700 900", "user-0042", "5550001111", "5550002222"):
        assert secret not in text
    assert "Failed before reaching the platform" in text
    assert "11003" in text
    assert "*Reason from the platform*" not in text  # there was none


async def test_delivered_message_is_said_plainly(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with(status="delivered"))

    _, answer = await answer_of(bird_bot, message["id"])

    text = rendered(answer)
    assert answer["blocks"][0]["text"]["text"] == "Message delivered"
    assert "*Delivered.* The platform confirmed delivery; there is no failure to explain." in text
    assert "Time to failure" not in text
    assert "Likely causes" not in text
    assert ACTION_MORE not in buttons(answer)
    assert_private(answer)


@pytest.mark.parametrize("status", ["accepted", "processing", "scheduled", "sent"])
async def test_in_progress_message_says_so_and_points_to_refresh(
    bird_bot: BotUnderTest, fake_bird: FakeBird, status: str
) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with(status=status))

    _, answer = await answer_of(bird_bot, message["id"])

    text = rendered(answer)
    assert f"*Still in progress* (`{status}`)" in text
    assert "Press *Refresh* later" in text
    assert "Time to failure" not in text
    assert ACTION_MESSAGE_REFRESH in buttons(answer)


async def test_unknown_code_source_and_status_still_get_an_answer(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    failed = fake_bird.add_message(
        WORKSPACE_ID,
        channel,
        message_with(
            failure={"code": 15099, "source": {"name": "carrier-pigeon", "code": "X-77"}},
            reason="the bird got lost over the North Sea",
            details=None,
        ),
    )
    odd = fake_bird.add_message(WORKSPACE_ID, channel, message_with(status="teleported", failure=None, reason=None))

    _, answer = await answer_of(bird_bot, failed["id"])
    text = rendered(answer)
    assert "*Failure code 15099* is not in the catalog" in text
    assert "15XXX" in text  # the family its digits imply
    assert "*Source:* `carrier-pigeon`" in text
    assert "*Platform code:* `X-77`" in text
    assert "the bird got lost over the North Sea" in text  # free text kept whole
    assert "Not in the catalog: failure code 15099, source carrier-pigeon" in text
    assert "Failure code 15099 (not in the catalog)" in answer["text"]
    assert ACTION_MORE not in buttons(answer)  # nothing to explain further

    _, answer = await answer_of(bird_bot, odd["id"])
    text = rendered(answer)
    assert "Status `teleported` is not one birdwatch knows" in text
    assert "`teleported`" in field_texts(answer)["Status"]


async def test_stored_markup_never_reaches_slack_unescaped(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    evil = "<!channel> <!here|here> <@U0EVIL> <https://evil.example|click me>"
    channel = fake_bird.add_channel(WORKSPACE_ID)
    structured = fake_bird.add_message(
        WORKSPACE_ID,
        channel,
        message_with(
            reason=f"details: {evil}; reason: <!channel>; code: <https://evil|x>; hint: {evil}",
            details=evil,
            failure={"code": 15005, "source": {"name": "<!channel>", "code": "<https://evil|x>"}},
            direction="<!everyone>",
            receiver={"contacts": [{"identifierKey": "emailaddress", "identifierValue": "<!channel>@evil.example"}]},
            body={"type": "text", "text": {"text": evil + " ```<!channel>```"}},
            reference="<https://evil|ref>",
        ),
    )
    free_text = fake_bird.add_message(WORKSPACE_ID, channel, message_with(reason=evil, details=None))
    odd_status = fake_bird.add_message(WORKSPACE_ID, channel, message_with(status=evil, failure=None, reason=None))
    fake_bird.fail_next(403, body={"code": "<!channel>", "message": "<https://evil.example|x> &"})

    payloads: list[dict[str, Any]] = []
    # A Bird error whose body carries markup.
    payloads.append((await answer_of(bird_bot, f"{WORKSPACE_ID} {channel} {uuid.uuid4()}"))[1])
    for stored_message in (structured, free_text, odd_status):
        ack, answer = await answer_of(bird_bot, f"{WORKSPACE_ID} {channel} {stored_message['id']}")
        payloads += [ack.body, answer]
        value = buttons(answer)[ACTION_MESSAGE_DETAILS]["value"]
        payloads += await click(bird_bot, ACTION_MESSAGE_DETAILS, value)
        shared = await click(bird_bot, ACTION_MESSAGE_SHARE, value)
        for post in shared:
            assert_valid(post, mention="U0ALICE")
    # The user's own text, echoed in a refusal.
    refusal = await bird_bot.command("/message", "x<!channel>y <https://evil|x>")
    payloads.append(refusal.body)

    assert "&lt;!channel&gt;" in "".join(rendered(p) for p in payloads)  # shown, but inert
    assert "Message with an unrecognised status" in "".join(rendered(p) for p in payloads)
    for payload in payloads:
        assert_valid(payload)
        assert "<!" not in rendered(payload)
        assert "<https://evil" not in rendered(payload)
        assert "<@U0EVIL>" not in rendered(payload)


# --- Bird errors -------------------------------------------------------------------------------


async def test_unauthorized_key_is_named_and_not_retried(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await make_bot(bird=fake_bird, bird_access_key="wrong-key", bird_workspace_id=WORKSPACE_ID)
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    text = rendered(answer)
    assert "Bird rejected the access key" in text
    assert "(401)" in text
    assert "wrong-key" not in text
    assert fake_bird.count() == 1
    assert buttons(answer) == {}


async def test_forbidden_lists_the_resources_the_key_needs(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    fake_bird.fail_next(403)

    _, answer = await answer_of(bird_bot, str(uuid.uuid4()))

    text = rendered(answer)
    assert "may not read messages (403)" in text
    for resource in REQUIRED_RESOURCES:
        assert f"`{resource}`" in text
    assert "/workspaces/*/channels/*/messages/*" in text
    assert "Bird said: `Forbidden: User has no access to the requested resource`" in text
    assert fake_bird.count() == 1


async def test_not_found_says_what_to_check(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    missing = str(uuid.uuid4())

    _, with_channel = await answer_of(bird_bot, f"{WORKSPACE_ID} {channel} {missing}")
    _, searched = await answer_of(bird_bot, missing)

    assert f"No message `{missing}`" in rendered(with_channel)
    assert "(404). Check the message id, the workspace, and the channel id." in rendered(with_channel)
    assert "(404). Check the message id, the workspace." in rendered(searched)
    assert "no channel of this workspace holds the message" in rendered(searched)
    assert buttons(with_channel) == {}


async def test_rate_limited_with_retry_after_retries_then_says_so(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    sleeps = RecordedSleeps()
    bot = await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_workspace_id=WORKSPACE_ID,
        bird_client=client_for(fake_bird, sleep=sleeps),
    )
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    fake_bird.fail_next(429, times=10, retry_after=0.05)

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    assert "rate-limiting requests" in rendered(answer)
    assert "(429). birdwatch retried and gave up" in rendered(answer)
    assert fake_bird.count() == 4  # the first attempt and three retries
    assert sleeps.waits == [0.05, 0.05, 0.05]  # Bird's Retry-After, honoured
    retry = buttons(answer)[ACTION_MESSAGE_REFRESH]

    # Once Bird lets requests through again, Retry gets the answer.
    fake_bird.clear_faults()
    (post,) = await click(bot, ACTION_MESSAGE_REFRESH, retry["value"])
    assert post["replace_original"] is True
    assert "Message delivery_failed" in rendered(post)


async def test_rate_limited_without_retry_after_backs_off(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    sleeps = RecordedSleeps()
    client = client_for(fake_bird, sleep=sleeps, rng=lambda: 1.0)
    bot = await make_bot(bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_client=client)
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    fake_bird.fail_next(429, times=10)

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    assert "(429). birdwatch retried and gave up" in rendered(answer)
    assert fake_bird.count() == 4
    assert sleeps.waits == [0.25, 0.5, 1.0]  # exponential backoff (jitter pinned to its maximum)


async def test_rate_limited_briefly_is_invisible_to_the_user(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_workspace_id=WORKSPACE_ID,
        bird_client=client_for(fake_bird, sleep=RecordedSleeps()),
    )
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    fake_bird.fail_next(429, times=2, retry_after=0.01)

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    assert "Message delivery_failed" in rendered(answer)
    assert fake_bird.count() == 3


async def test_retry_after_beyond_the_time_budget_answers_at_once(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    sleeps = RecordedSleeps()
    bot = await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_client=client_for(fake_bird, sleep=sleeps, total_timeout=2.0),
    )
    fake_bird.fail_next(429, times=10, retry_after=30)

    started = time.perf_counter()
    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {uuid.uuid4()} {uuid.uuid4()}")

    assert time.perf_counter() - started < 1.5
    assert "(429). birdwatch retried and gave up" in rendered(answer)
    assert fake_bird.count() == 1
    assert sleeps.waits == []


@pytest.mark.parametrize("statuses", [[500], [503], [500, 503], [502, 503, 500]])
async def test_server_errors_are_retried_until_bird_answers(
    make_bot: BotFactory, fake_bird: FakeBird, statuses: list[int]
) -> None:
    sleeps = RecordedSleeps()
    bot = await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_workspace_id=WORKSPACE_ID,
        bird_client=client_for(fake_bird, sleep=sleeps),
    )
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    for status in statuses:
        fake_bird.fail_next(status)

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    assert "Message delivery_failed" in rendered(answer)
    assert fake_bird.count() == len(statuses) + 1
    assert len(sleeps.waits) == len(statuses)
    assert all(0 <= wait <= 2.0 for wait in sleeps.waits)


async def test_bird_unavailable_gives_up_with_a_retry_button(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_client=client_for(fake_bird, sleep=RecordedSleeps()),
    )
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    fake_bird.fail_next(503, times=10)

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")

    assert "Bird is not available right now" in rendered(answer)
    assert "(HTTP 503). birdwatch retried and gave up." in rendered(answer)
    assert fake_bird.count() == 4
    retry = buttons(answer)[ACTION_MESSAGE_REFRESH]
    assert json.loads(retry["value"]) == {"w": WORKSPACE_ID, "c": channel, "m": message["id"]}

    fake_bird.clear_faults()
    (post,) = await click(bot, ACTION_MESSAGE_REFRESH, retry["value"])
    assert "Message delivery_failed" in rendered(post)


async def test_connection_refused_is_unavailable(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    client = BirdClient(base_url=f"http://127.0.0.1:{closed_port}", sleep=RecordedSleeps())
    bot = await make_bot(bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_client=client)

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {uuid.uuid4()} {uuid.uuid4()}")

    assert "Bird is not available right now for workspace" in rendered(answer)
    assert "ConnectError" in rendered(answer)
    assert ACTION_MESSAGE_REFRESH in buttons(answer)


@pytest.mark.parametrize(
    "garbage",
    [
        None,  # FakeBird's truncated JSON
        {"status": "delivered"},  # no id
        [1, 2, 3],
        {"id": 7, "status": "yesterday-ish"},  # an id that is not text
    ],
)
async def test_malformed_answers_are_explained(
    bird_bot: BotUnderTest, fake_bird: FakeBird, garbage: dict[str, Any] | list[int] | None
) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    if garbage is None:
        fake_bird.malformed_next()
    else:
        fake_bird.fail_next(200, body=garbage)

    _, answer = await answer_of(bird_bot, f"{WORKSPACE_ID} {channel} {uuid.uuid4()}")

    assert "answered for workspace" in rendered(answer)
    assert "with something birdwatch could not read" in rendered(answer)
    assert ACTION_MESSAGE_REFRESH in buttons(answer)
    assert "yesterday-ish" not in rendered(answer)  # field locations only, never input values


async def test_hung_connection_is_answered_within_the_time_budget(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    bot = await make_bot(
        bird=fake_bird,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_workspace_id=WORKSPACE_ID,
        bird_client=client_for(fake_bird, total_timeout=1.0),
    )
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    fake_bird.hang_next(times=10)

    started = time.perf_counter()
    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {channel} {message['id']}")
    elapsed = time.perf_counter() - started

    assert 0.9 <= elapsed < 2.5
    assert "Bird did not answer in time" in rendered(answer)
    assert "no answer within 1 s" in rendered(answer)
    retry = buttons(answer)[ACTION_MESSAGE_REFRESH]

    fake_bird.clear_faults()
    (post,) = await click(bot, ACTION_MESSAGE_REFRESH, retry["value"])
    assert "Message delivery_failed" in rendered(post)


async def test_an_unexpected_crash_still_gets_an_answer(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    class Broken(BirdClient):
        async def get_message(self, *args: Any, **kwargs: Any) -> FoundMessage:
            raise RuntimeError("boom")

    bot = await make_bot(bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_client=Broken(base_url=fake_bird.url))

    _, answer = await answer_of(bot, f"{WORKSPACE_ID} {uuid.uuid4()}")

    assert "Something went wrong while looking up that message" in rendered(answer)
    assert "boom" not in rendered(answer)


# --- search, sharing of work, the cache --------------------------------------------------------


async def test_search_without_a_channel_follows_pages_and_pins_the_channel(make_bot: BotFactory) -> None:
    async with FakeBird(page_size=2) as bird:
        bot = await make_bot(bird=bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_workspace_id=WORKSPACE_ID)
        channels = bird.add_channels(WORKSPACE_ID, 5)
        message = bird.add_message(WORKSPACE_ID, channels[-1], message_with())  # on the last page

        _, answer = await answer_of(bot, message["id"])

        assert field_texts(answer)["Channel"].startswith(f"`{channels[-1]}`")
        assert bird.requests[FakeBird.channels_path(WORKSPACE_ID)] == 3  # pages of 2, 2, 1
        assert bird.requests[FakeBird.message_path(WORKSPACE_ID, channels[-1], message["id"])] == 1
        assert json.loads(buttons(answer)[ACTION_MESSAGE_REFRESH]["value"])["c"] == channels[-1]

        # Refresh reads the pinned channel directly: no new channel listing or probing.
        before = bird.count()
        (post,) = await click(bot, ACTION_MESSAGE_REFRESH, buttons(answer)[ACTION_MESSAGE_REFRESH]["value"])
        assert "Message delivery_failed" in rendered(post)
        assert bird.count() == before + 1


async def test_search_is_bounded_and_a_miss_is_a_clear_404(make_bot: BotFactory, fake_bird: FakeBird) -> None:
    client = client_for(fake_bird, budget=RequestBudget(rate=1000, burst=1000), search_concurrency=3)
    bot = await make_bot(
        bird=fake_bird, bird_access_key=DEFAULT_ACCESS_KEY, bird_workspace_id=WORKSPACE_ID, bird_client=client
    )
    channels = fake_bird.add_channels(WORKSPACE_ID, 12)
    fake_bird.latency = 0.1
    missing = str(uuid.uuid4())

    _, answer = await answer_of(bot, missing)

    assert "(404). Check the message id, the workspace." in rendered(answer)
    for channel in channels:  # every channel was searched...
        assert fake_bird.requests[FakeBird.message_path(WORKSPACE_ID, channel, missing)] == 1
    assert 1 < fake_bird.peak_active <= 3  # ...in parallel, but never more than the bound at once


async def test_twenty_concurrent_identical_commands_make_one_upstream_request(
    bird_bot: BotUnderTest, fake_bird: FakeBird
) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with())
    fake_bird.latency = 1.0  # the first request is still running when the last command arrives

    acks = await asyncio.gather(
        *(bird_bot.command("/message", f"{WORKSPACE_ID} {channel} {message['id']}") for _ in range(20))
    )

    assert all(ack.status == 200 and "Looking up" in ack.body["text"] for ack in acks)
    answers = await bird_bot.slack.wait_for("response_url", 20)
    await bird_bot.settle()
    assert len(answers) == 20
    assert all("Message delivery_failed" in rendered(answer) for answer in answers)
    assert fake_bird.count() == 1
    # All twenty shared the one request in flight; none had to wait for the cache.
    assert not any("cached answer" in rendered(answer) for answer in answers)


async def test_cache_answers_repeats_and_refresh_fetches_again(bird_bot: BotUnderTest, fake_bird: FakeBird) -> None:
    channel = fake_bird.add_channel(WORKSPACE_ID)
    message = fake_bird.add_message(WORKSPACE_ID, channel, message_with(status="sent"))
    path = FakeBird.message_path(WORKSPACE_ID, channel, message["id"])
    command = f"{WORKSPACE_ID} {channel} {message['id']}"

    _, first = await answer_of(bird_bot, command)
    _, second = await answer_of(bird_bot, command)
    assert fake_bird.requests[path] == 1
    assert "cached answer" not in rendered(first)
    assert "cached answer, *Refresh* to fetch again" in rendered(second)

    # Meanwhile the message was delivered; Refresh bypasses the cache and shows it.
    fake_bird.add_message(WORKSPACE_ID, channel, message_with(id=message["id"], status="delivered"))
    (refreshed,) = await click(bird_bot, ACTION_MESSAGE_REFRESH, buttons(second)[ACTION_MESSAGE_REFRESH]["value"])
    assert fake_bird.requests[path] == 2
    assert refreshed["replace_original"] is True
    assert refreshed.get("response_type", "ephemeral") == "ephemeral"
    assert "*Delivered.*" in rendered(refreshed)
    assert "cached answer" not in rendered(refreshed)
    assert_valid(refreshed)

    # And the fresh answer is what the cache now holds.
    _, third = await answer_of(bird_bot, command)
    assert "*Delivered.*" in rendered(third)
    assert fake_bird.requests[path] == 2


# --- buttons -----------------------------------------------------------------------------------


async def test_share_posts_a_redacted_copy_without_buttons(
    bird_bot: BotUnderTest, stored: tuple[str, dict[str, Any]]
) -> None:
    _, message = stored
    _, answer = await answer_of(bird_bot, message["id"])

    (shared,) = await click(
        bird_bot, ACTION_MESSAGE_SHARE, buttons(answer)[ACTION_MESSAGE_SHARE]["value"], user="U0BOB"
    )

    assert shared["response_type"] == "in_channel"
    assert shared["delete_original"] is True
    assert buttons(shared) == {}
    assert_valid(shared, mention="U0BOB")
    assert_private(shared)
    text = rendered(shared)
    assert "Shared by <@U0BOB> · via /message · receiver details hidden" in text
    assert "+31 6•••• 5678" in text
    assert "15005 UNKNOWN_SUBSCRIBER" in text


async def test_explain_code_answers_privately_in_a_new_message(
    bird_bot: BotUnderTest, stored: tuple[str, dict[str, Any]]
) -> None:
    _, message = stored
    _, answer = await answer_of(bird_bot, message["id"])
    explain = buttons(answer)[ACTION_MORE]
    assert explain["text"]["text"] == "Explain 15005"
    requests_before = bird_bot.slack.of("response_url")

    (explained,) = await click(bird_bot, ACTION_MORE, explain["value"])

    assert explained["response_type"] == "ephemeral"
    assert explained["replace_original"] is False
    assert explained["blocks"][0]["text"]["text"] == "15005 UNKNOWN_SUBSCRIBER"
    text = rendered(explained)
    for expected in ("Likely causes", "What to do now", "Don't retry", "Who acts", "docs.bird.com"):
        assert expected in text
    assert_valid(explained)
    assert len(requests_before) == 1


async def test_show_details_reveals_receiver_and_body_to_the_requester_only(
    bird_bot: BotUnderTest, fake_bird: FakeBird, stored: tuple[str, dict[str, Any]]
) -> None:
    _, message = stored
    _, answer = await answer_of(bird_bot, message["id"])

    (revealed,) = await click(bird_bot, ACTION_MESSAGE_DETAILS, buttons(answer)[ACTION_MESSAGE_DETAILS]["value"])

    # Always a new message only the clicker sees: nothing the client sends back decides otherwise.
    assert revealed["replace_original"] is False
    assert revealed["response_type"] == "ephemeral"
    assert "delete_original" not in revealed
    text = rendered(revealed)
    assert field_texts(revealed)["Receiver"] == PHONE
    assert BODY_TEXT in text
    assert REFERENCE in text
    assert "Details (only you can see this)" in text
    assert "shown to you only" in text
    assert ACTION_MESSAGE_DETAILS not in buttons(revealed)  # already shown
    assert_valid(revealed)

    # Sharing from the revealed answer still shares the redacted version.
    (shared,) = await click(bird_bot, ACTION_MESSAGE_SHARE, buttons(revealed)[ACTION_MESSAGE_SHARE]["value"])
    assert shared["response_type"] == "in_channel"
    assert_private(shared)


async def test_show_details_turned_off_is_neither_offered_nor_honoured(
    make_bot: BotFactory, fake_bird: FakeBird
) -> None:
    config = CONFIG.replace("[[workspace]]", "[privacy]\nshow_details = false\n\n[[workspace]]", 1)
    fake_bird.set_access_key(PROD, PROD_KEY)
    bot = await make_bot(bird=fake_bird, environ=ENVIRON, config=config)
    channel = fake_bird.add_channel(PROD)
    message = fake_bird.add_message(PROD, channel, message_with())

    _, answer = await answer_of(bot, f"prod {channel} {message['id']}")
    assert ACTION_MESSAGE_DETAILS not in buttons(answer)
    assert "Show details" not in rendered(answer)
    assert "Receiver masked, body hidden." in rendered(answer)
    requests = fake_bird.count()

    # A crafted click on the button that was not offered.
    value = buttons(answer)[ACTION_MESSAGE_REFRESH]["value"]
    (refused,) = await click(bot, ACTION_MESSAGE_DETAILS, value)

    assert refused["response_type"] == "ephemeral"
    assert refused["replace_original"] is False
    assert "Showing receiver details is turned off" in rendered(refused)
    assert_private(refused)
    assert fake_bird.count() == requests
    assert all(PHONE not in rendered(post) for post in bot.slack.of("response_url"))


@pytest.mark.parametrize("action_id", [ACTION_MESSAGE_SHARE, ACTION_MESSAGE_REFRESH, ACTION_MESSAGE_DETAILS])
async def test_buttons_refuse_users_not_allowed_for_the_workspace(
    config_bot: BotUnderTest, fake_bird: FakeBird, action_id: str
) -> None:
    channel = fake_bird.add_channel(STAGING)
    message = fake_bird.add_message(STAGING, channel, message_with())
    _, answer = await answer_of(config_bot, f"staging {channel} {message['id']}", user="U0CAROL")
    value = buttons(answer)[action_id]["value"]
    requests = fake_bird.count()

    (refused,) = await click(config_bot, action_id, value, user="U0ALICE")

    assert refused["response_type"] == "ephemeral"
    assert refused["replace_original"] is False
    assert "You are not allowed to query the Bird workspace *staging*" in rendered(refused)
    assert_private(refused)
    assert_valid(refused)
    assert fake_bird.count() == requests


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("not json", "That button no longer works"),
        ("", "That button no longer works"),
        ("[]", "That button no longer works"),
        ("null", "That button no longer works"),
        ('{"w": "prod", "m": "1"}', "That button no longer works"),
        (json.dumps({"w": PROD, "m": "../../../channels"}), "That button no longer works"),
        (json.dumps({"w": PROD, "c": "../x", "m": str(uuid.uuid4())}), "That button no longer works"),
        (json.dumps({"w": PROD, "c": 7, "m": str(uuid.uuid4())}), "That button no longer works"),
        (json.dumps({"w": str(uuid.uuid4()), "m": str(uuid.uuid4())}), "That workspace is no longer configured"),
        ("{" * 5000, "That button no longer works"),
        ("[" * 1000, "That button no longer works"),  # nesting deeper than json's recursion limit
    ],
)
async def test_tampered_button_values_get_a_friendly_answer(
    config_bot: BotUnderTest, fake_bird: FakeBird, value: str, expected: str
) -> None:
    for action_id in (ACTION_MESSAGE_SHARE, ACTION_MESSAGE_REFRESH, ACTION_MESSAGE_DETAILS):
        (refused,) = await click(config_bot, action_id, value)
        assert expected in rendered(refused)
        assert refused["response_type"] == "ephemeral"
        assert_valid(refused)
    assert fake_bird.count() == 0
