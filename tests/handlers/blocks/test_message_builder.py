"""The /message Block Kit: facts, diagnosis, privacy, buttons and errors, all within Slack's limits."""

from __future__ import annotations

import json
import uuid
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog import default_catalog, diagnose_message
from catalog.message import BirdError, FoundMessage, LookupErrorKind, Message
from handlers.blocks.failure_builder import ACTION_MORE
from handlers.blocks.kit import MAX_BUTTON_VALUE, escape
from handlers.blocks.message_builder import (
    ACTION_MESSAGE_DETAILS,
    ACTION_MESSAGE_REFRESH,
    ACTION_MESSAGE_SHARE,
    REQUIRED_RESOURCES,
    MessageRef,
    looking_up,
    lookup_error,
    message_reply,
    refusal,
)
from tests.fakes.fake_bird import sample_message

from .limits import assert_no_foreign_markup, assert_within_slack_limits, rendered_strings

WS = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
CH = "0d3c9f1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
MSG = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
PHONE = "+31612345678"
BODY_TEXT = "Your one-time code is 837261"
REFERENCE = "order-4711-secret"
EVIL = "<!channel> <!here> <@U0EVIL> <https://evil.example|click> & ```"
SECRET = "QZSECRET"
RETRIED_KINDS = {"rate_limited", "unavailable", "timeout", "malformed"}


def a_message(status: str = "delivery_failed", **fields: Any) -> Message:
    data = sample_message(
        MSG,
        CH,
        status=status,
        receiver={"contacts": [{"identifierKey": "phonenumber", "identifierValue": PHONE}]},
        body={"type": "text", "text": {"text": BODY_TEXT}},
        reference=REFERENCE,
    )
    return Message.model_validate(data | fields)


def reply(
    message: Message,
    ref: MessageRef | None = None,
    *,
    channel: str = CH,
    from_cache: bool = False,
    platform: str | None = None,
    sharer: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The reply, checked against Slack's limits and for foreign markup every time."""
    ref = ref or MessageRef(WS, message.id, CH)
    footer = f"Shared by <@{sharer}> · via /message" if sharer else None
    payload = message_reply(
        FoundMessage(message, channel, from_cache, platform),
        diagnose_message(default_catalog(), message),
        ref,
        workspace_label=options.pop("workspace_label", "prod"),
        footer=footer,
        **options,
    )
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload, mention=sharer)
    return payload


def text_of(payload: dict[str, Any]) -> str:
    return "\n".join(rendered_strings(payload))


def buttons(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["action_id"]: e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]}


def facts(payload: dict[str, Any]) -> dict[str, str]:
    (block,) = [b for b in payload["blocks"] if "fields" in b]
    pairs = (f["text"].split("\n", 1) for f in block["fields"])
    return {name: value for name, value in pairs}


def assert_private(payload: dict[str, Any]) -> None:
    text = text_of(payload)
    for secret in (PHONE, "612345678", BODY_TEXT, "837261", REFERENCE):
        assert secret not in text


# --- small replies -----------------------------------------------------------------------------


def test_looking_up_names_the_message_and_the_escaped_workspace() -> None:
    payload = looking_up(MessageRef(WS, MSG), "<!channel> & co")

    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
    assert f"`{MSG}`" in payload["blocks"][0]["text"]["text"]
    assert "*&lt;!channel&gt; &amp; co*" in payload["blocks"][0]["text"]["text"]
    assert payload["text"] == f"Looking up message {MSG}…"
    assert "response_type" not in payload  # ephemeral: Slack's default for an ack


@pytest.mark.parametrize("problem", ["You are not allowed", EVIL, "x" * 10_000, "\x00\u202e"])
def test_refusal_is_one_escaped_warning(problem: str) -> None:
    payload = refusal(problem)

    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
    (block,) = payload["blocks"]
    assert block["text"]["text"].startswith(":warning: ")
    assert buttons(payload) == {}
    if problem == EVIL:
        assert "&lt;!channel&gt;" in block["text"]["text"]


# --- MessageRef --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.uuids(), st.uuids(), st.one_of(st.none(), st.uuids()))
def test_message_ref_round_trips_through_a_button_value(ws: uuid.UUID, msg: uuid.UUID, ch: uuid.UUID | None) -> None:
    ref = MessageRef(str(ws), str(msg), str(ch) if ch else None)

    value = ref.to_value()

    assert len(value) <= MAX_BUTTON_VALUE
    assert MessageRef.from_value(value) == ref


def test_message_ref_canonicalises_ids_from_a_value() -> None:
    value = json.dumps({"w": WS.upper(), "c": CH.replace("-", ""), "m": MSG.upper(), "extra": "ignored"})
    assert MessageRef.from_value(value) == MessageRef(WS, MSG, CH)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "null",
        "[]",
        "42",
        '"' + WS + '"',
        json.dumps([WS, MSG]),
        json.dumps({"w": WS}),
        json.dumps({"m": MSG}),
        json.dumps({"w": WS, "m": "../../../channels"}),
        json.dumps({"w": "prod", "m": MSG}),
        json.dumps({"w": WS, "m": MSG, "c": "../x"}),
        json.dumps({"w": WS, "m": MSG, "c": 1}),
        json.dumps({"w": WS, "m": MSG, "c": [CH]}),
        json.dumps({"w": {"id": WS}, "m": MSG}),
        json.dumps({"w": WS, "m": MSG + "?x=1"}),
        json.dumps({"w": WS, "m": "+" + "1" * 31}),
        json.dumps({"w": WS, "m": "{" + MSG}),
        json.dumps({"w": WS, "m": "٣" * 32}),
        "{" * 10_000,
        "[" * 100_000,  # deeper than json's recursion limit
    ],
)
def test_tampered_button_values_are_rejected(value: str) -> None:
    assert MessageRef.from_value(value) is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_no_button_value_crashes_the_parser(value: str) -> None:
    ref = MessageRef.from_value(value)
    if ref is not None:
        for part in (ref.workspace_id, ref.message_id, ref.channel_id):
            assert part is None or str(uuid.UUID(part)) == part


# --- message_reply -----------------------------------------------------------------------------


def test_failed_message_reply() -> None:
    payload = reply(a_message())

    assert payload["blocks"][0]["text"]["text"] == "Message delivery_failed"
    shown = facts(payload)
    assert shown["*Status*"] == "`delivery_failed`\nFailed after the platform took it"
    assert shown["*Workspace*"] == "prod"
    # The failure came from the SMS platform, and the channel list was not at hand.
    assert shown["*Channel*"] == f"`{CH}`\nSMS platform and carriers"
    assert shown["*Direction*"] == "outgoing"
    assert shown["*Receiver*"] == "+31 6•••• 5678"
    assert shown["*Created*"] == "2024-05-01 10:00:00 UTC"
    assert shown["*Last status*"] == "2024-05-01 10:00:05 UTC"
    assert shown["*Time to failure*"] == "5.0 s"
    text = text_of(payload)
    for expected in (
        "Failed after the platform took it",
        "*15005 UNKNOWN_SUBSCRIBER: Recipient number or account doesn't exist*",
        "*Likely causes*",
        "*What to do now*",
        "*Source:* `sms-messagebird`",
        "*Platform code 1*",
        "*Reason from the platform*",
        "Receiver masked, body hidden. *Show details* reveals them to you only.",
    ):
        assert expected in text
    assert payload["text"] == (
        f"Message {MSG}: delivery_failed. Failure 15005 UNKNOWN_SUBSCRIBER: Recipient number or account doesn't exist"
    )
    assert_private(payload)
    assert list(buttons(payload)) == [ACTION_MESSAGE_SHARE, ACTION_MESSAGE_REFRESH, ACTION_MORE, ACTION_MESSAGE_DETAILS]
    assert buttons(payload)[ACTION_MORE]["value"] == "15005"
    for action_id in (ACTION_MESSAGE_SHARE, ACTION_MESSAGE_REFRESH, ACTION_MESSAGE_DETAILS):
        assert MessageRef.from_value(buttons(payload)[action_id]["value"]) == MessageRef(WS, MSG, CH)


def test_buttons_pin_the_channel_a_search_found() -> None:
    found_in = str(uuid.uuid4())
    payload = reply(a_message(), MessageRef(WS, MSG), channel=found_in)

    assert MessageRef.from_value(buttons(payload)[ACTION_MESSAGE_REFRESH]["value"]) == MessageRef(WS, MSG, found_in)
    assert facts(payload)["*Channel*"].startswith(f"`{found_in}`")


def test_channel_platform_from_birds_channel_list_wins() -> None:
    payload = reply(a_message(), platform="whatsapp")

    assert facts(payload)["*Channel*"] == f"`{CH}`\nwhatsapp"


def test_sending_failed_is_said_in_plain_words() -> None:
    payload = reply(a_message("sending_failed"))
    assert facts(payload)["*Status*"] == "`sending_failed`\nFailed before reaching the platform"
    assert "Failed before reaching the platform" in text_of(payload)


def test_delivered_reply_says_so_and_explains_nothing() -> None:
    payload = reply(a_message("delivered"))

    text = text_of(payload)
    assert payload["blocks"][0]["text"]["text"] == "Message delivered"
    assert "*Delivered.* The platform confirmed delivery; there is no failure to explain." in text
    assert "*Time to failure*" not in facts(payload)
    assert "Likely causes" not in text
    assert ACTION_MORE not in buttons(payload)
    assert payload["text"] == f"Message {MSG}: delivered. "


@pytest.mark.parametrize("status", ["accepted", "processing", "scheduled", "sent"])
def test_in_progress_reply_points_to_refresh(status: str) -> None:
    payload = reply(a_message(status))

    text = text_of(payload)
    assert f"*Still in progress* (`{status}`)" in text
    assert "Press *Refresh* later." in text
    assert ACTION_MESSAGE_REFRESH in buttons(payload)


@pytest.mark.parametrize("status", ["skipped", "deleted"])
def test_other_final_statuses_are_explained_from_the_catalog(status: str) -> None:
    plain = default_catalog().statuses[status].plain
    assert f"*{plain}*: " in text_of(reply(a_message(status)))


def test_a_delivered_message_with_leftover_failure_fields_shows_them() -> None:
    payload = reply(a_message("delivered", failure={"code": 15005, "source": {"name": "sms"}}))
    text = text_of(payload)
    assert "*Delivered.*" in text
    assert "15005 UNKNOWN_SUBSCRIBER" in text


def test_unknown_code_source_and_status_keep_their_raw_values() -> None:
    failed = reply(
        a_message(failure={"code": 15099, "source": {"name": "carrier-pigeon", "code": "X-77"}}, reason="lost at sea")
    )
    text = text_of(failed)
    assert "*Failure code 15099* is not in the catalog. Its digits place it in 15XXX" in text
    assert "*Source:* `carrier-pigeon`" in text
    assert "*Platform code:* `X-77`" in text
    assert "lost at sea" in text
    assert "Not in the catalog: failure code 15099, source carrier-pigeon" in text
    assert ACTION_MORE not in buttons(failed)

    odd = reply(a_message("teleported", failure=None, reason=None, details=None))
    assert odd["blocks"][0]["text"]["text"] == "Message teleported"
    assert "Status `teleported` is not one birdwatch knows" in text_of(odd)

    missing = reply(Message(id=MSG))
    assert missing["blocks"][0]["text"]["text"] == "Message unknown"
    shown = facts(missing)
    assert shown["*Receiver*"] == "none given"
    assert shown["*Created*"] == "unknown"
    assert shown["*Direction*"] == "unknown"


def test_outside_markup_in_the_status_never_reaches_the_plain_text_header() -> None:
    payload = reply(a_message(EVIL))  # reply() checks every rendered string for foreign markup
    assert payload["blocks"][0]["text"]["text"] == "Message with an unrecognised status"
    assert "&lt;!channel&gt;" in facts(payload)["*Status*"]


@pytest.mark.parametrize(
    ("created", "last", "expected"),
    [
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.500Z", "0.5 s"),
        ("2024-05-01T10:00:00Z", "2024-05-01T10:03:00Z", "3 min"),
        ("2024-05-01T10:00:00Z", "2024-05-01T12:30:00Z", "2.5 h"),
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:05Z", "5.0 s"),  # offsets are respected
        ("2024-05-01T10:00:05Z", "2024-05-01T10:00:00Z", None),  # clock skew: no negative time
        ("2024-05-01T10:00:00", "2024-05-01T10:00:05Z", None),  # one without an offset
    ],
)
def test_time_to_failure(created: str, last: str, expected: str | None) -> None:
    payload = reply(a_message(createdAt=created, lastStatusAt=last))
    assert facts(payload).get("*Time to failure*") == expected


def test_receivers_are_masked_by_kind_and_capped() -> None:
    contacts = [
        {"identifierKey": "emailaddress", "identifierValue": "jane.doe@example.com"},
        {"identifierKey": "phonenumber", "identifierValue": "+44 7700 900123"},
        {"platformAddress": "whatsapp-user-0042-xyz"},
        {"id": "contact-id-0099"},
        {"identifierKey": "phonenumber", "identifierValue": "+15550002222"},
    ]
    payload = reply(a_message(receiver={"contacts": contacts}))

    assert facts(payload)["*Receiver*"] == "j•••@example.com, +44 7•••• 0123, wh••••yz and 2 more"
    text = text_of(payload)
    for secret in ("jane.doe", "7700 900", "user-0042", "contact-id", "5550002222"):
        assert secret not in text

    revealed = reply(a_message(receiver={"contacts": contacts}), reveal=True)
    assert facts(revealed)["*Receiver*"] == "jane.doe@example.com, +44 7700 900123, whatsapp-user-0042-xyz and 2 more"


def test_reveal_shows_receiver_body_and_reference_to_the_requester() -> None:
    payload = reply(a_message(), reveal=True)

    text = text_of(payload)
    assert facts(payload)["*Receiver*"] == PHONE
    assert BODY_TEXT in text
    assert f"Reference: `{REFERENCE}`" in text
    assert "*Details (only you can see this)*" in text
    assert "Receiver and body are shown to you only; *Share in channel* shares the redacted version." in text
    assert ACTION_MESSAGE_DETAILS not in buttons(payload)
    assert ACTION_MESSAGE_SHARE in buttons(payload)


def test_reveal_of_a_message_without_body_or_reference() -> None:
    payload = reply(a_message(body=None, reference=None), reveal=True)
    assert "Body: none" in text_of(payload)
    assert "Reference:" not in text_of(payload)


def test_shared_copy_is_redacted_and_has_no_buttons_even_when_asked_to_reveal() -> None:
    payload = reply(a_message(), sharer="U0BOB", reveal=True)

    assert buttons(payload) == {}
    assert_private(payload)
    assert facts(payload)["*Receiver*"] == "+31 6•••• 5678"
    assert payload["blocks"][-1]["elements"][0]["text"] == (
        "Shared by <@U0BOB> · via /message · receiver details hidden"
    )
    assert "15005 UNKNOWN_SUBSCRIBER" in text_of(payload)


def test_details_turned_off_removes_the_button_and_its_promise() -> None:
    payload = reply(a_message(), details_allowed=False)

    assert ACTION_MESSAGE_DETAILS not in buttons(payload)
    assert payload["blocks"][-1]["elements"][0]["text"] == "Receiver masked, body hidden."
    assert "Show details" not in text_of(payload)


def test_cached_answer_says_so() -> None:
    payload = reply(a_message(), from_cache=True)
    assert payload["blocks"][-1]["elements"][0]["text"].endswith(" · cached answer, *Refresh* to fetch again")
    assert "cached" not in text_of(reply(a_message()))


def test_huge_fields_still_fit_slack() -> None:
    huge = "x" * 50_000
    message = a_message(
        reason=f"details: {huge}; reason: {huge}; code: {huge}; " + "; ".join(f"k{i}: {huge}" for i in range(20)),
        details=huge,
        status="delivery_failed",
        direction=huge,
        failure={"code": 15005, "source": {"name": huge, "code": huge}},
        receiver={"contacts": [{"identifierValue": huge}] * 500},
        body={"type": "text", "text": {"text": huge}},
        reference=huge,
    )
    for options in ({}, {"reveal": True}, {"sharer": "U0BOB"}):
        reply(message, **options)  # checks the limits
    reply(a_message(reason=huge * 2))  # unstructured reason


texts = st.text(max_size=120)
markup = st.sampled_from(["<!channel>", "<!here|here>", "<@U0EVIL>", "<https://evil.example|x>", "&", "```", "`"])
outside = st.one_of(st.none(), texts, st.lists(st.one_of(markup, texts), max_size=6).map("".join))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.one_of(outside, st.sampled_from(["delivery_failed", "sending_failed", "delivered", "sent"])),
    reason=outside,
    details=outside,
    direction=outside,
    source=outside,
    platform_code=outside,
    code=st.one_of(st.none(), st.integers(min_value=-(10**6), max_value=10**9)),
    identifiers=st.lists(st.tuples(st.sampled_from([None, "phonenumber", "emailaddress"]), outside), max_size=5),
    body_text=outside,
    reference=outside,
    label=texts.filter(bool),
    reveal=st.booleans(),
    sharer=st.sampled_from([None, "U0BOB"]),
)
@example(
    status=EVIL,
    reason=f"details: {EVIL}; reason: {EVIL}; code: {EVIL}; x: {EVIL}",
    details=EVIL,
    direction=EVIL,
    source=EVIL,
    platform_code=EVIL,
    code=15005,
    identifiers=[("emailaddress", f"{EVIL}@evil.example"), ("phonenumber", EVIL), (None, EVIL)],
    body_text=EVIL,
    reference=EVIL,
    label=EVIL,
    reveal=True,
    sharer=None,
)
def test_any_message_gives_a_valid_reply_without_foreign_markup(
    status: str | None,
    reason: str | None,
    details: str | None,
    direction: str | None,
    source: str | None,
    platform_code: str | None,
    code: int | None,
    identifiers: list[tuple[str | None, str | None]],
    body_text: str | None,
    reference: str | None,
    label: str,
    reveal: bool,
    sharer: str | None,
) -> None:
    message = Message(
        id=MSG,
        status=status,
        reason=reason,
        details=details,
        direction=direction,
        failure={"code": code, "source": {"name": source, "code": platform_code}},
        # Each identifier starts with a marker that must not survive masking.
        receiver={"contacts": [{"identifierKey": k, "identifierValue": SECRET + (v or "")} for k, v in identifiers]},
        body={"type": "text", "text": {"text": body_text}} if body_text is not None else None,
        reference=reference,
    )
    payload = reply(message, reveal=reveal, sharer=sharer, workspace_label=label)  # limits and markup checked

    shown = text_of(payload)
    if identifiers and (sharer is not None or not reveal):
        assert "SECRET" not in shown
    elif identifiers:
        assert escape(SECRET + (identifiers[0][1] or "")) in shown


# --- lookup_error ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", get_args(LookupErrorKind))
@pytest.mark.parametrize("channel", [None, CH])
def test_every_error_kind_is_explained(kind: LookupErrorKind, channel: str | None) -> None:
    ref = MessageRef(WS, MSG, channel)
    payload = lookup_error(BirdError(kind, status=502 if kind == "unavailable" else None, detail=EVIL), ref, "prod")

    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
    text = text_of(payload)
    assert "workspace *prod*" in text
    assert "Bird said: `&lt;!channel&gt;" in text
    assert "*" not in payload["text"]  # the fallback has no mrkdwn emphasis
    if kind in RETRIED_KINDS:
        (retry,) = buttons(payload).values()
        assert retry["action_id"] == ACTION_MESSAGE_REFRESH
        assert retry["text"]["text"] == "Retry"
        assert MessageRef.from_value(retry["value"]) == ref
    else:
        assert buttons(payload) == {}


def test_error_texts_tell_users_what_to_do() -> None:
    def say(kind: LookupErrorKind, channel: str | None = CH, status: int | None = None) -> str:
        return text_of(lookup_error(BirdError(kind, status=status), MessageRef(WS, MSG, channel), "prod"))

    assert "rejected the access key for workspace *prod* (401). Check the key" in say("unauthorized")
    forbidden = say("forbidden")
    assert "may not read messages (403)" in forbidden
    assert "Its access policy needs: " + ", ".join(f"`{r}`" for r in REQUIRED_RESOURCES) in forbidden
    assert f"No message `{MSG}`" in say("not_found")
    assert say("not_found").endswith("Check the message id, the workspace, and the channel id.")
    assert say("not_found", channel=None).endswith("Check the message id, the workspace.")
    assert "(429). birdwatch retried and gave up; try again in a minute." in say("rate_limited")
    assert "not available right now for workspace *prod* (HTTP 503). birdwatch retried" in say(
        "unavailable", status=503
    )
    assert "not available right now for workspace *prod*. birdwatch retried" in say("unavailable")
    assert "did not answer in time" in say("timeout")
    assert "could not read" in say("malformed")
    assert "refused the request for workspace *prod* (HTTP 400)." in say("bad_request", status=400)
    assert "Bird said" not in say("timeout")


def test_error_detail_is_cut_and_escaped() -> None:
    payload = lookup_error(BirdError("unavailable", detail="<" * 5000), MessageRef(WS, MSG), "<b>")
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload)
    assert "&lt;" * 300 in text_of(payload)
    assert "&lt;" * 301 not in text_of(payload)
