"""The in-memory implementation of the enrichment store (``handlers.deps.StateStore``).

Callers build their own keys (``event:<event_id>``, ``seen:<channel>:<ts>:<code>``,
``repeat:<channel>:<alert>:<code>``) and pass a time-to-live; the store itself is generic.
``MemoryStateStore`` serves a single process; ``bot.redis_state.RedisStateStore`` implements the
same protocol for several replicas.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import TLRUCache

from handlers.deps import Claim

logger = logging.getLogger("birdwatch.state")
SHED_WARNING_INTERVAL = 60.0


@dataclass(frozen=True, slots=True)
class Mute:
    """Replies about ``code`` in ``channel`` are muted until ``until`` (epoch seconds) by user ``by``."""

    channel: str
    code: str
    until: float
    by: str


class MemoryStateStore:
    """An in-process StateStore with bounded size and an injectable clock.

        Claims are deduplication state: evicting one that has not expired could let Slack's
        redelivery of an event, or a second copy of an alert, be answered twice. So the store never
        evicts a live claim. Keys are ``<kind>:<id>`` or ``<kind>:<channel>:<rest>``, kinds a small fixed
    set (``event``, ``seen``, ``repeat``); every kind holds
        at most ``max_claims`` live claims and every channel of a kind at most ``max_claims_per_channel``.
        A claim that finds its bound full of live claims, once expired ones are dropped, is shed:
        ``claim`` answers False (the work is not done, rather than done twice) and a warning says so.
        A flood in one channel therefore sheds only that channel's new work, and can neither evict
        nor starve the event claims or other channels.
    """

    def __init__(
        self,
        *,
        max_claims: int = 100_000,
        max_claims_per_channel: int = 10_000,
        max_mutes: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._max_claims = max_claims
        self._max_per_channel = max_claims_per_channel
        self._claims: dict[str, float] = {}  # key -> expiry
        self._expiries: list[tuple[float, str]] = []  # a heap, so expired claims go in expiry order
        self._per_kind: Counter[str] = Counter()
        self._per_channel: Counter[tuple[str, str]] = Counter()
        self._last_shed_warning: dict[str, float] = {}
        self.shed = 0  # claims refused because their bound was full of live claims
        # Mutes live in their own cache, so a burst of claims cannot evict them.
        self._mutes: TLRUCache[tuple[str, str], Mute, float] = TLRUCache(max_mutes, _mute_expires_at, clock)

    async def claim(self, key: str, ttl: float) -> bool:
        return self._claim(key, ttl)

    async def claim_each(self, claims: Sequence[Claim]) -> list[bool]:
        check_claims(claims)
        made: list[bool] = []
        for claim in claims:
            made.append((claim.after is None or made[claim.after]) and self._claim(claim.key, claim.ttl))
        return made

    def _claim(self, key: str, ttl: float) -> bool:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        # Not a coroutine, so concurrent tasks cannot both claim.
        now = self._clock()
        self._drop_expired(now)
        if key in self._claims:
            return False
        kind, channel = _scope(key)
        if self._per_kind[kind] >= self._max_claims or (
            channel is not None and self._per_channel[kind, channel] >= self._max_per_channel
        ):
            self._shed(kind, channel, now)
            return False
        expires = now + ttl
        self._claims[key] = expires
        heapq.heappush(self._expiries, (expires, key))
        self._per_kind[kind] += 1
        if channel is not None:
            self._per_channel[kind, channel] += 1
        return True

    async def release(self, key: str) -> None:
        if self._claims.pop(key, None) is None:
            return
        # Its heap entry stays and is skipped when it comes due (the claim no longer matches it).
        kind, channel = _scope(key)
        _decrement(self._per_kind, kind)
        if channel is not None:
            _decrement(self._per_channel, (kind, channel))

    def _drop_expired(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expires, key = heapq.heappop(self._expiries)
            if self._claims.get(key) != expires:
                continue
            del self._claims[key]
            kind, channel = _scope(key)
            _decrement(self._per_kind, kind)
            if channel is not None:
                _decrement(self._per_channel, (kind, channel))

    def _shed(self, kind: str, channel: str | None, now: float) -> None:
        self.shed += 1
        where = f"{kind}:{channel}" if channel else kind
        last = self._last_shed_warning.get(where)
        if last is None or now - last >= SHED_WARNING_INTERVAL:  # one line a minute, not one per claim
            if len(self._last_shed_warning) > 10_000:
                self._last_shed_warning.clear()
            self._last_shed_warning[where] = now
            logger.warning("deduplication state full: new work shed", extra={"scope": where, "shed": self.shed})

    async def set_mute(self, channel: str, code: str, until: float, by: str) -> None:
        if until <= self._clock():
            self._mutes.pop((channel, code), None)
        else:
            self._mutes[channel, code] = Mute(channel, code, until, by)

    async def get_mute(self, channel: str, code: str) -> Mute | None:
        return self._mutes.get((channel, code))

    def __len__(self) -> int:
        """Entries held, counting expired ones not purged yet."""
        return len(self._claims) + len(self._mutes)


def check_claims(claims: Sequence[Claim]) -> None:
    """Refuse a batch that no store could honour: a claim after a later one, or a non-positive ttl."""
    for index, claim in enumerate(claims):
        if claim.ttl <= 0:
            raise ValueError("ttl must be positive")
        if claim.after is not None and not 0 <= claim.after < index:
            raise ValueError(f"claim {index} comes after {claim.after}, which is not an earlier claim")


def _scope(key: str) -> tuple[str, str | None]:
    """The kind of a claim key and, for ``<kind>:<channel>:<rest>`` keys, its channel."""
    parts = key.split(":", 2)
    if len(parts) == 1:
        return "", None  # keys without a kind share one bound
    return parts[0], parts[1] if len(parts) == 3 else None


def _decrement(counter: Counter[Any], key: Any) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def _mute_expires_at(_key: tuple[str, str], mute: Mute, _now: float) -> float:
    return mute.until
