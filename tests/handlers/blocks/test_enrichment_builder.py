"""thread_reply and mute_notice: the compact reply in an alert's thread, its controls, and the note a mute leaves."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog import Explainer, default_catalog, diagnose_message
from catalog.message import BirdError, FoundMessage, Message
from handlers.blocks.enrichment_builder import (
    ACTION_MUTE,
    ACTION_SHARE_ITEMS,
    MAX_ITEMS,
    MAX_ON_DEMAND_ITEMS,
    MUTE_HOURS,
    CatalogItem,
    Item,
    MessageItem,
    mute_notice,
    thread_reply,
)
from handlers.blocks.failure_builder import ACTION_MORE, asked_by

from .limits import assert_no_foreign_markup, assert_within_slack_limits, rendered_strings

MESSAGE_ID = "0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f"
# Slack's limits for a static_select (Block Kit reference); limits.py knows only buttons.
SELECT_PLACEHOLDER_MAX = 150
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
SELECT_OPTIONS_MAX = 100
NOON = datetime(2024, 11, 14, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture(scope="module")
def explainer() -> Explainer:
    return Explainer(default_catalog())


def item(explainer: Explainer, query: str) -> CatalogItem:
    hit_key = query.replace(" ", ":") if " " in query else query
    return CatalogItem(key=hit_key, query=query, answer=explainer.explain(query))


def found(explainer: Explainer, **fields: Any) -> MessageItem:
    data = {
        "id": MESSAGE_ID,
        "status": "delivery_failed",
        "reason": "details: unknown subscriber; reason: unknown_subscriber; code: 1",
        "failure": {"code": 15005, "source": {"name": "sms-messagebird", "code": "1"}},
        "receiver": {"contacts": [{"identifierKey": "phonenumber", "identifierValue": "+31600000000"}]},
    } | fields
    message = Message.model_validate(data)
    return MessageItem(
        key=MESSAGE_ID,
        message_id=MESSAGE_ID,
        found=FoundMessage(message=message, channel_id="c", from_cache=False),
        diagnosis=diagnose_message(explainer.catalog, message),
    )


def selects(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "static_select"
    ]


def sections(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in payload["blocks"] if b["type"] == "section"]


def contexts(payload: dict[str, Any]) -> list[str]:
    return [e["text"] for b in payload["blocks"] if b["type"] == "context" for e in b["elements"]]


def checked(payload: dict[str, Any], *, mention: str | None = None) -> dict[str, Any]:
    """``payload`` after asserting Slack would accept it and no outside markup got in."""
    for select in selects(payload):
        assert 0 < len(select["action_id"]) <= 255
        assert select["placeholder"]["type"] == "plain_text"
        assert 0 < len(select["placeholder"]["text"]) <= SELECT_PLACEHOLDER_MAX
        assert 0 < len(select["options"]) <= SELECT_OPTIONS_MAX
        for option in select["options"]:
            assert option["text"]["type"] == "plain_text"
            assert 0 < len(option["text"]["text"]) <= OPTION_TEXT_MAX
            assert 0 < len(option["value"]) <= OPTION_VALUE_MAX
    # The shared checker knows buttons only: check the rest of the payload without the menus.
    without_menus = copy.deepcopy(payload)
    for block in without_menus["blocks"]:
        if block["type"] == "actions":
            block["elements"] = [e for e in block["elements"] if e["type"] != "static_select"] or [
                {"type": "button", "text": {"type": "plain_text", "text": "x"}, "action_id": "placeholder"}
            ]
    assert_within_slack_limits(without_menus)
    assert_no_foreign_markup(without_menus, mention=mention)
    return payload


# --- thread_reply -------------------------------------------------------------------------------


def test_one_compact_section_per_code_with_meaning_first_step_and_more(explainer: Explainer) -> None:
    payload = checked(thread_reply([item(explainer, "15011"), item(explainer, "whatsapp 131047")]))

    code, platform = sections(payload)
    spam = default_catalog().codes[15011]
    assert code["text"]["text"] == (f"*15011 INVALID_SPAM*: {spam.meaning}\n*First:* {spam.actions[0]}")
    assert platform["text"]["text"].startswith("*whatsapp 131047: Re-engagement required*: ")
    assert "\n*First:* " in platform["text"]["text"]
    assert [s["accessory"]["action_id"] for s in (code, platform)] == [ACTION_MORE, ACTION_MORE]
    assert [s["accessory"]["value"] for s in (code, platform)] == ["15011", "whatsapp 131047"]
    assert [s["accessory"]["text"]["text"] for s in (code, platform)] == ["More", "More"]
    # Compact: no header, no cause list, no docs link; the full answer is one click away.
    assert not [b for b in payload["blocks"] if b["type"] == "header"]
    assert "Likely causes" not in json.dumps(payload)
    assert payload["text"] == "Bird failure explained: 15011 INVALID_SPAM, whatsapp 131047"


def test_every_shown_code_gets_its_own_mute_menu(explainer: Explainer) -> None:
    payload = checked(thread_reply([item(explainer, "15011"), item(explainer, "whatsapp 131047")]))

    menus = selects(payload)
    assert [m["action_id"] for m in menus] == [f"{ACTION_MUTE}:15011", f"{ACTION_MUTE}:whatsapp:131047"]
    first = menus[0]
    assert first["placeholder"]["text"] == "Mute 15011 here…"
    assert [o["text"]["text"] for o in first["options"]] == ["for 1 h", "for 4 h", "for 24 h"]
    assert [o["value"] for o in first["options"]] == ["15011|1", "15011|4", "15011|24"]
    assert MUTE_HOURS == (1, 4, 24)
    assert payload["blocks"][-1]["type"] == "actions"  # controls come last


def test_message_ids_are_explained_but_cannot_be_muted(explainer: Explainer) -> None:
    payload = checked(thread_reply([item(explainer, "14001"), found(explainer)]))

    code, message = sections(payload)
    assert "accessory" in code
    assert "accessory" not in message
    text = message["text"]["text"]
    assert text.startswith(f"*Message* `{MESSAGE_ID}`: `delivery_failed`. ")
    assert "15005 UNKNOWN_SUBSCRIBER" in text
    assert "\n*First:* " in text
    assert "+31600000000" not in json.dumps(payload)  # never the receiver in a channel
    assert [m["action_id"] for m in selects(payload)] == [f"{ACTION_MUTE}:14001"]
    assert payload["text"].endswith(f"14001 INVALID_BALANCE, message {MESSAGE_ID}")


@pytest.mark.parametrize(
    ("message_item", "expected"),
    [
        (MessageItem(key=MESSAGE_ID, message_id=MESSAGE_ID), "no default Bird workspace for this channel"),
        (
            MessageItem(key=MESSAGE_ID, message_id=MESSAGE_ID, error=BirdError("not_found", status=404)),
            "Bird has no message with this id in this channel's default workspace",
        ),
        (
            MessageItem(key=MESSAGE_ID, message_id=MESSAGE_ID, error=BirdError("timeout")),
            "could not be looked up (Bird API: ",
        ),
        (
            MessageItem(
                key=MESSAGE_ID, message_id=MESSAGE_ID, error=BirdError("unavailable", detail="<!channel> <x|y> & z")
            ),
            "&lt;!channel&gt; &lt;x|y&gt; &amp; z",
        ),
    ],
)
def test_message_ids_that_were_not_found_say_why(message_item: MessageItem, expected: str) -> None:
    payload = checked(thread_reply([message_item]))

    (message,) = sections(payload)
    assert expected in message["text"]["text"]
    assert selects(payload) == []
    assert not [b for b in payload["blocks"] if b["type"] == "actions"]  # nothing to mute, nothing to share


def test_message_that_did_not_fail_says_so(explainer: Explainer) -> None:
    delivered = found(explainer, status="delivered", failure=None, reason=None)
    payload = checked(thread_reply([delivered]))

    (message,) = sections(payload)
    assert message["text"]["text"] == f"*Message* `{MESSAGE_ID}`: `delivered`, not a failure."


def test_an_alert_reply_says_how_many_more_and_where_to_see_them(explainer: Explainer) -> None:
    codes = ["15011", "14001", "15005", "15016", "11001", "12008", "15012"]
    items: list[Item] = [item(explainer, code) for code in codes[:MAX_ITEMS]]

    payload = checked(thread_reply(items, hidden=len(codes) - MAX_ITEMS))

    assert MAX_ITEMS == 5
    assert [s["accessory"]["value"] for s in sections(payload)] == codes[:5]
    assert [c for c in contexts(payload) if c.startswith("+2 more")] == [
        "+2 more not shown: the *Explain failure* shortcut on the alert lists them all."
    ]
    # Only what is shown can be muted.
    assert [m["action_id"] for m in selects(payload)] == [f"{ACTION_MUTE}:{code}" for code in codes[:5]]
    assert "12008" not in payload["text"]
    assert "11001" in payload["text"]


def test_an_answer_someone_asked_for_does_not_send_them_back_to_the_shortcut(explainer: Explainer) -> None:
    items: list[Item] = [item(explainer, "15011")]

    payload = checked(thread_reply(items, hidden=3, automatic=False))

    assert [c for c in contexts(payload) if c.startswith("+3 more")] == ["+3 more not shown."]


@pytest.mark.parametrize("count", [1, 5])
def test_five_or_fewer_items_say_nothing_about_more(explainer: Explainer, count: int) -> None:
    codes = ["15011", "14001", "15005", "15016", "11001"][:count]
    payload = checked(thread_reply([item(explainer, code) for code in codes]))

    assert len(sections(payload)) == count
    assert not [c for c in contexts(payload) if "more not shown" in c]


def test_mute_menus_have_unique_action_ids_for_every_kind_of_key(explainer: Explainer) -> None:
    items: list[Item] = [
        item(explainer, "15011"),
        item(explainer, "whatsapp 131047"),
        item(explainer, "sms-messagebird 34"),
        item(explainer, "sms-messagebird 1"),
        found(explainer),
    ]
    payload = checked(thread_reply(items))

    action_ids = [m["action_id"] for m in selects(payload)]
    assert len(action_ids) == len(set(action_ids)) == 4
    values = [o["value"] for m in selects(payload) for o in m["options"]]
    assert len(values) == len(set(values)) == 12


def test_not_mutable_and_shareable_reply_has_share_and_no_menus(explainer: Explainer) -> None:
    share = {"h": [["code", "15011", "15011"]], "t": "1700000000.000100"}

    payload = checked(thread_reply([item(explainer, "15011")], automatic=False, shareable=share))

    assert selects(payload) == []
    (button,) = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == ACTION_SHARE_ITEMS
    assert button["text"]["text"] == "Share in channel"
    assert json.loads(button["value"]) == share


def test_footer_closes_the_reply_and_a_copy_without_controls_has_no_actions(explainer: Explainer) -> None:
    payload = checked(
        thread_reply([item(explainer, "15011")], automatic=False, footer=asked_by("U0ALICE")), mention="U0ALICE"
    )

    assert payload["blocks"][-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Asked by <@U0ALICE>"}],
    }
    assert not [b for b in payload["blocks"] if b["type"] == "actions"]


def test_twenty_items_with_share_and_menus_stay_within_slack_limits(explainer: Explainer) -> None:
    queries = [str(code) for code in sorted(default_catalog().codes)][:20]
    items: list[Item] = [item(explainer, q) for q in queries]
    share = {"h": [["code", q, q] for q in queries], "t": "1700000000.000100"}

    payload = checked(
        thread_reply(items, automatic=False, shareable=share, footer="Shared by <@U0BOB>"), mention="U0BOB"
    )

    assert len(sections(payload)) == MAX_ON_DEMAND_ITEMS
    elements = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [e["type"] for e in elements] == ["button"]


# --- mute_notice --------------------------------------------------------------------------------


def test_mute_notice_says_who_muted_what_until_when() -> None:
    notice = mute_notice("15011", "U0CAROL", NOON + 3600)

    checked(notice, mention="U0CAROL")
    assert notice["blocks"] == [
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": ":no_bell: `15011` muted in this channel by <@U0CAROL> until 13:00 UTC on Nov 14",
                }
            ],
        }
    ]


def test_mute_notice_escapes_what_came_back_from_the_client() -> None:
    notice = mute_notice("<!channel>", "U1><!here", NOON)

    text = " ".join(rendered_strings(notice))
    assert "<!" not in text
    assert "&lt;!channel&gt;" in text
