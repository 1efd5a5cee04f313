"""answer_message for what search adds: statuses, Bird message ids, and notes on how a query was read."""

from __future__ import annotations

from typing import Any

import pytest

from catalog import Explainer, default_catalog
from catalog.answers import MessageIdAnswer, PlatformCodeAnswer, StatusAnswer
from handlers.blocks.failure_builder import ACTION_SHARE, answer_message, shareable_query

from .limits import assert_no_foreign_markup, assert_within_slack_limits, rendered_strings

MESSAGE_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
WORKSPACE_ID = "2f1c0a9e-5b8d-4a4e-9c1e-0d3a7b6c5e4f"
CHANNEL_ID = "7d4e2b1a-0c9f-4e8d-b7a6-5f4e3d2c1b0a"


@pytest.fixture(scope="module")
def explainer() -> Explainer:
    return Explainer(default_catalog())


def reply(explainer: Explainer, query: str) -> dict[str, Any]:
    payload = answer_message(explainer.explain(query))
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
    return payload


def all_text(payload: dict[str, Any]) -> str:
    return "\n".join(rendered_strings(payload))


def share_values(payload: dict[str, Any]) -> list[str]:
    return [
        element["value"]
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ACTION_SHARE
    ]


def test_a_failed_status_says_what_it_means_and_where_to_look(explainer: Explainer) -> None:
    answer = explainer.explain("delivery_failed")
    assert isinstance(answer, StatusAnswer)
    payload = reply(explainer, "delivery_failed")
    assert payload["blocks"][0]["text"]["text"] == "Status: delivery_failed"
    text = all_text(payload)
    assert answer.status.plain in text
    assert "is final" in text
    assert "/message &lt;workspace&gt; &lt;message-id&gt;" in text
    assert share_values(payload) == ["delivery_failed"]
    assert shareable_query(answer) == "delivery_failed"
    assert explainer.explain("delivery_failed") == answer


@pytest.mark.parametrize(("status", "state"), [("delivered", "Final"), ("accepted", "In progress")])
def test_a_status_that_did_not_fail_says_whether_it_may_change(explainer: Explainer, status: str, state: str) -> None:
    text = all_text(reply(explainer, status))
    assert state in text
    assert "/message" not in text


def test_a_message_id_points_to_message_with_the_command_to_type(explainer: Explainer) -> None:
    answer = explainer.explain(MESSAGE_ID)
    assert isinstance(answer, MessageIdAnswer)
    payload = reply(explainer, MESSAGE_ID)
    text = all_text(payload)
    assert f"`{MESSAGE_ID}` is a Bird message id" in text
    assert f"```/message &lt;workspace&gt; {MESSAGE_ID}```" in text
    assert f"`/message {MESSAGE_ID}` is enough" in text
    # Nothing to share: the lookup itself is what helps, and it has its own Share button.
    assert share_values(payload) == []
    assert MESSAGE_ID in payload["text"]


def test_a_message_url_gives_the_complete_command(explainer: Explainer) -> None:
    url = f"https://api.bird.com/workspaces/{WORKSPACE_ID}/channels/{CHANNEL_ID}/messages/{MESSAGE_ID}"
    text = all_text(reply(explainer, url))
    assert f"```/message {WORKSPACE_ID} {CHANNEL_ID} {MESSAGE_ID}```" in text
    assert "&lt;workspace&gt;" not in text


def test_a_corrected_query_says_how_it_was_read_under_the_headline(explainer: Explainer) -> None:
    answer = explainer.explain("whatsap 131047")
    assert isinstance(answer, PlatformCodeAnswer)
    payload = reply(explainer, "whatsap 131047")
    assert payload["blocks"][0]["type"] == "header"
    note = payload["blocks"][1]
    assert note["type"] == "context"
    assert note["elements"][0]["text"] == "Read “whatsap” as the source whatsapp."
    # The shared copy is the entry itself, under its proper name.
    assert share_values(payload) == ["whatsapp 131047"]


def test_a_note_never_carries_markup_from_the_query(explainer: Explainer) -> None:
    payload = reply(explainer, "<!channel> 15O11")
    assert "Read “15O11” as 15011." in all_text(payload)
