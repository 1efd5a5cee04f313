"""A fake Bird Channels API: a real HTTP server on 127.0.0.1, for tests, scenarios and benchmarks.

    async with FakeBird() as bird:
        channel_id = bird.add_channel(WORKSPACE)
        message = bird.add_message(WORKSPACE, channel_id, sample_message(status="delivery_failed"))
        bird.fail_next(503, times=2)          # faults apply to the next N matching requests
        bird.latency = 0.2                    # seconds added to every answer
        client = BirdClient(base_url=bird.url)
        ...
        assert bird.requests[bird.message_path(WORKSPACE, channel_id, message["id"])] == 1

It serves ``GET /workspaces/{ws}/channels`` (paginated with ``limit``/``pageToken``/``nextPageToken``),
``GET /workspaces/{ws}/channels/{ch}`` and ``GET /workspaces/{ws}/channels/{ch}/messages/{id}``, checks
``Authorization: AccessKey <key>`` and answers errors in Bird's ``{"code", "message"}`` shape.

It also implements the Notifications API's webhook subscriptions
(``/organizations/{org}/workspaces/{ws}/webhook-subscriptions``: create, list, delete), and sends
signed webhooks the way Bird does (``send_webhook``; ``failure_event`` builds a delivery's body).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import ClientSession, web

from bot.alerting.signature import REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

DEFAULT_ACCESS_KEY = "fake-access-key"
BIRD_DEFAULT_PAGE_SIZE = 10
BIRD_MAX_PAGE_SIZE = 100

_ERROR_BODIES: dict[int, tuple[str, str]] = {
    400: ("InvalidPayload", "One or more fields provided in the request are malformed"),
    401: ("Unauthorized", "You are requesting with an invalid credential"),
    403: ("Forbidden", "User has no access to the requested resource"),
    404: ("NotFound", "The resource specified in the URL was not found"),
    429: ("TooManyRequests", "Too many requests"),
    500: ("InternalServerError", "An internal error occurred"),
    503: ("ServiceUnavailable", "The service is temporarily unavailable"),
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    received_at: float


@dataclass
class Fault:
    """What the next ``remaining`` requests whose path contains ``path_contains`` get instead of an answer."""

    action: Literal["status", "malformed", "hang"]
    remaining: int
    status: int = 200
    retry_after: str | None = None
    body: Any = None
    path_contains: str | None = None

    def matches(self, path: str) -> bool:
        return self.remaining > 0 and (self.path_contains is None or self.path_contains in path)


@dataclass
class _Store:
    channels: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # ws -> ch -> channel
    messages: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (ws, ch, id) -> message
    keys: dict[str, str] = field(default_factory=dict)  # ws -> access key, when not the default one
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> subscription, with its key


class FakeBird:
    """Fake Bird server; start it with ``async with`` (or ``await start()`` / ``await stop()``)."""

    def __init__(
        self, *, access_key: str = DEFAULT_ACCESS_KEY, page_size: int = BIRD_MAX_PAGE_SIZE, latency: float = 0.0
    ) -> None:
        self.access_key = access_key
        self.page_size = page_size  # the server's own cap on a page, to exercise pagination
        self.latency = latency
        self.requests: Counter[str] = Counter()  # path (without query) -> count
        self.request_log: list[RecordedRequest] = []
        self.active = 0  # requests being answered right now
        self.peak_active = 0
        self.faults: list[Fault] = []
        self._store = _Store()
        self._released = asyncio.Event()  # set at stop: hung and slow requests end
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # --- lifecycle ---

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/workspaces/{ws}/channels", self._list_channels)
        app.router.add_get("/workspaces/{ws}/channels/{ch}", self._get_channel)
        app.router.add_get("/workspaces/{ws}/channels/{ch}/messages/{msg}", self._get_message)
        subscriptions = "/organizations/{org}/workspaces/{ws}/webhook-subscriptions"
        app.router.add_post(subscriptions, self._create_subscription)
        app.router.add_get(subscriptions, self._list_subscriptions)
        app.router.add_delete(subscriptions + "/{sub}", self._delete_subscription)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        # A large backlog: benchmarks open hundreds of connections at once.
        await web.SockSite(self._runner, sock, backlog=1024).start()

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeBird is not started")
        return f"http://127.0.0.1:{self._port}"

    # --- data ---

    def add_channel(
        self,
        workspace_id: str,
        channel_id: str | None = None,
        *,
        name: str | None = None,
        platform_id: str = "sms-messagebird",
        status: str = "active",
    ) -> str:
        """Add a channel (a new UUID unless given) and return its id."""
        ws, ch = _norm(workspace_id), _norm(channel_id or str(uuid.uuid4()))
        channels = self._store.channels.setdefault(ws, {})
        channels[ch] = {
            "id": ch,
            "name": name or f"channel {len(channels) + 1}",
            "platformId": platform_id,
            "status": status,
        }
        return ch

    def add_channels(self, workspace_id: str, count: int) -> list[str]:
        return [self.add_channel(workspace_id) for _ in range(count)]

    def add_message(self, workspace_id: str, channel_id: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Store a message (its channel too, if new); fills in ``id`` and ``channelId``; returns it."""
        ws, ch = _norm(workspace_id), _norm(channel_id)
        if ch not in self._store.channels.get(ws, {}):
            self.add_channel(ws, ch)
        stored = dict(message or sample_message())
        stored.setdefault("id", str(uuid.uuid4()))
        stored.setdefault("channelId", ch)
        self._store.messages[(ws, ch, _norm(stored["id"]))] = stored
        return stored

    def set_access_key(self, workspace_id: str, access_key: str) -> None:
        """Require a different key for one workspace."""
        self._store.keys[_norm(workspace_id)] = access_key

    # --- faults ---

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        retry_after: float | str | None = None,
        body: Any = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and a Bird-shaped body unless ``body`` is given)."""
        header = None if retry_after is None else str(retry_after)
        self.faults.append(Fault("status", times, status, header, body, path_contains))

    def malformed_next(self, times: int = 1, *, path_contains: str | None = None) -> None:
        """Answer the next ``times`` requests with 200 and a body that is not JSON."""
        self.faults.append(Fault("malformed", times, path_contains=path_contains))

    def hang_next(self, times: int = 1, *, path_contains: str | None = None) -> None:
        """Never answer the next ``times`` requests (until the server stops)."""
        self.faults.append(Fault("hang", times, path_contains=path_contains))

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- inspection ---

    @staticmethod
    def channels_path(workspace_id: str) -> str:
        return f"/workspaces/{_norm(workspace_id)}/channels"

    @staticmethod
    def message_path(workspace_id: str, channel_id: str, message_id: str) -> str:
        return f"/workspaces/{_norm(workspace_id)}/channels/{_norm(channel_id)}/messages/{_norm(message_id)}"

    def count(self, path_contains: str = "") -> int:
        """Requests received whose path contains ``path_contains`` (all of them by default)."""
        return sum(n for path, n in self.requests.items() if path_contains in path)

    def reset_counts(self) -> None:
        self.requests.clear()
        self.request_log.clear()
        self.peak_active = self.active

    # --- server ---

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self._record(request)
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            await self._pause(self.latency)
            fault = self._take_fault(request.path)
            if fault is not None:
                return await self._apply(fault)
            return await handler(request)
        finally:
            self.active -= 1

    async def _list_channels(self, request: web.Request) -> web.Response:
        ws = request.match_info["ws"]
        if denied := self._check_key(request, ws):
            return denied
        try:
            limit = int(request.query.get("limit", BIRD_DEFAULT_PAGE_SIZE))
            offset = _decode_token(request.query.get("pageToken"))
        except ValueError:
            return _error(400)
        if not 1 <= limit <= BIRD_MAX_PAGE_SIZE:
            return _error(400)
        channels = list(self._store.channels.get(ws, {}).values())
        end = offset + min(limit, self.page_size)
        page: dict[str, Any] = {"results": channels[offset:end]}
        if end < len(channels):
            page["nextPageToken"] = _encode_token(end)
        return web.json_response(page)

    async def _get_channel(self, request: web.Request) -> web.Response:
        ws, ch = request.match_info["ws"], request.match_info["ch"]
        if denied := self._check_key(request, ws):
            return denied
        channel = self._store.channels.get(ws, {}).get(ch)
        return _error(404) if channel is None else web.json_response(channel)

    async def _get_message(self, request: web.Request) -> web.Response:
        ws, ch, msg = request.match_info["ws"], request.match_info["ch"], request.match_info["msg"]
        if denied := self._check_key(request, ws):
            return denied
        message = self._store.messages.get((ws, ch, msg))
        return _error(404) if message is None else web.json_response(message)

    @property
    def subscriptions(self) -> list[dict[str, Any]]:
        """Every webhook subscription, signing keys included (Bird never shows them again)."""
        return list(self._store.subscriptions.values())

    async def _create_subscription(self, request: web.Request) -> web.Response:
        org, ws = request.match_info["org"], request.match_info["ws"]
        if denied := self._check_key(request, ws):
            return denied
        try:
            body = await request.json()
        except ValueError:
            return _error(400)
        valid = (
            isinstance(body, dict)
            and body.get("service") == "channels"
            and isinstance(body.get("event"), str)
            and isinstance(body.get("url"), str)
            and str(body["url"]).startswith("https://")  # Bird requires https
            and isinstance(body.get("signingKey"), str)
            and isinstance(body.get("eventFilters", []), list)
        )
        if not valid:
            return _error(400)
        created = {
            "id": str(uuid.uuid4()),
            "organizationId": org,
            "workspaceId": ws,
            "service": body["service"],
            "event": body["event"],
            "url": body["url"],
            "eventFilters": body.get("eventFilters", []),
            "status": "active",
            "createdAt": "2024-05-01T10:00:00.000Z",
        }
        self._store.subscriptions[created["id"]] = created | {"signingKey": body["signingKey"]}
        return web.json_response(created, status=201)

    async def _list_subscriptions(self, request: web.Request) -> web.Response:
        org, ws = request.match_info["org"], request.match_info["ws"]
        if denied := self._check_key(request, ws):
            return denied
        results = [
            {k: v for k, v in sub.items() if k != "signingKey"}
            for sub in self._store.subscriptions.values()
            if sub["organizationId"] == org and sub["workspaceId"] == ws
        ]
        return web.json_response({"results": results})

    async def _delete_subscription(self, request: web.Request) -> web.Response:
        ws, sub = request.match_info["ws"], request.match_info["sub"]
        if denied := self._check_key(request, ws):
            return denied
        found = self._store.subscriptions.get(sub)
        if found is None or found["workspaceId"] != ws:
            return _error(404)
        del self._store.subscriptions[sub]
        return web.Response(status=204)

    async def _unknown(self, request: web.Request) -> web.Response:
        return self._check_key(request, None) or _error(404)

    def _record(self, request: web.Request) -> None:
        self.requests[request.path] += 1
        self.request_log.append(
            RecordedRequest(request.method, request.path, dict(request.query), dict(request.headers), time.monotonic())
        )

    def _check_key(self, request: web.Request, workspace_id: str | None) -> web.Response | None:
        expected = self._store.keys.get(workspace_id or "", self.access_key)
        return None if request.headers.get("Authorization") == f"AccessKey {expected}" else _error(401)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(path):
                fault.remaining -= 1
                return fault
        return None

    async def _apply(self, fault: Fault) -> web.Response:
        if fault.action == "hang":
            await self._released.wait()
            return _error(503)
        if fault.action == "malformed":
            return web.Response(status=200, body=b'{"id": "3fa85f64-5717', content_type="application/json")
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        return _error(fault.status, body=fault.body, headers=headers)

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            # Ends early when the server stops, so a test never waits for a slow answer nobody reads.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), seconds)


def sample_message(
    message_id: str | None = None, channel_id: str | None = None, *, status: str = "delivery_failed", **fields: Any
) -> dict[str, Any]:
    """A realistic outgoing SMS in Bird's shape (see bird-api.md §1.3); ``fields`` override any key."""
    failed = status in {"delivery_failed", "sending_failed"}
    message: dict[str, Any] = {
        "id": message_id or str(uuid.uuid4()),
        "status": status,
        "direction": "outgoing",
        "sender": {"connector": {"id": str(uuid.uuid4()), "identifierValue": "Birdwatch"}},
        "receiver": {
            "contacts": [{"id": str(uuid.uuid4()), "identifierKey": "phonenumber", "identifierValue": "+31600000000"}]
        },
        "body": {"type": "text", "text": {"text": "Your code is 123456"}},
        "reference": "order-42",
        "createdAt": "2024-05-01T10:00:00.000Z",
        "updatedAt": "2024-05-01T10:00:05.000Z",
        "lastStatusAt": "2024-05-01T10:00:05.000Z",
    }
    if channel_id is not None:
        message["channelId"] = channel_id
    if failed:
        message |= {
            "reason": "details: unknown subscriber; reason: unknown_subscriber; code: 1",
            "details": "unknown_subscriber",
            "failure": {"code": 15005, "source": {"name": "sms-messagebird", "code": "1"}},
        }
    return message | fields


def _error(status: int, *, body: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    if body is None:
        code, message = _ERROR_BODIES.get(status, ("Error", f"HTTP {status}"))
        body = {"code": code, "message": message}
    raw = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return web.Response(status=status, body=raw, content_type="application/json", headers=headers)


def _norm(identifier: str) -> str:
    # The client sends canonical lower-case UUIDs; store that way so lookups match.
    try:
        return str(uuid.UUID(identifier))
    except ValueError:
        return identifier.lower()


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    text = base64.urlsafe_b64decode(token.encode()).decode()
    if not text.startswith("offset:"):
        raise ValueError("unknown page token")
    return int(text.removeprefix("offset:"))


# --- webhooks, as Bird sends them ---------------------------------------------------------------


def failure_event(
    *,
    platform: str = "sms",
    status: str = "delivery_failed",
    code: int | None = 15005,
    source: str = "sms-messagebird",
    platform_code: str = "1",
    channel_id: str = "7b0e5a52-1c1f-4b7e-9a8d-0c6f1e2d3a4b",
    message_id: str | None = None,
    reason: str = "details: unknown subscriber; reason: unknown_subscriber; code: 1",
) -> dict[str, Any]:
    """A delivery's body: a ``<platform>.outbound`` event carrying the whole message, receiver and body
    included (birdwatch must keep those to itself)."""
    message = sample_message(message_id, channel_id, status=status)
    if status in {"delivery_failed", "sending_failed"}:
        failure: dict[str, Any] = {"source": {"name": source, "code": platform_code}}
        if code is not None:
            failure["code"] = code
        message |= {"failure": failure, "reason": reason}
    return {"service": "channels", "event": f"{platform}.outbound", "payload": message}


def signed_webhook(
    event: dict[str, Any] | bytes,
    *,
    key: str,
    url: str,
    timestamp: int | None = None,
    request_id: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a delivery signed with ``key`` for ``url`` (the URL Bird calls)."""
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(key, ts, url, body),
        TIMESTAMP_HEADER: ts,
        REQUEST_ID_HEADER: request_id or str(uuid.uuid4()),
    }
    return body, headers


async def send_webhook(
    session: ClientSession,
    to: str,
    event: dict[str, Any] | bytes,
    *,
    key: str,
    url: str,
    timestamp: int | None = None,
    request_id: str | None = None,
) -> int:
    """Deliver a signed webhook to ``to`` (where birdwatch listens), signed for ``url`` (what Bird was
    told to call: behind a proxy the two differ). Returns the HTTP status birdwatch answered."""
    body, headers = signed_webhook(event, key=key, url=url, timestamp=timestamp, request_id=request_id)
    async with session.post(to, data=body, headers=headers) as response:
        await response.read()
        return response.status
