"""HTTP serving on aiohttp: Slack's request URL and a health check."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import cast

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from .alerting.intake import WEBHOOK_PATH
from .app import Runtime
from .logs import describe_slack_request
from .metrics import CONTENT_TYPE, Metrics, RequestKind, request_kind
from .slack_auth import TokenRejected, failure_reason, rejected_error

logger = logging.getLogger("birdwatch.http")
SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
SIGNATURE_WINDOW = 300  # seconds, as Slack documents and Bolt checks
SOCKET_CONNECT_TIMEOUT = 10.0
SOCKET_CLOSE_TIMEOUT = 2.0
SOCKET_RETRY_INTERVAL = 5.0
SOCKET_MAX_RETRY_INTERVAL = 60.0
METRICS_PATH = "/metrics"
SLACK_KIND = web.RequestKey("slack_kind", str)
METRIC_KIND = web.RequestKey("metric_kind", str)  # a RequestKind; set by the routes that count
METRICS = web.AppKey("metrics", Metrics)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_web_app(runtime: Runtime, *, serve_slack: bool = True) -> web.Application:
    web_app = web.Application(middlewares=[_log_requests], client_max_size=1024**2)
    web_app[METRICS] = runtime.metrics
    web_app.router.add_get(HEALTH_PATH, _health)
    web_app.router.add_get(READY_PATH, _ready(runtime))
    web_app.router.add_get(METRICS_PATH, _metrics)
    if serve_slack:
        web_app.router.add_post(SLACK_PATH, _slack_handler(runtime))
    if runtime.alerting is not None:
        web_app.router.add_post(WEBHOOK_PATH, _counted_as("bird_webhook", runtime.alerting.receiver.handle))

    async def start_runtime(_: web.Application) -> None:
        await runtime.start()

    async def close_runtime(_: web.Application) -> None:
        await runtime.aclose()

    web_app.on_startup.append(start_runtime)
    web_app.on_cleanup.append(close_runtime)
    return web_app


async def _health(_: web.Request) -> web.Response:
    """Liveness: the process answers. Whether it can do its job is ``/readyz``."""
    return web.json_response({"ok": True})


def _counted_as(kind: RequestKind, handler: Handler) -> Handler:
    """``handler``, its requests counted in the metrics as ``kind``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        request[METRIC_KIND] = kind
        return await handler(request)

    return handle


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _ready(runtime: Runtime) -> Handler:
    async def ready(_: web.Request) -> web.Response:
        """Readiness: every named check passes (Slack connected and authorised, ...) and the bot
        is not shutting down."""
        checks = await runtime.readiness()
        if runtime.stopping:
            checks["accepting_work"] = False
        ok = all(checks.values())
        return web.json_response({"ok": ok, "checks": checks}, status=200 if ok else 503)

    return ready


def _slack_handler(runtime: Runtime) -> Handler:
    app = runtime.app
    secret = runtime.signing_secret.get_secret_value().encode()

    async def handle(request: web.Request) -> web.StreamResponse:
        request[METRIC_KIND] = "other"  # until the body says what it is
        if runtime.stopping:
            # Slack retries a request that fails; another replica, or this one restarted, takes it.
            return web.json_response({"error": "shutting down"}, status=503, headers={"Retry-After": "1"})
        raw_body = await request.read()  # read first: a body too large keeps its 413
        if not _signed_by_slack(raw_body, request.headers, secret):
            return web.json_response({"error": "invalid request"}, status=401)  # unsigned, or not by Slack
        bolt_request, problem = _readable_request(request, raw_body)
        if bolt_request is None:
            request[SLACK_KIND] = request[METRIC_KIND] = "unreadable"
            if _is_event_callback(raw_body):
                # An event Slack signed but Bolt cannot read: acknowledge it, or Slack redelivers it
                # and counts the failures against the app.
                logger.warning("acknowledged a Slack event that cannot be read", extra={"problem": problem})
                return web.Response(status=200)
            # Signed by Slack, yet not a request Slack sends: refuse it plainly (Bolt would answer 500).
            logger.warning("refused a signed Slack request that cannot be read", extra={"problem": problem})
            return web.json_response({"error": "unreadable request", "problem": problem}, status=400)
        request[SLACK_KIND] = describe_slack_request(bolt_request.body)
        if bolt_request.body.get("type") == "app_rate_limited":
            # Slack stopped sending events for a minute; it only needs to know we heard it.
            logger.warning(
                "Slack rate limited the app's events",
                extra={"minute_rate_limited": bolt_request.body.get("minute_rate_limited")},
            )
            return web.Response(status=200)
        request[METRIC_KIND] = request_kind(bolt_request.body)
        bolt_response = await app.async_dispatch(bolt_request)
        if bolt_response.status == 404 and bolt_request.body.get("type") == "event_callback":
            # A signed event no listener takes (Bolt checked the signature first): acknowledge it,
            # or Slack redelivers it and counts the failures against the app.
            bolt_response = BoltResponse(status=200, body="")
        return await to_aiohttp_response(bolt_response)

    return handle


def _signed_by_slack(body: bytes, headers: Mapping[str, str], secret: bytes, now: float | None = None) -> bool:
    """Slack's v0 signature over the raw bytes, within its five-minute window. Computed here on
    bytes because slack_sdk's verifier decodes the body first and fails on invalid UTF-8."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and signature.isascii()):
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_WINDOW:
        return False
    expected = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v0=" + expected, signature)


def _readable_request(request: web.Request, raw_body: bytes) -> tuple[AsyncBoltRequest | None, str]:
    """The request as Bolt sees it, or None and why when Bolt would fail on it."""
    try:
        text = raw_body.decode(request.charset or "utf-8")
    except LookupError:
        return None, "unknown charset"
    except UnicodeDecodeError:
        return None, "body is not valid text in its charset"
    try:
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=dict(request.headers))
    except Exception:
        return None, "body cannot be parsed"
    problem = malformed(bolt_request.body)
    return (None, problem) if problem else (bolt_request, "")


def _is_event_callback(raw_body: bytes) -> bool:
    try:
        body = json.loads(raw_body)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type") == "event_callback"


def malformed(body: object) -> str | None:
    """What makes a parsed Slack body unusable for the listeners, or None when it is fine."""
    if not isinstance(body, dict):
        return "body is not an object"
    if "event" in body and not isinstance(body["event"], dict):
        return "event is not an object"
    actions = body.get("actions")
    if actions is not None:
        if not isinstance(actions, list):
            return "actions is not a list"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
            return "an action has no action_id"
    return None


@web.middleware
async def _log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        seconds = time.perf_counter() - started
        kind = request.get(METRIC_KIND)
        if kind is not None:
            request.app[METRICS].request(cast(RequestKind, kind), status, seconds)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round(seconds * 1000, 2),
                "slack": request.get(SLACK_KIND),
                "retry": request.headers.get("X-Slack-Retry-Num"),
            },
        )


class LoggingSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, acknowledging every envelope (Bolt's own skips any whose
    listener is missing or failed, and Slack redelivers those) and writing the same one line per
    request as the HTTP server."""

    metrics: Metrics | None = None

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        try:
            bolt_response = await run_async_bolt_app(self.app, req)
        except Exception as error:  # a malformed payload Bolt cannot even read
            logger.warning("Socket Mode envelope could not be handled", extra={"reason": failure_reason(error)})
            bolt_response = BoltResponse(status=400, body="")
        try:
            if bolt_response.status == 200:
                await send_async_response(client, req, bolt_response, time.time())
            else:
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        except Exception as error:  # the connection went away: Slack redelivers the envelope
            logger.warning("Socket Mode acknowledgement failed", extra={"reason": failure_reason(error)})
        body = req.payload if isinstance(req.payload, dict) else {}
        if self.metrics is not None:
            self.metrics.request(request_kind(body), bolt_response.status, time.perf_counter() - started)
        logger.info(
            "request",
            extra={
                "mode": "socket",
                "status": bolt_response.status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "slack": describe_slack_request(body),
                "retry": req.retry_attempt,
            },
        )


class SocketModeConnection:
    """The Socket Mode connection to Slack, kept up in the background.

    slack_sdk's own ``connect`` retries forever, logging a traceback every few seconds, and
    holds up whoever awaits it; here each attempt is bounded, a failure is one log line when
    the reason changes, retries back off to a minute, and ``close`` returns at once.
    """

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        *,
        retry_interval: float = SOCKET_RETRY_INTERVAL,
        max_retry_interval: float = SOCKET_MAX_RETRY_INTERVAL,
    ) -> None:
        self.handler = LoggingSocketModeHandler(app, app_token, logger=logging.getLogger("slack_sdk.socket_mode"))
        self.client: SocketModeClient = self.handler.client
        self._retry_interval = retry_interval
        self._max_retry_interval = max_retry_interval
        self._supervisor: asyncio.Task[None] | None = None
        self._last_reason: str | None = None
        self._closed = False

    async def connected(self) -> bool:
        """Readiness: the WebSocket to Slack is open."""
        return not self._closed and bool(await self.client.is_connected())

    async def start(self) -> None:
        """Try once now: raise TokenRejected if Slack refuses the app token; any other failure is
        logged and retried in the background."""
        try:
            await self._connect()
        except Exception as error:
            if (code := rejected_error(error)) is not None:
                raise TokenRejected("SLACK_APP_TOKEN", code) from None
            self._note_failure(error)
        self._supervisor = asyncio.get_running_loop().create_task(self._keep_connected(), name="socket-mode")

    async def _connect(self) -> None:
        async with asyncio.timeout(SOCKET_CONNECT_TIMEOUT):
            self.client.wss_uri = await self.client.issue_new_wss_url()
            await self.client.connect()  # type: ignore[no-untyped-call]
        if self._last_reason is not None or self._supervisor is None:
            logger.info("connected to Slack over Socket Mode")
        self._last_reason = None

    async def _keep_connected(self) -> None:
        delay = self._retry_interval
        while not self._closed:
            await asyncio.sleep(delay)
            if await self.client.is_connected():
                delay = self._retry_interval
                continue
            try:
                await self._connect()
                delay = self._retry_interval
            except Exception as error:
                self._note_failure(error)
                delay = min(delay * 2, self._max_retry_interval)

    def _note_failure(self, error: BaseException) -> None:
        code = rejected_error(error)
        reason = f"Slack rejected SLACK_APP_TOKEN ({code})" if code else failure_reason(error)
        if reason != self._last_reason:  # one line when the reason changes, not one per attempt
            logger.warning("cannot connect to Slack over Socket Mode; retrying", extra={"reason": reason})
            self._last_reason = reason

    async def close(self) -> None:
        """Stop taking envelopes and drop the connection; returns within a second or two."""
        if self._closed:
            return
        self._closed = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        try:
            async with asyncio.timeout(SOCKET_CLOSE_TIMEOUT):
                await self.client.close()  # type: ignore[no-untyped-call]
        except Exception as error:  # includes the timeout
            logger.info("Socket Mode connection closed uncleanly", extra={"reason": failure_reason(error)})
