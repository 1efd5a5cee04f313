"""Property: whatever a signed event request carries, the real app acknowledges it with 200 and never raises.

Other integrations write the messages birdwatch reads, so a message event can hold anything: wrong types
for text, attachments, blocks, ts, channel or subtype, missing fields, deep junk. A non-200 answer makes
Slack redeliver (and eventually disable the subscription); an exception in a listener or a background task
would lose the alert. One bot serves every example; each example checks the log it produced.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fakes.fake_slack import BOT_ID, BOT_USER_ID
from tests.scenario.conftest import BotUnderTest
from tests.slack_requests import signed_headers

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
ALERTS = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(FIXTURES.glob("*.json"))]

# Texts that reach deep into the dispatcher: codes, names, pairs, labelled ids, mentions and markup.
TEXTS = [
    "failure code 15011",
    "INVALID_SPAM",
    "whatsapp 131047",
    "messageId 0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f",
    f"<@{BOT_USER_ID}> 15011",
    f"<@{BOT_USER_ID}|birdwatch> 0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f",
    "<!channel> <https://x.example|15011> &lt;14001&gt;",
    "order 15011 shipped",
    "",
]
EVENT_TYPES = ["message", "app_mention"]
SUBTYPES = [None, "bot_message", "message_changed", "thread_broadcast", "file_share", "message_deleted", "channel_join"]
BLOCK_TYPES = ["section", "header", "context", "rich_text", "rich_text_section", "rich_text_list", "link", "mrkdwn"]

text = st.one_of(st.sampled_from(TEXTS), st.text(max_size=40))
leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text)
anything = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
# Block Kit-shaped junk: the keys the reader walks, with right or wrong types at any depth.
block = st.recursive(
    st.fixed_dictionaries({}, optional={"type": st.sampled_from(BLOCK_TYPES) | anything, "text": text | anything}),
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(BLOCK_TYPES) | anything,
            "text": inner | text,
            "elements": st.lists(inner, max_size=4) | anything,
            "fields": st.lists(inner, max_size=4) | anything,
            "url": text | anything,
        },
    ),
    max_leaves=12,
)
attachment = st.fixed_dictionaries(
    {},
    optional={key: text | anything for key in ("pretext", "title", "text", "fallback", "footer", "author_name")}
    | {
        "fields": st.lists(st.fixed_dictionaries({}, optional={"title": text | anything, "value": text | anything}))
        | anything,
        "blocks": st.lists(block, max_size=3) | anything,
    },
)
identity = st.sampled_from([None, BOT_USER_ID, BOT_ID, "U0ALICE", "B0ALERTS"]) | anything
ts = st.sampled_from(["1700000000.000100", "1700000000.000200", ""]) | anything
message_fields: dict[str, st.SearchStrategy[Any]] = {
    "subtype": st.sampled_from(SUBTYPES) | anything,
    "text": text | anything,
    "attachments": st.lists(attachment, max_size=3) | anything,
    "blocks": st.lists(block, max_size=3) | anything,
    "ts": ts,
    "thread_ts": ts,
    "user": identity,
    "bot_id": identity,
    "bot_profile": anything,
    "channel": st.sampled_from(["C0ONCALL", "C0OTHER", ""]) | anything,
    "edited": anything,
    "hidden": anything,
}
message = st.fixed_dictionaries({}, optional=message_fields)


@st.composite
def events(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["built", "corrupted alert", "edit", "anything"]))
    if kind == "anything":  # not even a message: the whole event is junk of any JSON type
        return draw(anything)
    if kind == "corrupted alert":  # a real alert with some fields swapped for junk or removed
        event = dict(draw(st.sampled_from(ALERTS)))
        for key in draw(st.lists(st.sampled_from(sorted(message_fields)), max_size=4)):
            if draw(st.booleans()):
                event.pop(key, None)
            else:
                event[key] = draw(message_fields[key])
        return event
    event = draw(message)
    event["type"] = draw(st.sampled_from(EVENT_TYPES) | anything)
    if kind == "edit":  # message_changed around a junk message (or junk instead of a message)
        event |= {"subtype": "message_changed", "message": draw(message | anything)}
        if draw(st.booleans()):
            event["previous_message"] = draw(message | anything)
    return event


def envelope(event: Any, event_id: Any) -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": "T0TEAM",
            "api_app_id": "A0BIRDWATCH",
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": 1700000000,
            "authorizations": [{"team_id": "T0TEAM", "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


@settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Shapes that once failed, kept as fixed examples.
@example(event=None, event_id="Ev0NULL0001", retry=None)  # Bolt's middleware: 500
@example(event=["message"], event_id="Ev0LIST0001", retry=None)
@example(event={"type": "reaction_added", "user": "U0ALICE"}, event_id="Ev0OTHER001", retry=None)  # Bolt: 404
@example(event={"type": 5}, event_id="Ev0TYPE0001", retry=None)
@example(event={"type": "message", "channel": 5, "text": "failure 15011"}, event_id="Ev0CHAN0001", retry=None)
@example(event={"type": "message", "user": True, "channel": "C0X"}, event_id="Ev0USER0001", retry="1")
@example(  # an empty channel reached chat.postMessage and failed the reply task
    event={"type": "message", "channel": "", "ts": "1700000000.000100", "text": "failure code 15011"},
    event_id="Ev0EMPTY001",
    retry=None,
)
@example(
    event={"type": "app_mention", "channel": "", "ts": "1700000000.000100", "text": f"<@{BOT_USER_ID}> 15011"},
    event_id="Ev0EMPTY002",
    retry=None,
)
@example(  # an unhashable bot_id failed the own-post check
    event={"type": "message", "bot_id": ["B"], "channel": "C0X", "ts": "1700000000.000100", "text": "code 15011"},
    event_id="Ev0HASH0001",
    retry=None,
)
@given(
    event=events(),
    event_id=st.sampled_from(["Ev0SAME0001", "Ev0SAME0002"]) | st.uuids().map(str) | anything,
    retry=st.sampled_from([None, "1", "2", "3"]),
)
async def test_any_event_is_acknowledged_and_never_raises(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture, event: Any, event_id: Any, retry: str | None
) -> None:
    caplog.clear()
    caplog.set_level(logging.INFO)
    body = envelope(event, event_id)
    headers = signed_headers(body, content_type="application/json")
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}

    reply = await bot.post(body, headers)
    await bot.settle()

    assert reply.status == 200, (reply, body)
    problems = [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR
        or "could not read a message event" in record.getMessage()
        or "background task failed" in record.getMessage()
    ]
    assert not problems, [(r.name, r.getMessage(), r.exc_info) for r in problems]
    assert bot.runtime.tasks.pending == 0


async def test_unreadable_event_is_acknowledged_only_when_slack_signed_it(bot: BotUnderTest) -> None:
    # Bolt cannot even parse this one (a numeric user); birdwatch checks the signature itself.
    body = envelope({"type": "message", "user": 7, "channel": "C0ONCALL", "text": "failure 15011"}, "Ev0UNREAD01")

    forged = await bot.post(body, signed_headers(body, secret="not-the-secret", content_type="application/json"))
    signed = await bot.post(body, signed_headers(body, content_type="application/json"))

    assert forged.status == 401
    assert signed.status == 200
    await bot.settle()
    assert bot.slack.of("chat.postMessage") == []


async def test_event_nobody_listens_to_is_acknowledged_only_when_slack_signed_it(bot: BotUnderTest) -> None:
    for event in ({"type": "reaction_added", "user": "U0ALICE"}, None):
        body = envelope(event, "Ev0NOBODY01")
        forged = await bot.post(body, signed_headers(body, secret="not-the-secret", content_type="application/json"))
        signed = await bot.post(body, signed_headers(body, content_type="application/json"))
        assert (forged.status, signed.status) == (401, 200), event
