"""``POST /bird/webhooks``: verify, read leniently, queue, answer. Nothing slow happens before the answer.

Bird retries a delivery for 8 hours until it gets a 2xx, so everything that is signed is acknowledged:
other events and statuses cheaply (most never reach the JSON parser), failures after they are queued.
Of a failure only what an alert needs is kept: ids, codes, and the platform's reason with e-mail
addresses and phone numbers masked. Receivers and message bodies are never read into the fact.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from aiohttp import web

from catalog.failure_groups import FAILED_STATUSES, FailureFact
from catalog.redaction import scrub

from .signature import REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, Verdict, verify

WEBHOOK_PATH = "/bird/webhooks"
MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 60
MAX_REASON_LENGTH = 300

logger = logging.getLogger("birdwatch.webhooks")
_COUNTED = b'{"ok":true,"counted":true}'
_IGNORED = b'{"ok":true,"counted":false}'


class FailureSink(Protocol):
    """Where acknowledged failures wait for the alert engine."""

    async def put(self, fact: FailureFact) -> None: ...


@dataclass(frozen=True)
class SigningKey:
    workspace_id: str
    key: bytes


def parse_failure(body: bytes, workspace_id: str, request_id: str, now: float) -> FailureFact | None:
    """The failure a delivery reports, or None for anything else (other events, statuses, junk)."""
    if b"_failed" not in body:  # both failed statuses contain it; everything else skips the parser
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict) or payload.get("status") not in FAILED_STATUSES:
        return None
    event = data.get("event")
    if isinstance(event, str) and not event.endswith(".outbound"):
        return None
    message_id = _text(payload.get("id"), MAX_ID_LENGTH)
    failure = _mapping(payload.get("failure"))
    source = _mapping(failure.get("source"))
    source_name = _text(source.get("name"), MAX_NAME_LENGTH)
    reason = _text(payload.get("reason"), MAX_REASON_LENGTH) or _text(payload.get("details"), MAX_REASON_LENGTH)
    platform = event.partition(".")[0] if isinstance(event, str) and event else None
    return FailureFact(
        workspace_id=workspace_id,
        bird_channel=_text(payload.get("channelId"), MAX_ID_LENGTH) or "unknown",
        platform=_text(platform, MAX_NAME_LENGTH) or source_name or "unknown",
        status=str(payload["status"]),
        message_id=message_id or "",
        code=_code(failure.get("code")),
        source=source_name,
        platform_code=_text(source.get("code"), MAX_NAME_LENGTH),
        reason=_redacted(reason) if reason else None,
        at=now,
        request_id=request_id[:MAX_ID_LENGTH],
    )


@lru_cache(maxsize=4096)
def _redacted(reason: str) -> str:
    """The reason with e-mail addresses and phone numbers masked; a burst repeats the same few reasons."""
    return scrub(" ".join(reason.split()))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text[:limit] if text else None


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 1_000_000 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 6:
        return int(value)
    return None


class WebhookReceiver:
    """The request handler; ``url`` is the public URL Bird calls, as configured."""

    def __init__(
        self,
        url: str,
        keys: Sequence[SigningKey],
        sink: FailureSink,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._keys = list(keys)
        self._raw_keys = [k.key for k in self._keys]
        self._sink = sink
        self._clock = clock
        self.counts: dict[str, int] = {"failures": 0, "ignored": 0, "refused": 0}

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        verdict, index = verify(
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            self.url,
            body,
            self._raw_keys,
            self._clock(),
        )
        if verdict is not Verdict.VALID or index is None:
            self.counts["refused"] += 1
            problem = "stale timestamp" if verdict is Verdict.STALE else "invalid signature"
            return web.json_response({"error": problem}, status=401)
        workspace_id = self._keys[index].workspace_id
        fact = parse_failure(body, workspace_id, _request_id(request.headers), self._clock())
        if fact is None:
            self.counts["ignored"] += 1
            return web.Response(body=_IGNORED, content_type="application/json")
        try:
            await self._sink.put(fact)
        except Exception:
            # Not queued, so not acknowledged: Bird delivers it again later. The store logs its own
            # outage once; a line per refused delivery would flood the log.
            logger.debug("a failure could not be queued; Bird will retry it", exc_info=True)
            return web.json_response({"error": "try again later"}, status=503)
        self.counts["failures"] += 1
        return web.Response(body=_COUNTED, content_type="application/json")


def _request_id(headers: Mapping[str, str]) -> str:
    return headers.get(REQUEST_ID_HEADER, "").strip()
