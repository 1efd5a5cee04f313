"""A fake Slack Web API (and response_url endpoint) on 127.0.0.1, recording what the bot sent."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_USER_ID = "UBIRDWATCH"
BOT_ID = "BBIRDWATCH"
TEAM_ID = "T0TEAM"


@dataclass
class SlackCall:
    method: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when it arrived, to measure pacing


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    times: int


@dataclass
class FakeSlack:
    """Answers the Web API methods birdwatch uses; ``calls`` holds every request in order."""

    calls: list[SlackCall] = field(default_factory=list)
    _failures: dict[str, list[_Failure]] = field(default_factory=lambda: defaultdict(list))
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None
    port: int = 0
    _next_ts: float = field(default_factory=lambda: float(int(time.time())))
    socket_replies: list[dict[str, Any]] = field(default_factory=list)
    _socket: web.WebSocketResponse | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, token: str = "cmd") -> str:
        return f"{self.url}/response/{token}"

    def fail_next(
        self, method: str, *, status: int = 429, error: str = "ratelimited", retry_after: int | None = 1, times: int = 1
    ) -> None:
        self._failures[method].append(_Failure(status, error, retry_after, times))

    def timed(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` calls of ``method`` arrived (bot work runs in the background)."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.of(method)) >= count), timeout)
        return self.of(method)

    async def __aenter__(self) -> FakeSlack:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk sends a few methods as GET
        app.router.add_post("/response/{token}", self._response)
        app.router.add_get("/socket", self._socket_mode)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        if self._socket is not None:
            await self._socket.close()
        await self._runner.cleanup()

    async def _record(self, method: str, body: dict[str, Any]) -> None:
        assert self._changed is not None
        async with self._changed:
            self.calls.append(SlackCall(method, body))
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = dict(request.query) | await _read_body(request)
        await self._record(method, body)
        failure = self._next_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        return web.json_response(self._answer(method, body))

    def _next_failure(self, method: str) -> _Failure | None:
        pending = self._failures.get(method)
        if not pending:
            return None
        failure = pending[0]
        failure.times -= 1
        if failure.times <= 0:
            pending.pop(0)
        return failure

    async def _response(self, request: web.Request) -> web.Response:
        """A response_url; ``fail_next("response_url", ...)`` makes it answer as Slack does when it
        fails: the status, and the error as plain text (``expired_url``, ``used_url``, ...)."""
        body = await _read_body(request)
        body["_token"] = request.match_info["token"]
        await self._record("response_url", body)
        failure = self._next_failure("response_url")
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.Response(text=failure.error, status=failure.status, headers=headers)
        return web.Response(text="ok")

    async def socket_connected(self, timeout: float = 10.0) -> None:
        """Wait until an app has opened a Socket Mode connection."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self._socket is not None), timeout)

    async def socket_send(self, envelope: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
        """Deliver a Socket Mode envelope and return the app's acknowledgement for it."""
        assert self._socket is not None
        assert self._changed is not None
        await self._socket.send_json(envelope)
        wanted = envelope["envelope_id"]
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: any(r.get("envelope_id") == wanted for r in self.socket_replies)),
                timeout,
            )
        return next(r for r in self.socket_replies if r.get("envelope_id") == wanted)

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        assert self._changed is not None
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0BIRDWATCH"}})
        async with self._changed:
            self._socket = socket
            self._changed.notify_all()
        async for frame in socket:
            if frame.type == WSMsgType.TEXT:
                async with self._changed:
                    self.socket_replies.append(json.loads(frame.data))
                    self._changed.notify_all()
        return socket

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "birdwatch",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.postEphemeral"):
            self._next_ts += 1
            return {
                "ok": True,
                "channel": body.get("channel"),
                "ts": f"{self._next_ts:.6f}",
                "message": {"text": body.get("text", "")},
            }
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text", "")}
        if method == "chat.getPermalink":
            ts = str(body.get("message_ts", "")).replace(".", "")
            return {"ok": True, "permalink": f"https://acme.slack.com/archives/{body.get('channel')}/p{ts}"}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": True}


async def _read_body(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    if request.content_type == "application/json":
        data = json.loads(raw or "{}")
        return data if isinstance(data, dict) else {"_": data}
    body: dict[str, Any] = dict(parse_qsl(raw))
    for key in ("blocks", "attachments"):
        if isinstance(body.get(key), str):
            body[key] = json.loads(body[key])
    return body
