"""The reply queue on Redis: a reply accepted by any replica is posted exactly once, by some replica.

Redis keeps a ledger of the replies not yet posted, and the replica that accepted a reply posts it:

1. ``post`` (the ``handlers.deps.Poster`` seam) returns at once. One script then records the reply
   (its body in ``replies:post``, its holder in ``replies:holder``, a deadline in the sorted set
   ``replies``, capped at ``max_queue`` entries) and takes the channel's next turn: one post per
   second per Slack channel for the whole fleet (GCRA on Redis's clock, as ``bot.redis_rate``).
2. The holder waits for that turn and posts, retrying as ``ChannelPoster`` does (429 after
   ``Retry-After``, 5xx with backoff; a retry takes a new turn); then one script removes the reply.
   A reply costs two round trips in all.
3. Every ``lease / 3`` seconds each replica moves the deadlines of the replies it holds ``lease``
   seconds on, and takes over replies whose deadline has passed: their holder was stopped or
   killed. A reply taken over is posted on a new turn, which is refused when the reply was removed
   or taken by another replica in the meantime. A holder that learns it lost a reply before sending
   it lets it go; one whose renewals have lapsed checks it still holds the reply before sending.
4. A replica that stops keeps its leases while it finishes the posts under way, then removes what it
   posted and hands back what it has not sent, for the others to post at once.

The one case where a reply can be posted twice: its holder stalls (or loses Redis) for longer than
the lease between sending it and removing it, or is stopped in that instant, and another replica
takes it over meanwhile.

Redis unavailable: a new reply goes to the in-process ``ChannelPoster`` (posted by this replica, at
its own pace); a reply already in the ledger is posted by its holder, which removes it, or takes a
turn for a retry, once Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from slack_sdk.web.async_client import AsyncWebClient

from .redis_connection import RETRY_AFTER, RedisLink, RedisUnavailable, consumer_name
from .redis_rate import GCRA_FUNCTIONS
from .slack_poster import ChannelPoster, deliver, log_abandoned, prepare_reply

__all__ = ["RedisReplyQueue"]

_LOG = logging.getLogger("birdwatch.poster")

LEASE: Final = 10.0
MAX_ORPHANS: Final = 10_000

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

# KEYS: deadlines, holders, the channel's pace; ARGV: id, holder, lease ms, pace interval us, burst.
# Returns the wait in microseconds (and renews the lease), or -1 when the reply is no longer this holder's.
_TURN: Final = (
    GCRA_FUNCTIONS
    + """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return -1 end
local now = now_us()
redis.call('ZADD', KEYS[1], 'XX', math.floor(now / 1000) + tonumber(ARGV[3]), ARGV[1])
return reserve(KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5]), now)
"""
)

# KEYS: deadlines, bodies, holders; ARGV: the ids to remove.
_REMOVE: Final = """
for _, id in ipairs(ARGV) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
end
"""

# KEYS: deadlines, bodies, holders; ARGV: holder, lease ms, how many to take over, then the ids this
# holder keeps. Moves the kept replies' deadlines on and takes over replies whose deadline passed.
# Returns {kept ids no longer this holder's, {id, body, id, body, ...} taken}. A lease of 0 hands the
# kept replies back: a deadline of 0, so they are taken first, in the order of their ids (their age).
_KEEP_AND_TAKE: Final = """
local parts = redis.call('TIME')
local now = tonumber(parts[1]) * 1000 + math.floor(tonumber(parts[2]) / 1000)
local deadline = now + tonumber(ARGV[2])
if tonumber(ARGV[2]) == 0 then deadline = 0 end
local lost = {}
for i = 4, #ARGV do
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', deadline, ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
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
return {lost, taken}
"""


@dataclass(eq=False)
class _Held:
    """A reply this replica holds: the task posting it, until when (monotonic) its lease surely
    holds, and how far it got: a reply ``sending`` may have reached Slack, one ``posted`` has."""

    lease_until: float
    task: asyncio.Task[None] | None = None
    stage: Literal["waiting", "sending", "posted"] = "waiting"


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
        self._max_attempts = max(max_attempts, 1)
        self._max_queue = max_queue
        self._lease = lease
        self._take_over_batch = take_over_batch
        self.holder = holder or consumer_name()
        self._sleep = sleep
        self._logger = logger or _LOG
        self._deadlines, self._bodies = link.key("replies"), link.key("replies", "post")
        self._holders = link.key("replies", "holder")
        self._pace_args = [max(1, round(min_interval * 1_000_000)), 1]  # interval in microseconds, burst
        self._accept_script = link.client.register_script(_ACCEPT)
        self._turn_script = link.client.register_script(_TURN)
        self._remove_script = link.client.register_script(_REMOVE)
        self._keep_script = link.client.register_script(_KEEP_AND_TAKE)
        self._accepting: set[asyncio.Task[None]] = set()
        # Turns are taken one at a time, in order (a lock serves its waiters in order): concurrent
        # calls travel on different pooled connections and could take a channel's turns out of order.
        self._lock = asyncio.Lock()
        self._held: dict[str, _Held] = {}
        # Replies Redis may have recorded although the call failed: posted here, dropped from the ledger.
        self._orphans: set[str] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._closed = False  # no new replies; what is held is still posted, within the grace
        self._stopped = False  # the grace is over: a reply recorded from now on is handed back

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
                await asyncio.wait([held.task for held in self._held.values() if held.task is not None])
                continue
            try:
                waiting = await self._link.call("queue length", lambda: self._link.client.zcard(self._deadlines))
            except RedisUnavailable:
                return
            if waiting == 0 and not self._held and not self._accepting:
                return
            await asyncio.sleep(0.05)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Stop taking replies; finish the posts under way for up to ``timeout`` seconds, still keeping
        their leases; then remove what was posted and hand back what was not sent."""
        self._closed = True  # the keeper takes nothing over from now on
        deadline = time.monotonic() + timeout
        if self._accepting:
            await asyncio.wait(list(self._accepting), timeout=max(0.0, deadline - time.monotonic()))
        tasks = [held.task for held in self._held.values() if held.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
        if self._keeper is not None:
            self._keeper.cancel()
            # Bounded: redis-py can miss a cancellation that lands mid-read.
            await asyncio.wait([self._keeper], timeout=self._link.timeout + 1.0)
            self._keeper = None
        self._stopped = True
        # No await between reading the stages and cancelling: what is read is what is cancelled.
        stages = {reply_id: held.stage for reply_id, held in self._held.items()}
        unfinished = [held.task for held in self._held.values() if held.task is not None]
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.wait(unfinished, timeout=1.0)
        posted = [reply_id for reply_id, stage in stages.items() if stage == "posted"] + list(self._orphans)
        unsent = [reply_id for reply_id, stage in stages.items() if stage == "waiting"]
        # One ``sending`` may have reached Slack: it stays leased, and is taken over once its lease runs out.
        with contextlib.suppress(RedisUnavailable):
            if posted:
                await self._link.call("remove replies", lambda: self._remove(posted))
            if unsent:
                await self._keep(unsent, lease=0.0, take=0)
        await self._fallback.aclose(max(0.0, deadline - time.monotonic()))

    # --- accepting and posting ---

    async def _accept(self, kwargs: dict[str, Any]) -> None:
        # Ids that sort by time, so replies handed back or taken over together keep their order.
        reply_id = f"{time.time_ns():016x}{uuid.uuid4().hex[:8]}"
        channel: str = kwargs["channel"]
        try:
            body = json.dumps(kwargs, separators=(",", ":"))
        except (TypeError, ValueError):
            self._fallback.post(**kwargs)  # not JSON: posted by this replica alone
            return
        keys = [self._deadlines, self._bodies, self._holders, self._bucket(channel)]
        args: list[str | int] = [reply_id, body, self.holder, _ms(self._lease), self._max_queue, *self._pace_args]
        try:
            async with self._lock:
                sent_at = time.monotonic()
                wait_us = await self._link.call("enqueue reply", lambda: self._accept_script(keys=keys, args=args))
        except RedisUnavailable:
            if len(self._orphans) < MAX_ORPHANS:
                self._orphans.add(reply_id)
            self._fallback.post(**kwargs)  # posted by this replica alone, at its own pace
            return
        if int(wait_us) < 0:
            self._abandon(kwargs, "queue full", None)
            return
        if self._stopped:  # the grace ended while this reply was being recorded: another replica posts it
            with contextlib.suppress(RedisUnavailable):
                await self._keep([reply_id], lease=0.0, take=0)
            return
        self._hold(reply_id, kwargs, first_wait=int(wait_us) / 1_000_000, lease_until=sent_at + self._lease)

    def _hold(self, reply_id: str, kwargs: dict[str, Any], *, first_wait: float | None, lease_until: float) -> None:
        current = self._held.get(reply_id)
        if current is not None and current.task is not None and not current.task.cancelling():
            return  # held already (a task let go, being cancelled, is replaced: the reply came back)
        held = _Held(lease_until)
        self._held[reply_id] = held
        held.task = asyncio.get_running_loop().create_task(
            self._post(reply_id, held, kwargs, first_wait), name="reply-post"
        )

        def forget(_: asyncio.Task[None]) -> None:
            if self._held.get(reply_id) is held:
                del self._held[reply_id]

        held.task.add_done_callback(forget)

    async def _post(self, reply_id: str, held: _Held, kwargs: dict[str, Any], first_wait: float | None) -> None:
        """Post a held reply; ``first_wait`` is the turn taken when it was accepted (None when taken
        over, so a turn is taken first, and refused when the reply is no longer this replica's)."""

        async def turn(attempt: int) -> bool:
            wait = first_wait if attempt == 1 and first_wait is not None else await self._turn(reply_id, held, kwargs)
            if wait is None:
                return False
            if wait > 0:
                await self._sleep(wait)
            # Renewals lapsed (Redis slow, the loop stalled): make sure nobody took it over meanwhile.
            if time.monotonic() > held.lease_until - self._lease / 2 and not await self._still_held(reply_id, held):
                return False
            held.stage = "sending"
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
        if outcome == "yielded":
            self._logger.info(
                "reply left to another replica: channel=%s thread_ts=%s", kwargs["channel"], kwargs.get("thread_ts")
            )
            return
        held.stage = "posted"
        await self._until_redis("remove reply", lambda: self._remove([reply_id]))

    async def _turn(self, reply_id: str, held: _Held, kwargs: Mapping[str, Any]) -> float | None:
        """The wait for the channel's next turn, or None when the reply is no longer this replica's.
        Waits for Redis: a reply in the ledger is never posted without its turn."""
        keys = [self._deadlines, self._holders, self._bucket(str(kwargs["channel"]))]
        args: list[str | int] = [reply_id, self.holder, _ms(self._lease), *self._pace_args]
        while True:
            try:
                async with self._lock:
                    sent_at = time.monotonic()
                    wait_us = await self._link.call("reply turn", lambda: self._turn_script(keys=keys, args=args))
                break
            except RedisUnavailable:
                await asyncio.sleep(RETRY_AFTER)
        if int(wait_us) < 0:
            return None
        held.lease_until = sent_at + self._lease
        return int(wait_us) / 1_000_000

    async def _still_held(self, reply_id: str, held: _Held) -> bool:
        sent_at = time.monotonic()
        lost, _ = await self._until_redis("keep reply", lambda: self._keep([reply_id], lease=self._lease, take=0))
        if reply_id in lost:
            return False
        held.lease_until = sent_at + self._lease
        return True

    async def _remove(self, reply_ids: list[str]) -> None:
        await self._remove_script(keys=[self._deadlines, self._bodies, self._holders], args=reply_ids)

    def _bucket(self, channel: str) -> str:
        return self._link.key("rate", "slack", channel)  # as FleetRate(link, "slack") names its buckets

    # --- keeping replies and taking them over ---

    async def _keep_and_take_over(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await self._keep_round()
            except RedisUnavailable:
                continue
            except Exception:  # the keeper must outlive anything one round throws
                self._logger.exception("keeping replies failed")

    async def _keep_round(self) -> None:
        if self._orphans:
            orphans = list(self._orphans)
            await self._link.call("drop replies", lambda: self._remove(orphans))
            self._orphans.difference_update(orphans)
        kept = list(self._held)
        sent_at = time.monotonic()
        lost, taken = await self._keep(kept, lease=self._lease, take=0 if self._closed else self._take_over_batch)
        for reply_id in kept:
            held = self._held.get(reply_id)
            if held is None:
                continue
            if reply_id not in lost:
                held.lease_until = sent_at + self._lease
            elif held.stage == "waiting" and held.task is not None:
                held.task.cancel()  # another replica took it over, or it was removed: not ours to send
                self._logger.info("reply left to another replica: %s", reply_id)
        for reply_id, body in taken:
            self._take_over(reply_id, body, lease_until=sent_at + self._lease)

    async def _keep(self, kept: list[str], *, lease: float, take: int) -> tuple[set[str], list[tuple[str, bytes]]]:
        """Move ``kept``'s deadlines ``lease`` seconds on and take over up to ``take`` replies gone
        stale; returns the kept ids no longer this replica's, and the replies taken over."""
        keys = [self._deadlines, self._bodies, self._holders]
        args: list[str | int] = [self.holder, _ms(lease) if lease > 0 else 0, max(0, take), *kept]
        lost, flat = await self._link.call("keep replies", lambda: self._keep_script(keys=keys, args=args))
        return {_text(reply_id) for reply_id in lost}, [(_text(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    def _take_over(self, reply_id: str, body: bytes, *, lease_until: float) -> None:
        try:
            kwargs = json.loads(body)
            if not isinstance(kwargs, dict) or not isinstance(kwargs.get("channel"), str):
                raise TypeError("channel")
        except (ValueError, TypeError):
            self._abandon({}, f"unreadable queue entry {reply_id}", None)
            self._orphans.add(reply_id)  # dropped from the ledger in the next round
            return
        self._logger.info("taking over a reply: channel=%s thread_ts=%s", kwargs["channel"], kwargs.get("thread_ts"))
        self._hold(reply_id, kwargs, first_wait=None, lease_until=lease_until)

    async def _until_redis(self, what: str, operation: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``operation`` once Redis answers: a reply in the ledger is never forgotten without its
        removal. Cancelled (by ``aclose``) it stays in the ledger."""
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
