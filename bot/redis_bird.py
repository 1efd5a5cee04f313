"""The Bird client's shared parts on Redis: the message cache and the fleet-wide request budget.

- ``RedisMessageCache``: ``bird:msg:<ws>:<id>`` holds a fetched message as JSON for its time-to-live
  (final statuses 10 minutes, in-flight ones 15 seconds), ``bird:where:<ws>:<id>`` the channel it
  was found in, for a day. Both are written in one round trip. A cached message holds what Bird
  returned, receiver and body included, exactly as the in-process cache does: protect the Redis
  (a password, ``rediss://``, a private network) as you protect the access keys.
- ``FleetBudget``: one token bucket per Bird workspace for every replica together (``FleetRate``),
  so N replicas never send more than ``BIRD_REQUESTS_PER_SECOND`` between them.

While Redis is unavailable both fall back to their in-process versions: lookups keep working, each
replica with its own cache and its own budget (so N replicas may send up to N times the rate).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from pydantic import ValidationError

from catalog.message import FoundMessage, Message

from .bird import MemoryMessageCache, RequestBudget
from .redis_connection import RedisLink, RedisUnavailable
from .redis_rate import FleetRate

logger = logging.getLogger("birdwatch.redis")

WHERE_TTL: Final = 24 * 3600.0  # a message never moves; a day bounds the keys


class RedisMessageCache:
    """A bird.MessageCache on Redis, with an in-process fallback."""

    def __init__(self, link: RedisLink, *, fallback: MemoryMessageCache | None = None) -> None:
        self._link = link
        self._fallback = fallback or MemoryMessageCache()

    async def get(self, workspace_id: str, message_id: str) -> FoundMessage | None:
        try:
            raw = await self._link.call(
                "cache get", lambda: self._link.client.get(self._message_key(workspace_id, message_id))
            )
        except RedisUnavailable:
            return await self._fallback.get(workspace_id, message_id)
        return decode_found(raw) if isinstance(raw, bytes) else None

    async def put(self, workspace_id: str, message_id: str, found: FoundMessage, ttl: float) -> None:
        async def write() -> None:
            async with self._link.client.pipeline(transaction=False) as pipe:
                pipe.set(self._message_key(workspace_id, message_id), encode_found(found), px=_ms(ttl))
                pipe.set(self._where_key(workspace_id, message_id), found.channel_id, px=_ms(WHERE_TTL))
                await pipe.execute()

        try:
            await self._link.call("cache put", write)
        except RedisUnavailable:
            await self._fallback.put(workspace_id, message_id, found, ttl)

    async def channel_of(self, workspace_id: str, message_id: str) -> str | None:
        try:
            raw = await self._link.call(
                "where get", lambda: self._link.client.get(self._where_key(workspace_id, message_id))
            )
        except RedisUnavailable:
            return await self._fallback.channel_of(workspace_id, message_id)
        return raw.decode() if isinstance(raw, bytes) else None

    async def forget_channel(self, workspace_id: str, message_id: str) -> None:
        await self._fallback.forget_channel(workspace_id, message_id)
        key = self._where_key(workspace_id, message_id)
        # If Redis is away the stale entry costs one extra request later, which then forgets it again.
        with contextlib.suppress(RedisUnavailable):
            await self._link.call("where forget", lambda: self._link.client.delete(key))

    def _message_key(self, workspace_id: str, message_id: str) -> str:
        return self._link.key("bird", "msg", workspace_id, message_id)

    def _where_key(self, workspace_id: str, message_id: str) -> str:
        return self._link.key("bird", "where", workspace_id, message_id)


def encode_found(found: FoundMessage) -> bytes:
    data = {
        "message": found.message.model_dump(mode="json", by_alias=True, exclude_none=True),
        "channel_id": found.channel_id,
        "platform": found.platform,
    }
    return json.dumps(data, separators=(",", ":")).encode()


def decode_found(raw: bytes) -> FoundMessage | None:
    """A cached message, marked as from the cache; an unreadable entry is a miss."""
    try:
        data = json.loads(raw)
        message = Message.model_validate(data["message"])
        platform = data.get("platform")
        return FoundMessage(
            message=message,
            channel_id=str(data["channel_id"]),
            from_cache=True,
            platform=platform if isinstance(platform, str) else None,
        )
    except (ValueError, KeyError, TypeError, ValidationError):
        logger.warning("ignoring an unreadable cached Bird message")
        return None


class FleetBudget:
    """A bird.Budget for the whole fleet, with an in-process fallback."""

    def __init__(
        self,
        link: RedisLink,
        *,
        rate: float,
        burst: int,
        fallback: RequestBudget | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._rate = FleetRate(link, "bird", rate=rate, burst=burst)
        self._fallback = fallback or RequestBudget(rate=rate, burst=burst)
        self._sleep = sleep

    async def acquire(self, workspace_id: str) -> None:
        try:
            wait = await self._rate.reserve(workspace_id)
        except RedisUnavailable:
            await self._fallback.acquire(workspace_id)
            return
        if wait > 0:
            await self._sleep(wait)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


__all__ = ["FleetBudget", "RedisMessageCache", "decode_found", "encode_found"]
