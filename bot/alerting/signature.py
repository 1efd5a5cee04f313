"""Bird's webhook signatures (Notifications API, "Verifying a webhook").

Bird sends ``messagebird-signature`` (base64) and ``messagebird-request-timestamp`` (unix seconds).
The signed bytes are ``timestamp + "\\n" + url + "\\n" + sha256(raw body)``, the digest in its raw
32 bytes, and the signature is ``base64(HMAC-SHA256(signing key, those bytes))``. The URL is the one
Bird called, which birdwatch takes from its configuration: behind a proxy the Host header lies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from enum import Enum

SIGNATURE_HEADER = "messagebird-signature"
TIMESTAMP_HEADER = "messagebird-request-timestamp"
REQUEST_ID_HEADER = "messagebird-request-id"
# Bird documents no tolerance; five minutes, like Slack's, refuses replays and allows clock drift.
MAX_AGE_SECONDS = 300
_MAX_SIGNATURE_LENGTH = 200  # a base64 SHA-256 MAC is 44 characters; anything far longer is junk


class Verdict(Enum):
    VALID = "valid"
    STALE = "stale"
    INVALID = "invalid"


def sign(key: str, timestamp: str, url: str, body: bytes) -> str:
    """The signature Bird would send for ``body`` posted to ``url`` at ``timestamp``."""
    return base64.b64encode(_mac(key.encode(), timestamp, url, body)).decode()


def verify(
    signature: str | None,
    timestamp: str | None,
    url: str,
    body: bytes,
    keys: Sequence[bytes],
    now: float,
    max_age: float = MAX_AGE_SECONDS,
) -> tuple[Verdict, int | None]:
    """Check a delivery against every candidate key; the index of the key that signed it when valid."""
    if not signature or not timestamp or len(signature) > _MAX_SIGNATURE_LENGTH:
        return Verdict.INVALID, None
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return Verdict.INVALID, None
    if abs(now - int(timestamp)) > max_age:
        return Verdict.STALE, None
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return Verdict.INVALID, None
    digest = hashlib.sha256(body).digest()
    for index, key in enumerate(keys):
        mac = hmac.new(key, timestamp.encode() + b"\n" + url.encode() + b"\n" + digest, hashlib.sha256).digest()
        if hmac.compare_digest(mac, given):
            return Verdict.VALID, index
    return Verdict.INVALID, None


def _mac(key: bytes, timestamp: str, url: str, body: bytes) -> bytes:
    signed = timestamp.encode() + b"\n" + url.encode() + b"\n" + hashlib.sha256(body).digest()
    return hmac.new(key, signed, hashlib.sha256).digest()
