"""The Message model: well-formed fields validate as documented; an odd value costs only that field."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from catalog.message import Message


def message(**fields: Any) -> Message:
    return Message.model_validate({"id": "m-1", **fields})


# -- well-formed values keep validating ----------------------------------------------------------


def test_a_documented_message_validates() -> None:
    msg = message(
        channelId="c-1",
        status="delivery_failed",
        reason="details: unknown subscriber; reason: unknown_subscriber; code: 1",
        failure={"code": "15011", "source": {"name": "sms-messagebird", "code": 1}},
        direction="outgoing",
        receiver={"contacts": [{"identifierKey": "phonenumber", "identifierValue": "+31600000000"}]},
        body={"type": "text"},
        createdAt="2024-05-01T10:00:00Z",
        lastStatusAt="2024-05-01T10:00:01.5Z",
    )
    assert msg.status == "delivery_failed"
    assert msg.channel_id == "c-1"
    assert msg.failure is not None
    assert msg.failure.code == 15011  # numeric text becomes an int
    assert msg.failure.source is not None
    assert msg.failure.source.code == "1"  # a number becomes text
    assert msg.failure.source.name == "sms-messagebird"
    assert msg.receiver is not None
    assert msg.receiver.contacts[0].identifier_value == "+31600000000"
    assert msg.body is not None
    assert msg.body.type == "text"
    assert msg.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert msg.last_status_at == datetime(2024, 5, 1, 10, 0, 1, 500000, tzinfo=UTC)


def test_unknown_fields_are_kept() -> None:
    assert message(newField={"a": 1}).model_extra == {"newField": {"a": 1}}


@pytest.mark.parametrize("data", [{}, {"id": None}, {"id": 7}, {"status": "delivered"}])
def test_a_message_without_a_string_id_is_malformed(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Message.model_validate(data)


@pytest.mark.parametrize("data", [None, "m-1", ["m-1"], 3])
def test_a_body_that_is_not_an_object_is_malformed(data: Any) -> None:
    with pytest.raises(ValidationError):
        Message.model_validate(data)


# -- odd values cost only their field ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "read"),
    [
        ({"status": 5}, lambda m: m.status),
        ({"direction": ["x"]}, lambda m: m.direction),
        ({"reason": {"a": 1}}, lambda m: m.reason),
        ({"details": 3.5}, lambda m: m.details),
        ({"channelId": 1}, lambda m: m.channel_id),
        ({"createdAt": "yesterday"}, lambda m: m.created_at),
        ({"updatedAt": []}, lambda m: m.updated_at),
        ({"failure": "oops"}, lambda m: m.failure),
        ({"failure": {"code": "n/a"}}, lambda m: m.failure.code),
        ({"failure": {"code": 1.5}}, lambda m: m.failure.code),
        ({"failure": {"source": {"name": 7}}}, lambda m: m.failure.source.name),
        ({"failure": {"source": {"code": [1]}}}, lambda m: m.failure.source.code),
        ({"failure": {"source": "x"}}, lambda m: m.failure.source),
        ({"sender": {"connector": 5}}, lambda m: m.sender.connector),
        ({"receiver": 5}, lambda m: m.receiver),
        ({"body": 3}, lambda m: m.body),
        ({"body": {"type": 3}}, lambda m: m.body.type),
    ],
)
def test_an_unreadable_value_becomes_none(fields: dict[str, Any], read: Any) -> None:
    msg = message(**{"status": "delivery_failed", **fields})
    assert read(msg) is None
    if "status" not in fields:
        assert msg.status == "delivery_failed"  # the rest of the message is still read


def test_an_unreadable_failure_code_keeps_the_source() -> None:
    msg = message(failure={"code": "n/a", "source": {"name": "whatsapp", "code": "131047"}})
    assert msg.failure is not None
    assert msg.failure.code is None
    assert msg.failure.source is not None
    assert (msg.failure.source.name, msg.failure.source.code) == ("whatsapp", "131047")


@pytest.mark.parametrize("contacts", ["x", 5, None, {"id": "a"}])
def test_contacts_that_are_not_a_list_become_empty(contacts: Any) -> None:
    msg = message(receiver={"contacts": contacts})
    assert msg.receiver is not None
    assert msg.receiver.contacts == []


def test_unreadable_contacts_are_dropped_and_odd_fields_cleared() -> None:
    msg = message(receiver={"contacts": ["x", {"identifierValue": "+31600000000"}, 3, {"id": 9, "type": "sms"}]})
    assert msg.receiver is not None
    assert [(c.identifier_value, c.id, c.type) for c in msg.receiver.contacts] == [
        ("+31600000000", None, None),
        (None, None, "sms"),
    ]


# -- property ------------------------------------------------------------------------------------

# Keys Bird uses at any level, so odd values land on the typed fields, not only on extra ones.
KNOWN_KEYS = [
    "id",
    "channelId",
    "status",
    "reason",
    "details",
    "failure",
    "direction",
    "sender",
    "receiver",
    "body",
    "reference",
    "createdAt",
    "updatedAt",
    "lastStatusAt",
    "code",
    "source",
    "name",
    "contacts",
    "connector",
    "contact",
    "identifierKey",
    "identifierValue",
    "platformAddress",
    "type",
    "channel_id",
    "created_at",
]
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=10))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["2024-05-01T10:00:00Z", "15011", " 7 ", "delivery_failed", "", "n/a"]),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(fields=st.dictionaries(KEYS, JSON, max_size=10), message_id=st.text(max_size=10))
def test_any_json_object_with_a_string_id_validates(fields: dict[str, Any], message_id: str) -> None:
    msg = Message.model_validate({**fields, "id": message_id})
    assert msg.id == message_id
    assert msg.status is None or isinstance(msg.status, str)
    assert msg.failure is None or msg.failure.code is None or isinstance(msg.failure.code, int)
    assert msg.receiver is None or all(contact is not None for contact in msg.receiver.contacts)
