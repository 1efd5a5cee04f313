"""The reply queue on Redis: a reply accepted by any replica is posted exactly once, by some replica.

Redis keeps a ledger of the replies not yet posted, and the replica that accepted a reply posts it:

1. ``post`` (the ``handlers.deps.Poster`` seam) returns at once. One script then records the reply
   (its body in ``replies:post``, its holder in ``replies:holder``, a deadline in the sorted set
   ``replies``, capped at ``max_queue`` entries) and takes the channel's next turn: one post per
   second per Slack channel for the whole fleet (``bot.redis_rate``, Redis's clock).
2. The holder waits for that turn and posts, retrying as ``ChannelPoster`` does (429 after
   ``Retry-After``, 5xx with backoff; a retry takes a new turn); then one script removes the reply.
   A reply costs two round trips in all.
3. Every ``lease / 3`` seconds each replica moves the deadlines of the replies it holds ``lease``
   seconds on, and takes over replies whose deadline has passed: their holder was stopped or
   killed. A reply taken over is posted on a new turn, which is refused when the reply was removed
   or taken by another replica in the meantime. A replica that stops hands its unposted replies
   back at once.

The one case where a reply can be posted twice: its holder stalls for longer than the lease (or
loses Redis for that long) between taking its turn and removing the reply, and another replica takes
it over in that time.

Redis unavailable: a new reply goes to the in-process ``ChannelPoster`` (posted by this replica, at
its own pace); a reply already in the ledger is removed, or taken over, once Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from slack_sdk.web.async_client import AsyncWebClient

from .redis_connection import RETRY_AFTER, RedisLink, RedisUnavailable, consumer_name
from .redis_rate import GCRA_FUNCTIONS, FleetRate
from .slack_poster import ChannelPoster, deliver, log_abandoned, prepare_reply

__all__ = ["RedisReplyQueue"]

_LOG = logging.getLogger("birdwatch.poster")

LEASE: Final = 10.0

# KEYS: deadlines, bodies, holders, the channel's pace; ARGV: id, body, holder, lease ms, cap,
# pace interval us, burst. Returns the wait for the channel's turn in microseconds, or -1 when full.
_ACCEPT: Final = (
    GCRA_FUNCTIONS
    + """
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return -1 end
local now = now_us()
redis.call('ZADD', KEYS[1], math.floor(now / 1000) + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return reserve(KEYS[4], tonumber(ARGV[6]), tonumber(ARGV[7]), now)
"""
)

# KEYS: holders, the channel's pace; ARGV: id, holder, pace interval us, burst.
# Returns the wait in microseconds, or -1 when the reply is no longer this holder's.
_TURN: Final = (
    GCRA_FUNCTIONS
    + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
return reserve(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), now_us())
"""
)

# KEYS: deadlines, bodies, holders; ARGV: id.
_REMOVE: Final = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
"""

# KEYS: deadlines, bodies, holders; ARGV: holder, lease ms, how many to take over, then the ids this
# holder keeps. Moves the kept replies' deadlines on, takes over replies whose deadline passed, and
# returns them as id, body, id, body, ... A lease of 0 hands the kept replies back.
_KEEP_AND_TAKE: Final = """
local parts = redis.call('TIME')
local now = tonumber(parts[1]) * 1000 + math.floor(tonumber(parts[2]) / 1000)
local deadline = now + tonumber(ARGV[2])
for i = 4, #ARGV do
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[1] then redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i]) end
end
local taken = {}
local count = tonumber(ARGV[3])
if count > 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, count)) do
    local body = redis.call('HGET', KEYS[2], id)
    if body then
      redis.call('ZADD', KEYS[1], deadline, id)
      redis.call('HSET', KEYS[3], id, ARGV[1])
      table.insert(taken, id)
      table.insert(taken, body)
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[3], id)
    end
  end
end
return taken
"""


class RedisReplyQueue:
    """A Poster whose pending replies live in Redis, shared by every replica; ``start`` begins the
    background task that keeps this replica's replies and takes over those of replicas gone."""

    def __init__(
        self,
        client: AsyncWebClient,
        link: RedisLink,
        *,
        fallback: ChannelPoster | None = None,
        min_interval: float = 1.0,
        max_attempts: int = 4,
        max_queue: int = 10_000,
        lease: float = LEASE,
        take_over_batch: int = 32,
        holder: str | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        logger: logging.Logger | None = None,
        on_abandon: Callable[[str], object] | None = None,
    ) -> None:
        self._client = client
        self._on_abandon = on_abandon
        self._link = link
        self._fallback = fallback or ChannelPoster(client, min_interval=min_interval, max_attempts=max_attempts)
        self._min_interval = min_interval
        self._max_attempts = max(max_attempts, 1)
        self._max_queue = max_queue
        self._lease = lease
        self._take_over_batch = take_over_batch
        self.holder = holder or consumer_name()
        self._sleep = sleep
        self._logger = logger or _LOG
        self._deadlines, self._bodies = link.key("replies"), link.key("replies", "post")
        self._holders = link.key("replies", "holder")
        self._pace = FleetRate(link, "slack", rate=1 / min_interval, burst=1)
        self._accept_script = link.client.register_script(_ACCEPT)
        self._turn_script = link.client.register_script(_TURN)
        self._remove_script = link.client.register_script(_REMOVE)
        self._keep_script = link.client.register_script(_KEEP_AND_TAKE)
        self._accepting: set[asyncio.Task[None]] = set()
        # Turns are taken one at a time, in order (a lock serves its waiters in order): concurrent
        # calls travel on different pooled connections and could take a channel's turns out of order.
        self._accept_lock, self._turn_lock = asyncio.Lock(), asyncio.Lock()
        self._held: dict[str, asyncio.Task[None]] = {}  # reply id -> the task posting it
        self._sent: set[str] = set()  # held replies that may have reached Slack: never handed back
        self._keeper: asyncio.Task[None] | None = None
        self._closed = False

    # --- Poster ---

    def post(self, **kwargs: Any) -> None:
        """Accept ``chat_postMessage(**kwargs)``; returns at once. Call from the event loop."""
        prepare_reply(kwargs)
        if self._closed:
            self._fallback.post(**kwargs)  # closed too by then: it logs the reply as abandoned
            return
        task = asyncio.get_running_loop().create_task(self._accept(kwargs), name="reply-accept")
        self._accepting.add(task)
        task.add_done_callback(self._accepting.discard)

    def depth(self) -> int:
        """Replies this replica holds and has not posted yet (the fleet's total is Redis's)."""
        return len(self._held) + len(self._accepting) + self._fallback.depth()

    # --- lifecycle ---

    async def start(self) -> None:
        if self._keeper is None:
            self._keeper = asyncio.get_running_loop().create_task(self._keep_and_take_over(), name="replies-keep")

    async def drain(self) -> None:
        """Wait until every reply this replica accepted is posted or abandoned, and the ledger is
        empty: replies left by a replica that stopped have been taken over and posted too."""
        while True:
            if self._accepting:
                await asyncio.wait(list(self._accepting))
                continue
            await self._fallback.drain()
            if self._held:
                await asyncio.wait(list(self._held.values()))
                continue
            try:
                waiting = await self._link.call("queue length", lambda: self._link.client.zcard(self._deadlines))
            except RedisUnavailable:
                return
            if waiting == 0 and not self._held and not self._accepting:
                return
            await asyncio.sleep(0.05)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop taking replies; finish the posts under way for up to ``timeout`` seconds, then hand
        what is left back to the ledger for the other replicas (or this one's next start)."""
        self._closed = True
        deadline = time.monotonic() + timeout
        if self._accepting:
            await asyncio.wait(list(self._accepting), timeout=max(0.0, deadline - time.monotonic()))
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.wait([self._keeper])
            self._keeper = None
        if self._held:
            held = dict(self._held)
            _, unfinished = await asyncio.wait(held.values(), timeout=max(0.0, deadline - time.monotonic()))
            # Not sent yet: handed back for another replica to post at once. One that may have
            # reached Slack stays leased; it is taken over only once its lease runs out.
            handed_back = [
                reply_id for reply_id, task in held.items() if task in unfinished and reply_id not in self._sent
            ]
            for task in unfinished:
                task.cancel()
            if unfinished:
                await asyncio.wait(unfinished, timeout=1.0)
            if handed_back:
                with contextlib.suppress(RedisUnavailable):
                    await self._keep(handed_back, lease=0.0, take=0)
        await self._fallback.aclose(max(0.0, deadline - time.monotonic()))

    # --- accepting and posting ---

    async def _accept(self, kwargs: dict[str, Any]) -> None:
        reply_id = uuid.uuid4().hex
        channel: str = kwargs["channel"]
        try:
            body = json.dumps(kwargs, separators=(",", ":"))
            keys = [self._deadlines, self._bodies, self._holders, self._pace.bucket(channel)]
            args: list[str | int] = [reply_id, body, self.holder, _ms(self._lease), self._max_queue]
            args += [self._pace.interval_us, 1]
            async with self._accept_lock:
                wait_us = await self._link.call("enqueue reply", lambda: self._accept_script(keys=keys, args=args))
        except (RedisUnavailable, TypeError, ValueError):
            self._fallback.post(**kwargs)  # posted by this replica alone, at its own pace
            return
        if int(wait_us) < 0:
            self._abandon(kwargs, "queue full", None)
            return
        if self._closed:  # stopped while this reply was being recorded: another replica posts it
            with contextlib.suppress(RedisUnavailable):
                await self._keep([reply_id], lease=0.0, take=0)
            return
        self._hold(reply_id, kwargs, first_wait=int(wait_us) / 1_000_000)

    def _hold(self, reply_id: str, kwargs: dict[str, Any], first_wait: float | None) -> None:
        if reply_id in self._held:
            return
        task = asyncio.get_running_loop().create_task(self._post(reply_id, kwargs, first_wait), name="reply-post")
        self._held[reply_id] = task

        def forget(_: asyncio.Task[None]) -> None:
            self._held.pop(reply_id, None)
            self._sent.discard(reply_id)

        task.add_done_callback(forget)

    async def _post(self, reply_id: str, kwargs: dict[str, Any], first_wait: float | None) -> None:
        """Post a held reply; ``first_wait`` is the turn taken when it was accepted (None when taken
        over, so a turn is taken first, and refused when the reply is no longer this replica's)."""

        async def turn(attempt: int) -> bool:
            wait = first_wait if attempt == 1 and first_wait is not None else await self._turn(reply_id, kwargs)
            if wait is None:
                return False
            if wait > 0:
                await self._sleep(wait)
            self._sent.add(reply_id)
            return True

        outcome = await deliver(
            self._client,
            kwargs,
            turn,
            max_attempts=self._max_attempts,
            sleep=self._sleep,
            logger=self._logger,
            abandon=self._abandon,
        )
        if outcome != "yielded":
            await self._until_redis("remove reply", lambda: self._remove(reply_id))

    async def _turn(self, reply_id: str, kwargs: Mapping[str, Any]) -> float | None:
        """The wait for the channel's next turn, or None when the reply is no longer this replica's."""
        channel = str(kwargs["channel"])
        keys = [self._holders, self._pace.bucket(channel)]
        args: list[str | int] = [reply_id, self.holder, self._pace.interval_us, 1]
        async with self._turn_lock:
            wait_us = await self._until_redis("reply turn", lambda: self._turn_script(keys=keys, args=args))
        return None if int(wait_us) < 0 else int(wait_us) / 1_000_000

    async def _remove(self, reply_id: str) -> None:
        await self._remove_script(keys=[self._deadlines, self._bodies, self._holders], args=[reply_id])

    # --- keeping replies and taking them over ---

    async def _keep_and_take_over(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            with contextlib.suppress(RedisUnavailable):
                for reply_id, body in await self._keep(list(self._held), lease=self._lease, take=self._take_over_batch):
                    await self._take_over(reply_id, body)

    async def _keep(self, kept: list[str], *, lease: float, take: int) -> list[tuple[str, bytes]]:
        """Move ``kept``'s deadlines ``lease`` seconds on; take over up to ``take`` replies gone stale."""
        keys = [self._deadlines, self._bodies, self._holders]
        args: list[str | int] = [self.holder, _ms(lease) if lease > 0 else 0, max(0, take), *kept]
        flat = await self._link.call("keep replies", lambda: self._keep_script(keys=keys, args=args))
        return [(_text(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    async def _take_over(self, reply_id: str, body: bytes) -> None:
        try:
            kwargs = json.loads(body)
            if not isinstance(kwargs, dict) or not isinstance(kwargs.get("channel"), str):
                raise TypeError("channel")
        except (ValueError, TypeError):
            self._logger.warning("reply abandoned: an unreadable queue entry %s", reply_id)
            # Should Redis not answer, the entry comes back to be taken over, and dropped, later.
            await self._link.call("drop reply", lambda: self._remove(reply_id))
            return
        self._logger.info("taking over a reply: channel=%s thread_ts=%s", kwargs["channel"], kwargs.get("thread_ts"))
        self._hold(reply_id, kwargs, first_wait=None)

    async def _until_redis(self, what: str, operation: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``operation`` once Redis answers: a reply in the ledger is never posted without its turn
        nor forgotten without its removal. Cancelled (by ``aclose``) it stays in the ledger."""
        while True:
            try:
                return await self._link.call(what, operation)
            except RedisUnavailable:
                await asyncio.sleep(RETRY_AFTER)

    def _abandon(self, kwargs: Mapping[str, Any], reason: str, error: BaseException | None) -> None:
        log_abandoned(self._logger, self._on_abandon, kwargs, reason, error)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
