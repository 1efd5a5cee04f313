"""Alert state and the intake queue on Redis, shared by every replica (``REDIS_URL``).

- Documents (a group's state, a channel's digest counts) are JSON strings changed by optimistic
  locking (``WATCH``/``MULTI``): a change that raced another replica's is run again on the new state,
  so each decision (open this alert, post this digest) is taken by exactly one replica.
- Deduplication is ``SET NX PX`` per request id and per (message id, status), pipelined per batch.
- Acknowledged failures go into a stream (``XADD``) before Bird gets its 200, and replicas read it
  through one consumer group: each failure is counted by one replica, and one that dies holding
  failures leaves them pending, to be claimed by another after ``CLAIM_AFTER`` seconds. If Redis
  cannot take a failure, Bird is answered 503 and retries it later: nothing acknowledged is lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from redis.exceptions import ResponseError, WatchError

from catalog.failure_groups import FailureFact

from ..redis_connection import BLOCK_SECONDS, RedisLink, consumer_name
from .store import Change, Doc, Result

DOCUMENT_TTL = 9 * 24 * 3600  # seconds: a digest needs eight days of counts; groups expire sooner
STREAM_MAX = 1_000_000  # failures kept in the stream at most (trimmed approximately)
CLAIM_AFTER = 60.0  # a failure read by a replica that has not acknowledged it this long is taken over
MAX_WATCH_ATTEMPTS = 50


class RedisAlertStore:
    def __init__(self, link: RedisLink) -> None:
        self._link = link

    async def first_seen(self, keys: Sequence[str], ttl: float, now: float) -> list[bool]:
        if not keys:
            return []

        async def claim() -> list[Any]:
            async with self._link.client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(self._link.key("alerts", "seen", key), 1, nx=True, px=int(ttl * 1000))
                return list(await pipe.execute())

        return [bool(answer) for answer in await self._link.call("alerts dedup", claim, timeout=5.0)]

    async def update(self, kind: type[Doc], key: str, change: Change[Doc, Result]) -> Result:
        name = self._link.key("alerts", kind.KIND, key)
        index = self._link.key("alerts", kind.KIND + "-index")

        async def transact() -> Result:
            async with self._link.client.pipeline(transaction=True) as pipe:
                for _ in range(MAX_WATCH_ATTEMPTS):
                    try:
                        await pipe.watch(name)
                        raw = await pipe.get(name)
                        document, result = change(kind.from_json(raw) if raw else None)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        if document is None:
                            pipe.delete(name)
                            pipe.srem(index, key)
                        else:
                            pipe.set(name, document.to_json(), ex=DOCUMENT_TTL)
                            pipe.sadd(index, key)
                        await pipe.execute()
                        return result
                    except WatchError:
                        continue
            raise WatchError(f"{kind.KIND} {key} changed {MAX_WATCH_ATTEMPTS} times while being updated")

        return await self._link.call(f"alerts {kind.KIND} update", transact, timeout=5.0)

    async def read(self, kind: type[Doc], key: str) -> Doc | None:
        name = self._link.key("alerts", kind.KIND, key)
        raw = await self._link.call(f"alerts {kind.KIND} read", lambda: self._link.client.get(name))
        return kind.from_json(raw) if raw else None

    async def keys(self, kind: type[Doc]) -> list[str]:
        index = self._link.key("alerts", kind.KIND + "-index")
        members = await self._link.call(f"alerts {kind.KIND} keys", lambda: self._link.client.smembers(index))
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)


class RedisFailureQueue:
    """The intake stream and this replica's place in its consumer group."""

    GROUP = "alert-engines"

    def __init__(self, link: RedisLink, *, consumer: str | None = None) -> None:
        self._link = link
        self._stream = link.key("alerts", "intake")
        self._consumer = consumer or consumer_name()
        self._taken: list[bytes] = []
        self._group_ready = False
        self._last_claim = 0.0

    async def put(self, fact: FailureFact) -> None:
        data = json.dumps(asdict(fact), separators=(",", ":"))
        await self._link.call(
            "alerts intake",
            lambda: self._link.client.xadd(self._stream, {"f": data}, maxlen=STREAM_MAX, approximate=True),
        )

    async def take(self, max_items: int) -> list[FailureFact]:
        await self._ensure_group()
        while True:
            entries = await self._claim_abandoned(max_items)
            if not entries:
                answer: Any = await self._link.call(
                    "alerts read",
                    lambda: self._link.blocking.xreadgroup(
                        self.GROUP,
                        self._consumer,
                        {self._stream: ">"},
                        count=max_items,
                        block=int(BLOCK_SECONDS * 1000),
                    ),
                    timeout=BLOCK_SECONDS + 2.0,
                )
                entries = answer[0][1] if answer else []
            if entries:
                self._taken = [entry_id for entry_id, _ in entries]
                return [_fact(fields) for _, fields in entries if fields]

    async def done(self) -> None:
        """The failures last taken are counted: acknowledge them, so no replica takes them over."""
        if self._taken:
            taken, self._taken = self._taken, []
            await self._link.call("alerts ack", lambda: self._link.client.xack(self._stream, self.GROUP, *taken))

    async def size(self) -> int:
        """Failures not yet counted: undelivered plus delivered but unacknowledged."""
        await self._ensure_group()
        groups = await self._link.call("alerts size", lambda: self._link.client.xinfo_groups(self._stream))
        for group in groups:
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.GROUP:
                return int(group.get("lag") or 0) + int(group.get("pending") or 0)
        return 0

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._link.client.xgroup_create(self._stream, self.GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):  # another replica created it first: fine
                raise
        self._group_ready = True

    async def _claim_abandoned(self, max_items: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        now = time.monotonic()
        if now - self._last_claim < CLAIM_AFTER / 2:
            return []
        self._last_claim = now
        answer: Any = await self._link.call(
            "alerts claim",
            lambda: self._link.client.xautoclaim(
                self._stream, self.GROUP, self._consumer, min_idle_time=int(CLAIM_AFTER * 1000), count=max_items
            ),
        )
        return [entry for entry in answer[1] if entry[1]] if answer else []


def _fact(fields: dict[bytes, bytes]) -> FailureFact:
    data: dict[str, Any] = json.loads(fields[b"f"])
    return FailureFact(**data)
