"""One rate for the whole fleet: a generic cell-rate algorithm (GCRA) in one Lua script on Redis.

Each key holds one number, the theoretical arrival time of the next request. ``reserve`` moves it on
by one interval and answers how long the caller must wait before sending, using Redis's own clock,
so replicas whose clocks disagree still share one pace. A reservation is never given back: a caller
that gives up after reserving only makes the others a little slower, never faster than the rate.
The key expires once the bucket would be full again, so idle workspaces and channels cost nothing.
"""

from __future__ import annotations

from typing import Final

from .redis_connection import RedisLink

# Lua functions for scripts that take a turn: ``now_us()`` is Redis's clock; ``reserve`` moves the
# bucket on by one interval and returns the wait in microseconds (``bot.redis_replies`` uses them too).
GCRA_FUNCTIONS: Final = """
local function now_us()
  local parts = redis.call('TIME')
  return tonumber(parts[1]) * 1000000 + tonumber(parts[2])
end
local function reserve(bucket, interval, burst, now)
  local tat = tonumber(redis.call('GET', bucket) or now)
  if tat < now then tat = now end
  local next_tat = tat + interval
  local wait = next_tat - burst * interval - now
  redis.call('SET', bucket, string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
  if wait < 0 then wait = 0 end
  return wait
end
"""

# KEYS: the bucket; ARGV: interval in microseconds, burst. Returns the wait in microseconds.
_RESERVE: Final = GCRA_FUNCTIONS + "return reserve(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_us())"


class FleetRate:
    """``rate`` events per second per key, in bursts of up to ``burst``, counted across every replica."""

    def __init__(self, link: RedisLink, name: str, *, rate: float, burst: int = 1) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._link = link
        self._name = name
        self._interval_us = max(1, round(1_000_000 / rate))
        self._burst = burst
        self._script = link.client.register_script(_RESERVE)

    async def reserve(self, key: str) -> float:
        """Take the next slot for ``key``; seconds to wait before using it. Raises RedisUnavailable."""
        keys, args = [self._link.key("rate", self._name, key)], [self._interval_us, self._burst]
        wait_us = await self._link.call(self._name, lambda: self._script(keys=keys, args=args))
        return int(wait_us) / 1_000_000
