"""The enrichment store on Redis (``handlers.deps.StateStore``), shared by every replica.

- A claim is ``SET <prefix>claim:<key> 1 NX PX <ttl>``: atomic, so of several replicas handling
  the same event exactly one gets True, and Redis forgets it after its time-to-live. ``claim_each``
  makes a whole batch of them (an alert's event, seen and repeat keys) in one script: one round trip.
- Mutes live in one hash (``mutes``, field ``<channel> <code>``) with a sorted set of their end
  times, capped at ``max_mutes`` and pruned as they expire. Every replica keeps a mirror of them,
  loaded when it subscribes to the ``mutes`` pub/sub channel and updated by the messages on it, so
  reading a mute costs no round trip at all, and a mute set on one replica holds on every other one
  within milliseconds.

When Redis is unavailable (see ``bot.redis_connection``): claims fall back to an in-memory store
(one replica still never repeats itself; two replicas may both answer during the outage), and a
mute is kept in the mirror and written to Redis when it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

from redis.exceptions import RedisError

from handlers.deps import Claim

from .redis_connection import RedisLink, RedisUnavailable
from .state import MemoryStateStore, Mute, check_claims

logger = logging.getLogger("birdwatch.redis")

MAX_MUTES: Final = 10_000
RESUBSCRIBE_AFTER: Final = 1.0
FOLLOW_POLL: Final = 1.0  # how often the mute follower looks up from its subscription

# KEYS: the claims' keys; ARGV: per key, its ttl in ms and the 1-based index of the claim it comes
# after (0 for none). Returns 1 or 0 per key.
_CLAIM_EACH: Final = """
local made = {}
for i, key in ipairs(KEYS) do
  local after = tonumber(ARGV[2 * i])
  made[i] = 0
  if after == 0 or made[after] == 1 then
    if redis.call('SET', key, '1', 'NX', 'PX', ARGV[2 * i - 1]) then made[i] = 1 end
  end
end
return made
"""

# KEYS: hash, end times, version counter; ARGV: field, value (JSON), until ms, now ms, cap, pub/sub channel.
# Every change gets the next version, so a replica applies changes in order whatever order they reach it.
_SET_MUTE: Final = """
local version = redis.call('INCR', KEYS[3])
local record = version .. ' ' .. ARGV[2]
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
for _, field in ipairs(expired) do redis.call('HDEL', KEYS[1], field) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
if tonumber(ARGV[3]) > tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], ARGV[1], record)
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  for _, field in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do redis.call('HDEL', KEYS[1], field) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then
  redis.call('PEXPIREAT', KEYS[1], last[2])
  redis.call('PEXPIREAT', KEYS[2], last[2])
end
redis.call('PUBLISH', ARGV[6], record)
return version
"""


class RedisStateStore:
    """A StateStore on Redis with a local fallback; ``start`` begins following mutes."""

    def __init__(
        self,
        link: RedisLink,
        *,
        fallback: MemoryStateStore | None = None,
        max_mutes: int = MAX_MUTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._link = link
        self._fallback = fallback or MemoryStateStore(clock=clock)
        self._max_mutes = max_mutes
        self._clock = clock
        self._mutes: dict[tuple[str, str], Mute] = {}
        # The newest change applied per mute, lifted ones included, and the counter when last loaded.
        self._versions: dict[tuple[str, str], int] = {}
        self._loaded_version = 0
        self._unsynced: dict[tuple[str, str], Mute] = {}  # set while Redis was away
        self._set_mute = link.client.register_script(_SET_MUTE)
        self._claim_each = link.client.register_script(_CLAIM_EACH)
        self._hash, self._ends, self._channel = link.key("mutes"), link.key("mutes", "until"), link.key("mutes")
        # One integer for the installation, never expiring: versions must only grow.
        self._version_key = link.key("mutes", "version")
        self._follower: asyncio.Task[None] | None = None
        self._following = asyncio.Event()
        self._stopping = False

    async def start(self) -> None:
        """Follow mute changes in the background; returns once the mirror is loaded or Redis failed once."""
        if self._follower is None:
            self._follower = asyncio.get_running_loop().create_task(self._follow_mutes(), name="redis-mutes")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._link.timeout * 4):
                    await self._following.wait()

    async def aclose(self) -> None:
        if self._follower is not None:
            # The follower notices within a second; cancelling a blocking read is not reliable in redis-py.
            self._stopping = True
            _, pending = await asyncio.wait([self._follower], timeout=FOLLOW_POLL + self._link.timeout + 0.5)
            for task in pending:
                task.cancel()
            self._follower = None

    # --- StateStore ---

    async def claim(self, key: str, ttl: float) -> bool:
        (claimed,) = await self.claim_each([Claim(key, ttl)])
        return claimed

    async def claim_each(self, claims: Sequence[Claim]) -> list[bool]:
        check_claims(claims)
        if not claims:
            return []
        keys = [self._link.key("claim", claim.key) for claim in claims]
        args: list[int] = []
        for claim in claims:
            args += [max(1, round(claim.ttl * 1000)), 0 if claim.after is None else claim.after + 1]
        try:
            made = await self._link.call("claim", lambda: self._claim_each(keys=keys, args=args))
        except RedisUnavailable:
            return await self._fallback.claim_each(claims)
        return [bool(flag) for flag in made]

    async def release(self, key: str) -> None:
        """Forget a claim whose work failed, so a redelivery can claim it again."""
        await self._fallback.release(key)
        try:
            await self._link.call("release", lambda: self._link.client.delete(self._link.key("claim", key)))
        except RedisUnavailable:
            return  # the claim lapses with its time-to-live

    async def set_mute(self, channel: str, code: str, until: float, by: str) -> None:
        mute = Mute(channel, code, until, by)
        try:
            version = await self._write(mute)
        except RedisUnavailable:
            self._unsynced[channel, code] = mute
            self._remember(mute, self._versions.get((channel, code), 0))
            return
        self._remember(mute, version)

    async def get_mute(self, channel: str, code: str) -> Mute | None:
        mute = self._mutes.get((channel, code))
        if mute is None or mute.until <= self._clock():
            return None
        return mute

    # --- mutes ---

    async def _write(self, mute: Mute) -> int:
        value = json.dumps({"channel": mute.channel, "code": mute.code, "until": mute.until, "by": mute.by})
        args: list[str | int] = [_field(mute.channel, mute.code), value, round(mute.until * 1000)]
        args += [round(self._clock() * 1000), self._max_mutes, self._channel]
        keys = [self._hash, self._ends, self._version_key]
        version = await self._link.call("set_mute", lambda: self._set_mute(keys=keys, args=args))
        return int(version)

    def _remember(self, mute: Mute, version: int) -> None:
        key = (mute.channel, mute.code)
        if version and (version <= self._loaded_version or version < self._versions.get(key, 0)):
            return  # older than what this replica already knows
        self._versions[key] = version
        if mute.until <= self._clock():
            self._mutes.pop(key, None)
        else:
            self._mutes[key] = mute
        if len(self._versions) > self._max_mutes * 2:
            self._versions = {k: v for k, v in self._versions.items() if k in self._mutes}
        if len(self._mutes) > self._max_mutes:
            # Like the Redis side: the mute that ends first goes first.
            del self._mutes[min(self._mutes, key=lambda k: self._mutes[k].until)]

    async def _follow_mutes(self) -> None:
        while not self._stopping:
            pubsub = self._link.blocking.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                # Subscribed first, then loaded: no change can fall between the two.
                await self._push_unsynced()
                await self._load_mutes()
                self._link.answered()
                self._following.set()
                while not self._stopping:
                    message = await pubsub.get_message(timeout=FOLLOW_POLL)
                    if message is not None and message.get("type") == "message":
                        self._apply(message.get("data"))
            except (RedisError, OSError, TimeoutError, RedisUnavailable) as error:
                if not isinstance(error, RedisUnavailable):
                    self._link.failed("follow mutes", error)
                self._following.set()
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if not self._stopping:
                await asyncio.sleep(RESUBSCRIBE_AFTER)

    async def _push_unsynced(self) -> None:
        while self._unsynced:
            key, mute = next(iter(self._unsynced.items()))
            await self._write(mute)
            if self._unsynced.get(key) is mute:
                del self._unsynced[key]

    async def _load_mutes(self) -> None:
        async def snapshot() -> list[Any]:
            async with self._link.client.pipeline(transaction=True) as pipe:
                pipe.hgetall(self._hash)
                pipe.get(self._version_key)
                return await pipe.execute()

        entries, version = await self._link.call("load mutes", snapshot, timeout=self._link.timeout * 4)
        loaded: dict[tuple[str, str], Mute] = {}
        versions: dict[tuple[str, str], int] = {}
        for raw in entries.values():
            parsed = _parse_record(raw)
            if parsed is not None and parsed[1].until > self._clock():
                versions[parsed[1].channel, parsed[1].code] = parsed[0]
                loaded[parsed[1].channel, parsed[1].code] = parsed[1]
        loaded.update({key: mute for key, mute in self._unsynced.items() if mute.until > self._clock()})
        self._mutes, self._versions, self._loaded_version = loaded, versions, int(version or 0)

    def _apply(self, data: Any) -> None:
        parsed = _parse_record(data)
        if parsed is not None:
            self._remember(parsed[1], parsed[0])


def _field(channel: str, code: str) -> str:
    return f"{channel} {code}"


def _parse_record(raw: Any) -> tuple[int, Mute] | None:
    """A mute and its version from ``<version> <json>``; anything else (another writer's garbage) is ignored."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        version, _, body = text.partition(" ")
        data = json.loads(body)
        return int(version), Mute(str(data["channel"]), str(data["code"]), float(data["until"]), str(data["by"]))
    except (TypeError, ValueError, KeyError, AttributeError):
        logger.debug("ignoring an unreadable mute entry")
        return None
