"""The reply queue on Redis: a reply accepted by any replica is posted exactly once, by some replica.

``post`` (the ``handlers.deps.Poster`` seam) returns at once; the reply is added to one Redis stream
(``replies``, capped at ``max_queue`` entries). Every replica reads it through one consumer group:

1. a reader takes new entries (``XREADGROUP``), never more than it has room for;
2. it waits for the channel's turn: one post per second per Slack channel for the whole fleet
   (``bot.redis_rate.FleetRate``, Redis's clock);
3. it claims the reply (``SET reply:<id> lease NX``, with a time-to-live) so no two replicas post
   it; a reply already marked done is only acknowledged, one leased by a live replica is left to it;
4. it posts, retrying as ``ChannelPoster`` does (429 after ``Retry-After``, 5xx with backoff), then
   marks the reply done and removes the entry (``XACK``, ``XDEL``) in one round trip.

A replica stopped or killed leaves its entries pending; the others take them over (``XAUTOCLAIM``)
once they have been idle for ``reclaim_after`` seconds. A live replica keeps its own entries fresh
(``XCLAIM ... JUSTID``) so nobody takes over a reply that is only waiting for its channel's turn.
A replica killed in the instant between Slack's answer and the done mark is the one case where a
reply can be posted twice, once its lease has run out.

Redis unavailable: a new reply goes to the in-process ``ChannelPoster`` (posted by this replica, at
its own pace); a reply already in the stream waits for Redis to answer again rather than risk being
posted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from redis.exceptions import ResponseError
from slack_sdk.web.async_client import AsyncWebClient

from .redis_connection import BLOCK_SECONDS, RETRY_AFTER, RedisLink, RedisUnavailable, consumer_name
from .redis_rate import FleetRate
from .slack_poster import ChannelPoster, _retry_delay, log_abandoned, prepare_reply

__all__ = ["RedisReplyQueue"]

_LOG = logging.getLogger("birdwatch.poster")

GROUP: Final = "posters"
# A consumer (one per process start) with nothing pending and idle this long is gone: forget it.
CONSUMER_GONE_AFTER: Final = 3600.0
DONE_TTL: Final = 24 * 3600.0  # a done mark outlives any redelivery of its entry

# KEYS: the stream; ARGV: cap, the reply. Returns the entry id, or false when the queue is full.
_ENQUEUE: Final = """
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[1], '*', 'reply', ARGV[2])
"""


class RedisReplyQueue:
    """A Poster whose queue is a Redis stream shared by every replica; ``start`` begins consuming."""

    def __init__(
        self,
        client: AsyncWebClient,
        link: RedisLink,
        *,
        fallback: ChannelPoster | None = None,
        min_interval: float = 1.0,
        max_attempts: int = 4,
        max_queue: int = 10_000,
        lease: float = 15.0,
        reclaim_after: float = 5.0,
        concurrency: int = 32,
        consumer: str | None = None,
        consumer_gone_after: float = CONSUMER_GONE_AFTER,
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
        self._reclaim_after = reclaim_after
        self._concurrency = concurrency
        self.consumer = consumer or consumer_name()
        self._consumer_gone_after = consumer_gone_after
        self._next_tidy = 0.0
        self._sleep = sleep
        self._logger = logger or _LOG
        self._stream = link.key("replies")
        self._pace = FleetRate(link, "slack", rate=1 / min_interval, burst=1)
        self._enqueue = link.client.register_script(_ENQUEUE)
        self._accepting: set[asyncio.Task[None]] = set()
        self._enqueue_lock = asyncio.Lock()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._room = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._local_turns: dict[str, float] = {}  # pace while Redis is away
        # One reservation per channel at a time from this replica, so a replica that dies holds back
        # its channels by one turn at most.
        self._turn_locks: dict[str, asyncio.Lock] = {}
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
        """Replies this replica holds and has not posted yet (the shared stream's length is Redis's)."""
        return len(self._inflight) + len(self._accepting) + self._fallback.depth()

    # --- lifecycle ---

    async def start(self) -> None:
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [
                loop.create_task(self._read_new(), name="replies-read"),
                loop.create_task(self._take_over_stale(), name="replies-reclaim"),
            ]

    async def drain(self) -> None:
        """Wait until every reply this replica accepted is posted or abandoned, by whichever replica."""
        while True:
            if self._accepting:
                await asyncio.wait(list(self._accepting))
                continue
            await self._fallback.drain()
            if self._inflight:
                await asyncio.wait(list(self._inflight.values()))
                continue
            try:
                waiting = await self._link.call("queue length", lambda: self._link.client.xlen(self._stream))
            except RedisUnavailable:
                return
            if waiting == 0 and not self._inflight and not self._accepting:
                return
            await asyncio.sleep(0.05)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop taking replies; finish the posts under way for up to ``timeout`` seconds. What is left
        stays in the stream for the other replicas (or this one's next start)."""
        self._closed = True
        deadline = time.monotonic() + timeout
        if self._accepting:
            await asyncio.wait(list(self._accepting), timeout=max(0.0, deadline - time.monotonic()))
        if self._inflight:
            _, unfinished = await asyncio.wait(
                list(self._inflight.values()), timeout=max(0.0, deadline - time.monotonic())
            )
            for task in unfinished:
                task.cancel()  # their entries stay pending in the stream, for another replica
            if unfinished:
                await asyncio.wait(unfinished, timeout=1.0)
        # The reader last: it may sit in a blocking read for a second, and takes nothing new once closed.
        await stop_loops(self._loops, self._link.timeout)
        await self._fallback.aclose(max(0.0, deadline - time.monotonic()))

    # --- accepting ---

    async def _accept(self, kwargs: dict[str, Any]) -> None:
        try:
            reply = json.dumps({"id": uuid.uuid4().hex, "post": kwargs}, separators=(",", ":"))
            # One at a time, in the order posted (the lock serves waiters in order): concurrent calls
            # would travel on different pooled connections and could reach the stream out of order.
            async with self._enqueue_lock:
                entry = await self._link.call(
                    "enqueue reply", lambda: self._enqueue(keys=[self._stream], args=[self._max_queue, reply])
                )
        except (RedisUnavailable, TypeError, ValueError):
            self._fallback.post(**kwargs)  # posted by this replica alone, at its own pace
            return
        if not entry:
            self._abandon(kwargs, "queue full")

    # --- consuming ---

    async def _read_new(self) -> None:
        while not self._closed:
            room = self._concurrency - len(self._inflight)
            if room <= 0:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                batches = await self._link.call(
                    "read replies",
                    functools.partial(self._read, room),
                    timeout=BLOCK_SECONDS + self._link.timeout + 1.0,
                )
            except RedisUnavailable:
                await asyncio.sleep(RETRY_AFTER)
                continue
            for _stream, entries in batches or []:
                for entry_id, fields in entries:
                    self._start(entry_id, fields)

    async def _read(self, count: int) -> Any:
        try:
            return await self._link.blocking.xreadgroup(
                GROUP, self.consumer, {self._stream: ">"}, count=count, block=round(BLOCK_SECONDS * 1000)
            )
        except ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            await self._create_group()
            return []

    async def _create_group(self) -> None:
        try:
            await self._link.client.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _take_over_stale(self) -> None:
        while True:
            await asyncio.sleep(self._reclaim_after / 3)
            with contextlib.suppress(RedisUnavailable):
                await self._keep_mine_fresh()
                await self._claim_stale()
                if time.monotonic() >= self._next_tidy:
                    await self.forget_gone_consumers()
                    self._next_tidy = time.monotonic() + min(60.0, self._consumer_gone_after)

    async def forget_gone_consumers(self) -> int:
        """Delete consumers of earlier processes that hold nothing, so the group stays small."""

        async def tidy() -> int:
            try:
                consumers = await self._link.client.xinfo_consumers(self._stream, GROUP)
            except ResponseError:
                return 0  # no stream or group yet
            gone = [
                _text(c["name"])
                for c in consumers
                if _text(c["name"]) != self.consumer
                and int(c.get("pending", 0)) == 0
                and int(c.get("idle", 0)) >= self._consumer_gone_after * 1000
            ]
            for name in gone:
                await self._link.client.xgroup_delconsumer(self._stream, GROUP, name)
            return len(gone)

        removed: int = await self._link.call("tidy consumers", tidy, timeout=self._link.timeout * 4)
        return removed

    async def _keep_mine_fresh(self) -> None:
        mine: list[int | bytes | str | memoryview] = list(self._inflight)
        if mine:
            await self._link.call(
                "refresh replies",
                lambda: self._link.client.xclaim(self._stream, GROUP, self.consumer, 0, mine, justid=True),
            )

    async def _claim_stale(self) -> None:
        room = self._concurrency - len(self._inflight)
        if room <= 0:
            return
        idle_ms = round(self._reclaim_after * 1000)

        async def claim() -> Any:
            try:
                return await self._link.client.xautoclaim(
                    self._stream, GROUP, self.consumer, idle_ms, start_id="0-0", count=room
                )
            except ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                await self._create_group()
                return None

        result = await self._link.call("reclaim replies", claim)
        if not result:
            return
        for entry_id, fields in result[1]:
            if fields:
                self._start(entry_id, fields)
        gone = [_text(entry_id) for entry_id in (result[2] if len(result) > 2 else [])]
        if gone:  # entries deleted while pending: nothing left to post
            await self._link.call("ack gone", lambda: self._link.client.xack(self._stream, GROUP, *gone))

    def _start(self, raw_id: Any, fields: Mapping[Any, Any]) -> None:
        entry_id = _text(raw_id)
        if entry_id in self._inflight or self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._handle(entry_id, fields), name="reply-post")
        self._inflight[entry_id] = task

        def finished(_: asyncio.Task[None]) -> None:
            self._inflight.pop(entry_id, None)
            self._room.set()

        task.add_done_callback(finished)

    async def _handle(self, entry_id: str, fields: Mapping[Any, Any]) -> None:
        try:
            reply = json.loads(fields.get(b"reply") or fields.get("reply") or b"")
            reply_id, kwargs = str(reply["id"]), dict(reply["post"])
            channel = kwargs["channel"]
            if not isinstance(channel, str):
                raise TypeError("channel")
        except (ValueError, KeyError, TypeError):
            self._logger.warning("reply abandoned: an unreadable queue entry %s", entry_id)
            await self._until_redis("drop entry", lambda: self._finish(entry_id, None, "unreadable"))
            return
        for attempt in range(1, self._max_attempts + 1):
            await self._wait_turn(channel)
            if attempt == 1:
                state = await self._until_redis("lease reply", lambda: self._take_lease(reply_id))
                if state == "done":
                    await self._until_redis("ack reply", lambda: self._finish(entry_id, None, "done"))
                    return
                if state == "busy":
                    return  # a live replica is posting it and will acknowledge the entry
            try:
                await self._client.chat_postMessage(**kwargs)
            except Exception as error:  # a worker must survive anything one post throws
                delay, reason = _retry_delay(error, attempt)
                if delay is None or attempt == self._max_attempts:
                    gave_up = reason if delay is None else f"{reason}; gave up after {attempt} attempts"
                    self._abandon(kwargs, gave_up, error=error if delay is None else None)
                    await self._until_redis("finish reply", lambda: self._finish(entry_id, reply_id, "abandoned"))
                    return
                self._logger.info(
                    "chat.postMessage retry in %.1fs: channel=%s thread_ts=%s reason=%s attempt=%d",
                    delay,
                    channel,
                    kwargs.get("thread_ts"),
                    reason,
                    attempt,
                )
                await self._renew_lease(reply_id, delay)
                await self._sleep(delay)
                continue
            await self._until_redis("finish reply", lambda: self._finish(entry_id, reply_id, "done"))
            return

    async def _wait_turn(self, channel: str) -> None:
        if len(self._turn_locks) > 1000:
            self._turn_locks = {c: lock for c, lock in self._turn_locks.items() if lock.locked()}
        async with self._turn_locks.setdefault(channel, asyncio.Lock()):
            try:
                wait = await self._pace.reserve(channel)
            except RedisUnavailable:
                wait = self._local_turn(channel)
            if wait > 0:
                await self._sleep(wait)

    def _local_turn(self, channel: str) -> float:
        now = time.monotonic()
        for idle in [c for c, turn in self._local_turns.items() if turn < now]:
            del self._local_turns[idle]
        turn = max(now, self._local_turns.get(channel, 0.0))
        self._local_turns[channel] = turn + self._min_interval
        return turn - now

    async def _take_lease(self, reply_id: str) -> str:
        """ "mine" when this replica may post the reply, "done" when it was posted, "busy" when leased."""
        previous = await self._link.client.set(
            self._reply_key(reply_id), f"lease {self.consumer}", nx=True, px=_ms(self._lease), get=True
        )
        if previous is None:
            return "mine"
        return "done" if not _text(previous).startswith("lease ") else "busy"

    async def _renew_lease(self, reply_id: str, delay: float) -> None:
        with contextlib.suppress(RedisUnavailable):
            await self._link.call(
                "renew lease",
                lambda: self._link.client.set(
                    self._reply_key(reply_id), f"lease {self.consumer}", xx=True, px=_ms(delay + self._lease)
                ),
            )

    async def _finish(self, entry_id: str, reply_id: str | None, outcome: str) -> None:
        async with self._link.client.pipeline(transaction=True) as pipe:
            if reply_id is not None:
                pipe.set(self._reply_key(reply_id), outcome, px=_ms(DONE_TTL))
            pipe.xack(self._stream, GROUP, entry_id)
            pipe.xdel(self._stream, entry_id)
            await pipe.execute()

    async def _until_redis(self, what: str, operation: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``operation`` once Redis answers: a reply read from the stream waits for it rather than
        be posted without its claim. Cancelled (by ``aclose``) it stays in the stream for later."""
        while True:
            try:
                return await self._link.call(what, operation)
            except RedisUnavailable:
                await asyncio.sleep(RETRY_AFTER)

    def _reply_key(self, reply_id: str) -> str:
        return self._link.key("reply", reply_id)

    def _abandon(self, kwargs: Mapping[str, Any], reason: str, error: BaseException | None = None) -> None:
        log_abandoned(self._logger, self._on_abandon, kwargs, reason, error)


async def stop_loops(loops: list[asyncio.Task[None]], timeout: float) -> None:
    """Let loops that check a closed flag finish their blocking read (at most ``BLOCK_SECONDS``); cancel
    the rest. A blocking Redis read is not cancelled: redis-py can miss a cancellation mid-read."""
    for loop in loops:
        if loop.get_name() != "replies-read":
            loop.cancel()
    _, pending = await asyncio.wait(loops, timeout=BLOCK_SECONDS + timeout + 0.5) if loops else (set(), set())
    for loop in pending:
        loop.cancel()
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))
