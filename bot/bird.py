"""Client for Bird's Channels API: fetch one message, or find which channel holds it.

birdwatch shares Bird's rate limit (50 GET/s per workspace) with the customer's own traffic, so
every request spends from a small per-workspace budget, concurrent lookups of one message share
one upstream request, answers are cached briefly, and every call is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import random
import ssl
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Hashable, Iterable
from dataclasses import dataclass, replace
from importlib import metadata
from types import TracebackType
from typing import Any, Final, Generic, Protocol, Self, TypeVar

import httpx
from cachetools import LRUCache, TLRUCache, TTLCache
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# The error and result types live with the Message model so handlers need not import the client.
from catalog import default_catalog
from catalog.ids import canonical_uuid
from catalog.message import DETAIL_LIMIT, BirdError, FoundMessage, LookupErrorKind, Message

__all__ = [
    "BirdClient",
    "BirdError",
    "Budget",
    "Channel",
    "FoundMessage",
    "MemoryMessageCache",
    "MessageCache",
    "RequestBudget",
    "new_http_client",
]

logger = logging.getLogger("birdwatch.bird")

Sleep = Callable[[float], Awaitable[object]]
Clock = Callable[[], float]

PAGE_LIMIT: Final = 100  # Bird's largest page size
MAX_CHANNEL_PAGES: Final = 100  # stops a pagination loop on a misbehaving server
BACKOFF_BASE: Final = 0.25
BACKOFF_CAP: Final = 2.0
MAX_CONNECTIONS: Final = 100
# Idle connections kept open between requests. httpcore (1.0.x) walks every pooled connection once per
# idle connection whenever a request starts or ends, so after a burst a large idle pool made the next
# burst cost O(idle x connections) on the event loop (acks took 0.6 s, lookups ran out of time).
MAX_KEEPALIVE: Final = 10
MESSAGE_CACHE_SIZE: Final = 4096
CHANNEL_CACHE_SIZE: Final = 512
# Workspaces whose request budget is tracked at once; any UUID a user types may name a workspace.
BUDGET_WORKSPACES: Final = 1024
# Fatal during a channel search: a bad key is bad everywhere, and a malformed hit is still the hit.
_SEARCH_FATAL: Final = frozenset({"unauthorized", "malformed"})


def _user_agent() -> str:
    try:
        version = metadata.version("birdwatch")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"birdwatch/{version}"


USER_AGENT: Final = _user_agent()

_KIND_BY_STATUS: Final[dict[int, LookupErrorKind]] = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    429: "rate_limited",
}


class Channel(BaseModel):
    """A channel from ``GET /workspaces/{ws}/channels``; only the id is relied upon."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    name: str | None = None
    platform_id: str | None = Field(default=None, alias="platformId")
    status: str | None = None


class _ChannelPage(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    results: list[Any] = []
    next_page_token: str | None = Field(default=None, alias="nextPageToken")


# --- seams: what several replicas share (bot.redis_bird has the Redis versions) ---------------


class Budget(Protocol):
    """The request budget per Bird workspace."""

    async def acquire(self, workspace_id: str) -> None:
        """Wait until a request to ``workspace_id`` may be sent."""
        ...


class MessageCache(Protocol):
    """Messages fetched recently, and which channel each message was found in."""

    async def get(self, workspace_id: str, message_id: str) -> FoundMessage | None: ...

    async def put(self, workspace_id: str, message_id: str, found: FoundMessage, ttl: float) -> None:
        """Keep ``found`` for ``ttl`` seconds, and where it was found for much longer (it never moves)."""
        ...

    async def channel_of(self, workspace_id: str, message_id: str) -> str | None: ...

    async def forget_channel(self, workspace_id: str, message_id: str) -> None: ...


class MemoryMessageCache:
    """The in-process MessageCache: bounded, each message with its own time-to-live."""

    def __init__(self, *, clock: Clock = time.monotonic, size: int = MESSAGE_CACHE_SIZE) -> None:
        self._messages: TLRUCache[tuple[str, str], tuple[FoundMessage, float], float] = TLRUCache(
            size, _stored_until, clock
        )
        # A message never moves between channels, so where it was found stays true.
        self._channel_of: LRUCache[tuple[str, str], str] = LRUCache(size * 4)
        self._clock = clock

    async def get(self, workspace_id: str, message_id: str) -> FoundMessage | None:
        entry = self._messages.get((workspace_id, message_id))
        return entry[0] if entry is not None else None

    async def put(self, workspace_id: str, message_id: str, found: FoundMessage, ttl: float) -> None:
        self._messages[workspace_id, message_id] = (found, self._clock() + ttl)
        self._channel_of[workspace_id, message_id] = found.channel_id

    async def channel_of(self, workspace_id: str, message_id: str) -> str | None:
        return self._channel_of.get((workspace_id, message_id))

    async def forget_channel(self, workspace_id: str, message_id: str) -> None:
        self._channel_of.pop((workspace_id, message_id), None)


def _stored_until(_key: tuple[str, str], entry: tuple[FoundMessage, float], _now: float) -> float:
    return entry[1]


# --- request budget -------------------------------------------------------------------------


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RequestBudget:
    """Per-workspace token bucket: ``rate`` requests per second, bursts of up to ``burst``.

    A bucket is forgotten once it has refilled (a new one would be the same), and at most
    ``max_workspaces`` are kept: beyond that the least recently used goes first.
    """

    def __init__(
        self,
        rate: float = 5.0,
        burst: int = 5,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_workspaces: int = BUDGET_WORKSPACES,
    ) -> None:
        if rate <= 0 or burst < 1 or max_workspaces < 1:
            raise ValueError("rate must be positive, burst and max_workspaces at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._buckets: TLRUCache[str, _Bucket, float] = TLRUCache(max_workspaces, self._full_at, clock)

    async def acquire(self, workspace_id: str) -> None:
        """Wait until a request to ``workspace_id`` may be sent."""
        bucket, wait = self._reserve(workspace_id)
        if wait <= 0:
            return
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            # The request will not be sent; give the token back so later callers are not starved.
            bucket.tokens += 1
            raise

    def _reserve(self, workspace_id: str) -> tuple[_Bucket, float]:
        """Take a token now (possibly going into debt) and return how long to wait for it."""
        now = self._clock()
        bucket = self._buckets.get(workspace_id)
        if bucket is None:
            bucket = _Bucket(tokens=self._burst, updated=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        bucket.tokens -= 1
        self._buckets[workspace_id] = bucket  # (re)sets its expiry: when it is full again
        return bucket, max(0.0, -bucket.tokens / self._rate)

    def _full_at(self, _workspace_id: str, bucket: _Bucket, _now: float) -> float:
        return bucket.updated + (self._burst - bucket.tokens) / self._rate


# --- single flight --------------------------------------------------------------------------

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _SingleFlight(Generic[K, V]):
    """Runs at most one task per key; concurrent callers await that same task."""

    def __init__(self) -> None:
        self._tasks: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, start: Callable[[], Coroutine[Any, Any, V]]) -> V:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.create_task(start())
            self._tasks[key] = task
            task.add_done_callback(functools.partial(self._forget, key))
        # A caller that gives up must not cancel the request the other callers wait for.
        return await asyncio.shield(task)

    def _forget(self, key: K, task: asyncio.Task[V]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
        if not task.cancelled():
            task.exception()  # marks it retrieved: every waiter may have given up already

    async def cancel_all(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class _Retryable(Exception):
    def __init__(self, error: BirdError, retry_after: float | None = None) -> None:
        super().__init__(error.kind)
        self.error = error
        self.retry_after = retry_after


# --- client ---------------------------------------------------------------------------------


class BirdClient:
    """Reads messages and channels from Bird's Channels API."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.bird.com",
        http: httpx.AsyncClient | None = None,
        budget: Budget | None = None,
        cache: MessageCache | None = None,
        total_timeout: float = 8.0,
        max_attempts: int = 4,
        final_ttl: float = 600,
        final_statuses: Collection[str] | None = None,
        inflight_ttl: float = 15,
        channels_ttl: float = 300,
        search_concurrency: int = 4,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        clock: Clock = time.monotonic,
        max_connections: int = MAX_CONNECTIONS,
        on_request: Callable[[int | str, float], object] | None = None,
    ) -> None:
        if total_timeout <= 0 or min(max_attempts, search_concurrency, max_connections) < 1:
            raise ValueError("total_timeout must be positive; max_attempts, search_concurrency, max_connections >= 1")
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else new_http_client(max_connections)
        self._budget: Budget = budget if budget is not None else RequestBudget()
        self._total_timeout = total_timeout
        self._max_attempts = max_attempts
        self._final_ttl = final_ttl
        # Which statuses never change again is catalog knowledge (skipped and deleted are final too).
        self._final_statuses = frozenset(
            final_statuses if final_statuses is not None else default_catalog().final_statuses
        )
        self._inflight_ttl = inflight_ttl
        self._search_concurrency = search_concurrency
        self._sleep = sleep
        self._rng = rng
        self._on_request = on_request  # (HTTP status or error name, seconds) of every request sent
        # Requests queue here rather than in httpx's pool, whose queue costs O(waiters x connections) CPU per
        # change and starves the event loop under load (encode/httpx#3215).
        self._connection_slots = asyncio.Semaphore(max_connections)
        self._cache: MessageCache = cache if cache is not None else MemoryMessageCache(clock=clock)
        # Channel lists stay per process: one request every few minutes, and the most they could save.
        self._channels: TTLCache[str, tuple[Channel, ...], float] = TTLCache(CHANNEL_CACHE_SIZE, channels_ttl, clock)
        self._channel_hits: dict[str, Counter[str]] = {}
        self._message_flights: _SingleFlight[tuple[str, str], FoundMessage] = _SingleFlight()
        self._channel_flights: _SingleFlight[str, tuple[Channel, ...]] = _SingleFlight()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._message_flights.cancel_all()
        await self._channel_flights.cancel_all()
        if self._owns_http:
            await self._http.aclose()

    # --- public API ---

    async def get_message(
        self,
        workspace_id: str,
        access_key: str,
        message_id: str,
        channel_id: str | None = None,
        *,
        fresh: bool = False,
    ) -> FoundMessage:
        """Fetch a message; without ``channel_id``, search the workspace's channels for it."""
        ws = _uuid_text(workspace_id, "workspace id")
        msg = _uuid_text(message_id, "message id")
        ch = _uuid_text(channel_id, "channel id") if channel_id is not None else None
        key = (ws, msg)
        if not fresh and (cached := await self._cache.get(ws, msg)) is not None:
            return replace(cached, from_cache=True)
        return await self._message_flights.run(key, lambda: self._fetch_message(ws, access_key, msg, ch))

    async def list_channels(self, workspace_id: str, access_key: str) -> list[Channel]:
        """All channels of the workspace, following pagination; cached for ``channels_ttl``."""
        channels, _ = await self._channels_for(_uuid_text(workspace_id, "workspace id"), access_key)
        return list(channels)

    # --- messages ---

    async def _fetch_message(self, ws: str, key: str, msg: str, ch: str | None) -> FoundMessage:
        deadline = self._deadline()
        async with self._within(deadline):
            if ch is not None:
                found = await self._read_message(ws, key, msg, ch, deadline)
            else:
                found = await self._locate_message(ws, key, msg, deadline)
        await self._remember(ws, msg, found)
        return found

    async def _read_message(self, ws: str, key: str, msg: str, ch: str, deadline: float) -> FoundMessage:
        response = await self._get(ws, key, f"/workspaces/{ws}/channels/{ch}/messages/{msg}", deadline)
        message = _parse_body(response, Message, "message")
        return FoundMessage(message=message, channel_id=ch, from_cache=False, platform=self._platform_of(ws, ch))

    def _platform_of(self, ws: str, ch: str) -> str | None:
        """The channel's platform, when the workspace's channel list is cached (no request for it)."""
        channels = self._channels.get(ws, ())
        return next((c.platform_id for c in channels if c.id == ch), None)

    async def _locate_message(self, ws: str, key: str, msg: str, deadline: float) -> FoundMessage:
        remembered = await self._cache.channel_of(ws, msg)
        if remembered is not None:
            try:
                return await self._read_message(ws, key, msg, remembered, deadline)
            except BirdError as error:
                if error.kind != "not_found":
                    raise
                await self._cache.forget_channel(ws, msg)
        channels, from_cache = await self._channels_for(ws, key)
        searched = _channel_ids(channels)
        found = await self._search(ws, key, msg, self._most_used_first(ws, searched), deadline)
        if found is None and from_cache:
            found = await self._search_new_channels(ws, key, msg, set(searched), deadline)
        if found is None:
            raise BirdError("not_found", status=404, detail="no channel of this workspace holds the message")
        return found

    async def _search_new_channels(
        self, ws: str, key: str, msg: str, searched: set[str], deadline: float
    ) -> FoundMessage | None:
        # A channel created after the list was cached would be missed: look at the new ones once.
        channels, _ = await self._channels_for(ws, key, fresh=True)
        new = [ch for ch in _channel_ids(channels) if ch not in searched]
        return await self._search(ws, key, msg, new, deadline)

    async def _search(
        self, ws: str, key: str, msg: str, channel_ids: list[str], deadline: float
    ) -> FoundMessage | None:
        """Probe the channels with bounded concurrency; the first hit wins and cancels the rest."""
        gate = asyncio.Semaphore(self._search_concurrency)

        async def probe(ch: str) -> FoundMessage | None:
            async with gate:
                try:
                    return await self._read_message(ws, key, msg, ch, deadline)
                except BirdError as error:
                    if error.kind == "not_found":
                        return None
                    raise

        tasks = [asyncio.create_task(probe(ch)) for ch in channel_ids]
        errors: list[BirdError] = []
        try:
            for next_done in asyncio.as_completed(tasks):
                try:
                    found = await next_done
                except BirdError as error:
                    if error.kind in _SEARCH_FATAL:
                        raise
                    errors.append(error)
                    continue
                if found is not None:
                    return found
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if errors:
            # Some channel could not be searched, so "not found" would be a guess.
            raise errors[0]
        return None

    async def _remember(self, ws: str, msg: str, found: FoundMessage) -> None:
        await self._cache.put(ws, msg, found, self._time_to_keep(found))
        self._channel_hits.setdefault(ws, Counter())[found.channel_id] += 1

    def _most_used_first(self, ws: str, channel_ids: list[str]) -> list[str]:
        # Most messages come from a few channels; probing those first keeps searches short.
        hits = self._channel_hits.get(ws, Counter())
        return sorted(channel_ids, key=lambda ch: -hits[ch])

    def _time_to_keep(self, found: FoundMessage) -> float:
        # A final status will not change; an in-flight one soon will.
        return self._final_ttl if found.message.status in self._final_statuses else self._inflight_ttl

    # --- channels ---

    async def _channels_for(self, ws: str, key: str, *, fresh: bool = False) -> tuple[tuple[Channel, ...], bool]:
        """The workspace's channels, and whether they came from the cache."""
        if not fresh and (cached := self._channels.get(ws)) is not None:
            return cached, True
        return await self._channel_flights.run(ws, lambda: self._fetch_channels(ws, key)), False

    async def _fetch_channels(self, ws: str, key: str) -> tuple[Channel, ...]:
        deadline = self._deadline()
        async with self._within(deadline):
            channels = await self._read_channel_pages(ws, key, deadline)
        self._channels[ws] = channels
        return channels

    async def _read_channel_pages(self, ws: str, key: str, deadline: float) -> tuple[Channel, ...]:
        channels: list[Channel] = []
        seen_tokens: set[str] = set()
        params = {"limit": str(PAGE_LIMIT)}
        for _ in range(MAX_CHANNEL_PAGES):
            response = await self._get(ws, key, f"/workspaces/{ws}/channels", deadline, params)
            page = _parse_body(response, _ChannelPage, "channel list")
            channels.extend(_valid_channels(page.results))
            token = page.next_page_token
            if not token or token in seen_tokens or not page.results:
                break
            seen_tokens.add(token)
            params = {"limit": str(PAGE_LIMIT), "pageToken": token}
        return tuple(channels)

    # --- HTTP ---

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self._total_timeout

    @contextlib.asynccontextmanager
    async def _within(self, deadline: float) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout_at(deadline):
                yield
        except TimeoutError:
            raise BirdError("timeout", detail=f"no answer within {self._total_timeout:g} s") from None

    async def _get(
        self, ws: str, key: str, path: str, deadline: float, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """GET with retries on transient failures, never waiting past ``deadline``."""
        attempt = 1
        while True:
            await self._budget.acquire(ws)
            try:
                return await self._send(key, path, params, attempt)
            except _Retryable as retry:
                delay = retry.retry_after if retry.retry_after is not None else self._backoff(attempt)
                out_of_time = asyncio.get_running_loop().time() + delay > deadline
                if attempt >= self._max_attempts or out_of_time:
                    raise retry.error from None
            await self._sleep(delay)
            attempt += 1

    async def _send(self, key: str, path: str, params: dict[str, str] | None, attempt: int) -> httpx.Response:
        async with self._connection_slots:
            return await self._send_now(key, path, params, attempt)

    async def _send_now(self, key: str, path: str, params: dict[str, str] | None, attempt: int) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._http.get(self._base_url + path, params=params, headers=_request_headers(key))
        except httpx.TimeoutException as exc:
            self._log_request(path, type(exc).__name__, attempt, started)
            raise _Retryable(BirdError("timeout", detail=type(exc).__name__)) from None
        except httpx.RequestError as exc:
            self._log_request(path, type(exc).__name__, attempt, started)
            raise _Retryable(BirdError("unavailable", detail=type(exc).__name__)) from None
        except asyncio.CancelledError:
            self._log_request(path, "cancelled", attempt, started)  # the time budget ran out, or a search ended
            raise
        self._log_request(path, response.status_code, attempt, started)
        if response.is_success:
            return response
        error = _error_for(response, key)
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(error, _retry_after(response))
        raise error

    def _log_request(self, path: str, outcome: int | str, attempt: int, started: float) -> None:
        seconds = _log_request(path, outcome, attempt, started)
        if self._on_request is not None:
            self._on_request(outcome, seconds)

    def _backoff(self, attempt: int) -> float:
        # Full jitter spreads retries of many callers instead of having them retry in step.
        return self._rng() * min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))


# --- helpers --------------------------------------------------------------------------------


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~50 ms; one context serves every client in the process.
    return httpx.create_ssl_context()


def new_http_client(max_connections: int = MAX_CONNECTIONS) -> httpx.AsyncClient:
    """The shared HTTP client, with every timeout explicit."""
    return httpx.AsyncClient(
        verify=_tls_context(),
        timeout=httpx.Timeout(connect=2.0, read=5.0, write=5.0, pool=2.0),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=min(MAX_KEEPALIVE, max_connections),
            keepalive_expiry=30.0,
        ),
        headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def _request_headers(access_key: str) -> dict[str, str]:
    # Set per request too, so an injected httpx client behaves the same.
    return {"Authorization": f"AccessKey {access_key}", "Accept": "application/json", "User-Agent": USER_AGENT}


def _uuid_text(value: str, what: str) -> str:
    """The canonical form of a UUID: the only form of an id that goes into a URL."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise BirdError("bad_request", detail=f"{what} is not a UUID")
    return canonical


def _channel_ids(channels: Iterable[Channel]) -> list[str]:
    ids: list[str] = []
    for channel in channels:
        if (canonical := canonical_uuid(channel.id)) is not None:
            ids.append(canonical)
        else:
            logger.debug("skipping a channel whose id is not a UUID")
    return ids


def _valid_channels(results: list[Any]) -> list[Channel]:
    channels: list[Channel] = []
    for item in results:
        try:
            channels.append(Channel.model_validate(item))
        except ValidationError:
            logger.debug("skipping a channel entry without an id")
    return channels


M = TypeVar("M", bound=BaseModel)


def _parse_body(response: httpx.Response, model: type[M], what: str) -> M:
    try:
        data = response.json()
    except ValueError:
        raise BirdError("malformed", status=response.status_code, detail=f"{what} is not JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Field locations only: the input would be the message body, which must not leak into errors.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise BirdError("malformed", status=response.status_code, detail=f"unexpected {what}: {problems}") from None


def _error_for(response: httpx.Response, access_key: str) -> BirdError:
    status = response.status_code
    kind = _KIND_BY_STATUS.get(status) or ("unavailable" if status >= 500 else "bad_request")
    return BirdError(kind, status=status, detail=_error_detail(response, access_key))


def _error_detail(response: httpx.Response, access_key: str) -> str | None:
    """Bird's ``code: message`` from an error body, flattened, without the key, at most 300 chars."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    parts = [str(body[name]) for name in ("code", "message") if isinstance(body.get(name), str | int)]
    text = " ".join(": ".join(parts).split())
    if access_key:
        text = text.replace(access_key, "[redacted]")
    return text[:DETAIL_LIMIT] or None


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds when it is a sane number; an HTTP date or garbage means backoff."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        seconds = float(raw.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _log_request(path: str, outcome: int | str, attempt: int, started: float) -> float:
    """Log one request to Bird; returns its duration in seconds."""
    seconds = time.perf_counter() - started
    elapsed_ms = round(seconds * 1000)
    fields = {"http_method": "GET", "http_path": path, "http_status": outcome, "attempt": attempt}
    logger.info(
        "GET %s -> %s (attempt %d, %d ms)",
        path,
        outcome,
        attempt,
        elapsed_ms,
        extra=fields | {"elapsed_ms": elapsed_ms},
    )
    return seconds
