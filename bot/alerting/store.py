"""Where alert state lives: a narrow interface, and the in-memory implementation.

The engine changes a document (a group's ``GroupState``, a channel's ``DigestState``) only through
``update``, a read-modify-write that is atomic for that key: in memory because nothing awaits inside
it, in Redis (``bot.alerting.redis_store``) by optimistic locking. So every decision (open an alert,
refresh it, resolve it) is taken once, by one caller, even with several replicas.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from catalog.failure_groups import DigestState, FailureFact, GroupState

Doc = TypeVar("Doc", GroupState, DigestState)
Result = TypeVar("Result")
Change = Callable[[Doc | None], tuple[Doc | None, Result]]

# Bird retries an unacknowledged delivery for 8 hours; remember what was counted a little longer.
DEDUP_TTL = 9 * 3600.0
REQUEST_KEY = "request:"  # the prefix of keys made from Bird's request ids


class AlertStore(Protocol):
    async def first_seen(self, keys: Sequence[str], ttl: float, now: float) -> list[bool]:
        """For each key, True if no call in the last ``ttl`` seconds saw it; all of them are now seen."""
        ...

    async def update(self, kind: type[Doc], key: str, change: Change[Doc, Result]) -> Result:
        """Apply ``change`` to the document atomically; a None document from it deletes the key."""
        ...

    async def read(self, kind: type[Doc], key: str) -> Doc | None: ...

    async def keys(self, kind: type[Doc]) -> list[str]:
        """Keys of every document of this kind."""
        ...


class FailureQueue(Protocol):
    """Failures acknowledged to Bird and not yet counted."""

    async def put(self, fact: FailureFact) -> None: ...

    async def take(self, max_items: int) -> list[FailureFact]:
        """Wait for at least one failure; return up to ``max_items``."""
        ...

    async def done(self) -> None:
        """The failures last taken are counted."""
        ...

    async def size(self) -> int: ...


class DedupWindow:
    """Keys seen in the last ``ttl`` seconds, in hourly generations of 64-bit hashes.

    A million keys cost about 60 MB instead of the 300 MB that strings with expiry times would;
    a key is forgotten between ``ttl`` and ``ttl`` + 1 hour after it was seen.
    """

    GENERATION = 3600.0

    def __init__(self) -> None:
        self._generations: dict[int, set[int]] = {}

    def first_seen(self, key: str, ttl: float, now: float) -> bool:
        current = int(now // self.GENERATION)
        oldest = current - math.ceil(ttl / self.GENERATION)
        for generation in [g for g in self._generations if g < oldest]:
            del self._generations[generation]
        digest = hash(key)
        if any(digest in seen for seen in self._generations.values()):
            return False
        self._generations.setdefault(current, set()).add(digest)
        return True

    def __len__(self) -> int:
        return sum(len(seen) for seen in self._generations.values())


class RecentKeys:
    """The last ``max_keys`` keys seen, whatever their age."""

    def __init__(self, max_keys: int) -> None:
        self._order: deque[int] = deque()
        self._seen: set[int] = set()
        self._max_keys = max_keys

    def first_seen(self, key: str) -> bool:
        digest = hash(key)
        if digest in self._seen:
            return False
        self._seen.add(digest)
        self._order.append(digest)
        if len(self._order) > self._max_keys:
            self._seen.discard(self._order.popleft())
        return True


RECENT_REQUEST_IDS = 100_000


class MemoryAlertStore:
    """One process's alert state; a restart loses it (see the README).

    A failure's (message id, status) is remembered for the whole ``ttl``; request ids, which only add
    something for deliveries without a message id, for the last RECENT_REQUEST_IDS deliveries: so a
    million failures cost one key each, not two.
    """

    def __init__(self) -> None:
        self._dedup = DedupWindow()
        self._requests = RecentKeys(RECENT_REQUEST_IDS)
        self._docs: dict[tuple[str, str], GroupState | DigestState] = {}

    async def first_seen(self, keys: Sequence[str], ttl: float, now: float) -> list[bool]:
        return [
            self._requests.first_seen(key) if key.startswith(REQUEST_KEY) else self._dedup.first_seen(key, ttl, now)
            for key in keys
        ]

    async def update(self, kind: type[Doc], key: str, change: Change[Doc, Result]) -> Result:
        current = self._docs.get((kind.KIND, key))
        document, result = change(current if isinstance(current, kind) else None)
        if document is None:
            self._docs.pop((kind.KIND, key), None)
        else:
            self._docs[kind.KIND, key] = document
        return result

    async def read(self, kind: type[Doc], key: str) -> Doc | None:
        current = self._docs.get((kind.KIND, key))
        return current if isinstance(current, kind) else None

    async def keys(self, kind: type[Doc]) -> list[str]:
        return [key for doc_kind, key in self._docs if doc_kind == kind.KIND]


class MemoryFailureQueue:
    """An unbounded in-process queue: Bird has been told the failure arrived, so it is never dropped."""

    def __init__(self) -> None:
        self._items: deque[FailureFact] = deque()
        self._ready = asyncio.Event()

    async def put(self, fact: FailureFact) -> None:
        self._items.append(fact)
        self._ready.set()

    async def take(self, max_items: int) -> list[FailureFact]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        count = min(max_items, len(self._items))
        return [self._items.popleft() for _ in range(count)]

    async def done(self) -> None:
        """Nothing to do: a failure leaves this queue when it is taken."""

    async def size(self) -> int:
        return len(self._items)
