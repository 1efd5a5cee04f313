"""The in-memory implementation of the enrichment store (``handlers.deps.StateStore``).

Callers build their own keys (``event:<event_id>``, ``seen:<channel>:<ts>:<code>``,
``repeat:<channel>:<alert>:<code>``) and pass a time-to-live; the store itself is generic.
``MemoryStateStore`` serves a single process. Several replicas need a shared store
implementing the same Protocol, e.g. Redis: ``claim`` is ``SET key 1 NX PX <ttl ms>``
(claimed when the reply is OK), ``release`` is ``DEL key``, a mute is
``SET mute:<channel>:<code> <json> PXAT <until ms>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TLRUCache


@dataclass(frozen=True, slots=True)
class Mute:
    """Replies about ``code`` in ``channel`` are muted until ``until`` (epoch seconds) by user ``by``."""

    channel: str
    code: str
    until: float
    by: str


class MemoryStateStore:
    """An in-process StateStore with bounded size and an injectable clock.

    When full, expired entries go first, then the least recently set ones. An evicted
    claim can be claimed again, so keep ``max_claims`` well above the keys set per TTL.
    """

    def __init__(
        self,
        *,
        max_claims: int = 100_000,
        max_mutes: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        # Values are expiry times; mutes live in their own cache so a burst of claims can't evict them.
        self._claims: TLRUCache[str, float, float] = TLRUCache(max_claims, _expires_at, clock)
        self._mutes: TLRUCache[tuple[str, str], Mute, float] = TLRUCache(max_mutes, _mute_expires_at, clock)

    async def claim(self, key: str, ttl: float) -> bool:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        # No await between the check and the set, so concurrent tasks cannot both claim.
        if key in self._claims:
            return False
        self._claims[key] = self._clock() + ttl
        return True

    async def release(self, key: str) -> None:
        self._claims.pop(key, None)

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


def _expires_at(_key: str, expires: float, _now: float) -> float:
    return expires


def _mute_expires_at(_key: tuple[str, str], mute: Mute, _now: float) -> float:
    return mute.until
