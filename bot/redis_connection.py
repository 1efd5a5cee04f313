"""The connection to Redis, and the policy for when Redis is down or slow.

Every Redis call goes through ``RedisLink.call``, bounded in time (``timeout``, half a second by
default), so no Slack request waits on Redis longer than that. A failed call starts an *outage*:
one WARNING line, then, for ``retry_after`` seconds, callers get ``RedisUnavailable`` at once
without touching the network and fall back to their local state. After that the next call tries
Redis again (redis-py reconnects by itself); the first success ends the outage with one INFO line.

The URL can carry a password: it is never logged, and errors name the Redis error's type only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

__all__ = ["DEFAULT_TIMEOUT", "RedisLink", "RedisUnavailable", "consumer_name"]

logger = logging.getLogger("birdwatch.redis")

T = TypeVar("T")

DEFAULT_TIMEOUT: Final = 0.5
RETRY_AFTER: Final = 1.0
# Blocking reads (XREADGROUP BLOCK, pub/sub) wait this long for news before asking again.
BLOCK_SECONDS: Final = 1.0


class RedisUnavailable(Exception):
    """Redis did not answer in time, or is known to be down; use the local fallback."""


class RedisLink:
    """Two clients on one URL (quick commands; blocking reads and pub/sub) and the outage state."""

    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = RETRY_AFTER,
        clock: Callable[[], float] = time.monotonic,
        on_error: Callable[[str], object] | None = None,
    ) -> None:
        self.prefix = prefix
        self._on_error = on_error
        self.timeout = timeout
        self._retry_after = retry_after
        self._clock = clock
        self.client: Redis = _client(url, timeout, timeout)
        self.blocking: Redis = _client(url, BLOCK_SECONDS + timeout + 1.0, timeout)
        self._down_until: float | None = None

    def key(self, *parts: str) -> str:
        """A key under this installation's prefix."""
        return self.prefix + ":".join(parts)

    @property
    def down(self) -> bool:
        return self._down_until is not None

    async def call(self, what: str, operation: Callable[[], Awaitable[T]], *, timeout: float | None = None) -> T:
        """Run ``operation`` against Redis, or raise RedisUnavailable (at once during an outage)."""
        if self._down_until is not None and self._clock() < self._down_until:
            raise RedisUnavailable(what)
        try:
            async with asyncio.timeout(timeout if timeout is not None else self.timeout):
                result = await operation()
        except (RedisError, OSError, TimeoutError) as error:
            self.failed(what, error)
            raise RedisUnavailable(what) from None
        self.answered()
        return result

    def failed(self, what: str, error: BaseException) -> None:
        """Record a failed call: the first failure of an outage logs one WARNING."""
        if self._on_error is not None:
            self._on_error(what.split()[0])  # the operation's first word: a metric label of few values
        if self._down_until is None:
            logger.warning(
                "Redis unavailable, using local state until it answers again",
                extra={"redis_operation": what, "error": type(error).__name__},
            )
        self._down_until = self._clock() + self._retry_after

    def answered(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            logger.info("Redis answers again; shared state restored")

    async def ping(self) -> bool:
        """Whether Redis answers now (readiness)."""
        try:
            await self.call("ping", self.client.ping)
        except RedisUnavailable:
            return False
        return True

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.blocking.aclose()


def _client(url: str, socket_timeout: float, connect_timeout: float) -> Redis:
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        # One quick retry covers a pooled connection that Redis closed (a restart); never more, so a
        # call stays within its bound.
        retry=Retry(NoBackoff(), 1),
        health_check_interval=15,
    )


def consumer_name() -> str:
    """A name for this process in consumer groups: host and pid for people, a random part for uniqueness."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
