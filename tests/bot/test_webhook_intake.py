"""Bird's webhook signatures and the lenient reading of deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerting.intake import parse_failure
from bot.alerting.signature import MAX_AGE_SECONDS, Verdict, sign, verify
from tests.fakes.fake_bird import failure_event

URL = "https://birdwatch.example.com/bird/webhooks"
NOW = 1_772_445_600
PROPERTY = settings(max_examples=200, deadline=None)


def documented_verify(sig_b64: str, ts: str, url: str, raw_body: bytes, key: str) -> bool:
    """The check as Bird's documentation writes it (bird-api.md §3.4), as an independent oracle."""
    msg = ts.encode() + b"\n" + url.encode() + b"\n" + hashlib.sha256(raw_body).digest()
    mac = hmac.new(key.encode(), msg, hashlib.sha256).digest()
    return hmac.compare_digest(mac, base64.b64decode(sig_b64))


@PROPERTY
@given(body=st.binary(max_size=2000), key=st.text(min_size=1, max_size=64), offset=st.integers(-300, 300))
def test_a_signed_delivery_verifies_as_bird_documents(body: bytes, key: str, offset: int) -> None:
    timestamp = str(NOW + offset)
    signature = sign(key, timestamp, URL, body)
    assert documented_verify(signature, timestamp, URL, body, key)
    assert verify(signature, timestamp, URL, body, [b"other", key.encode()], NOW) == (Verdict.VALID, 1)


@PROPERTY
@given(body=st.binary(min_size=1, max_size=500), position=st.integers(0, 10_000), flip=st.integers(1, 255))
def test_any_changed_byte_of_the_body_fails(body: bytes, position: int, flip: int) -> None:
    timestamp = str(NOW)
    signature = sign("key", timestamp, URL, body)
    changed = bytearray(body)
    changed[position % len(body)] ^= flip
    assert verify(signature, timestamp, URL, bytes(changed), [b"key"], NOW) == (Verdict.INVALID, None)


def test_url_timestamp_and_key_are_all_signed() -> None:
    body = json.dumps(failure_event()).encode()
    signature = sign("key", str(NOW), URL, body)
    assert verify(signature, str(NOW), URL, body, [b"key"], NOW)[0] is Verdict.VALID
    assert verify(signature, str(NOW), "http://127.0.0.1:3000/bird/webhooks", body, [b"key"], NOW)[0] is Verdict.INVALID
    assert verify(signature, str(NOW - 1), URL, body, [b"key"], NOW)[0] is Verdict.INVALID
    assert verify(signature, str(NOW), URL, body, [b"other"], NOW)[0] is Verdict.INVALID
    assert verify(signature, str(NOW), URL, body, [], NOW)[0] is Verdict.INVALID


def test_stale_or_future_timestamps_are_refused_even_when_signed() -> None:
    body = b"{}"
    for age in (MAX_AGE_SECONDS + 1, -(MAX_AGE_SECONDS + 1), 86_400):
        timestamp = str(NOW - age)
        assert verify(sign("k", timestamp, URL, body), timestamp, URL, body, [b"k"], NOW)[0] is Verdict.STALE
    timestamp = str(NOW - MAX_AGE_SECONDS)
    assert verify(sign("k", timestamp, URL, body), timestamp, URL, body, [b"k"], NOW)[0] is Verdict.VALID


@PROPERTY
@given(signature=st.one_of(st.none(), st.text(max_size=300)), timestamp=st.one_of(st.none(), st.text(max_size=30)))
def test_junk_headers_are_invalid_never_an_exception(signature: str | None, timestamp: str | None) -> None:
    verdict, index = verify(signature, timestamp, URL, b"{}", [b"k"], NOW)
    assert index is None
    assert verdict in (Verdict.INVALID, Verdict.STALE)


# --- reading deliveries ---


def test_a_failure_keeps_what_an_alert_needs_and_no_customer_data() -> None:
    event = failure_event(reason="bounced: jane.doe@example.com said no; +31 6 1234 5678")
    fact = parse_failure(json.dumps(event).encode(), "ws", "req-1", NOW)
    assert fact is not None
    assert (fact.code, fact.source, fact.platform_code, fact.platform) == (15005, "sms-messagebird", "1", "sms")
    assert fact.message_id == event["payload"]["id"]
    assert fact.bird_channel == event["payload"]["channelId"]
    assert fact.request_id == "req-1"
    flat = repr(fact)
    assert "+31600000000" not in flat  # the receiver
    assert "123456" not in flat  # the body
    assert "jane.doe@" not in flat
    assert "1234 5678" not in flat


def test_other_events_statuses_and_shapes_are_ignored() -> None:
    for status in ("accepted", "sent", "delivered", "processing"):
        assert parse_failure(json.dumps(failure_event(status=status)).encode(), "ws", "", NOW) is None
    inbound = failure_event() | {"event": "whatsapp.inbound"}
    assert parse_failure(json.dumps(inbound).encode(), "ws", "", NOW) is None
    for junk in (b"", b"sending_failed", b"[1]", b'{"payload": "sending_failed"}', b'{"payload": {"status": 1}}'):
        assert parse_failure(junk, "ws", "", NOW) is None


def test_odd_but_readable_failures_are_read() -> None:
    event = failure_event()
    event["payload"]["failure"] = {"code": "15011", "source": {"name": "whatsapp", "code": 131026}}
    del event["event"]
    fact = parse_failure(json.dumps(event).encode(), "ws", "", NOW)
    assert fact is not None
    assert (fact.code, fact.platform_code, fact.platform) == (15011, "131026", "whatsapp")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@PROPERTY
@given(payload=st.dictionaries(st.sampled_from(["id", "status", "channelId", "failure", "reason", "x"]), JSON))
def test_any_payload_is_read_or_ignored_never_an_exception(payload: dict[str, Any]) -> None:
    payload["status"] = payload.get("status") if payload.get("status") else "delivery_failed"
    body = json.dumps({"event": "sms.outbound", "payload": payload}).encode()
    fact = parse_failure(body, "ws", "r", NOW)
    if fact is not None:
        assert len(fact.bird_channel) <= 100
        assert fact.code is None or isinstance(fact.code, int)


@PROPERTY
@given(body=st.binary(max_size=500))
def test_any_bytes_are_read_or_ignored(body: bytes) -> None:
    parse_failure(body + b"_failed", "ws", "r", NOW)
