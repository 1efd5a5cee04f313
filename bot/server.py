"""HTTP serving on aiohttp: Slack's request URL and a health check."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import cast

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from .alerting.intake import WEBHOOK_PATH
from .app import Runtime
from .logs import describe_slack_request
from .metrics import CONTENT_TYPE, Metrics, RequestKind, request_kind

logger = logging.getLogger("birdwatch.http")
SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
SLACK_KIND = web.RequestKey("slack_kind", str)
METRIC_KIND = web.RequestKey("metric_kind", str)  # a RequestKind; set by the routes that count
METRICS = web.AppKey("metrics", Metrics)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_web_app(runtime: Runtime, *, serve_slack: bool = True) -> web.Application:
    web_app = web.Application(middlewares=[_log_requests], client_max_size=1024**2)
    web_app[METRICS] = runtime.metrics
    web_app.router.add_get(HEALTH_PATH, _health)
    web_app.router.add_get(METRICS_PATH, _metrics)
    if serve_slack:
        verifier = SignatureVerifier(runtime.signing_secret.get_secret_value())
        web_app.router.add_post(SLACK_PATH, _slack_handler(runtime.app, verifier))
    if runtime.alerting is not None:
        web_app.router.add_post(WEBHOOK_PATH, runtime.alerting.receiver.handle)

    async def start_runtime(_: web.Application) -> None:
        await runtime.start()

    async def close_runtime(_: web.Application) -> None:
        await runtime.aclose()

    web_app.on_startup.append(start_runtime)
    web_app.on_cleanup.append(close_runtime)
    return web_app


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def _slack_handler(app: AsyncApp, verifier: SignatureVerifier) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        request[METRIC_KIND] = "other"  # until the body says what it is
        raw_body = await request.text()  # read first: a body too large keeps its 413
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):
            return web.json_response({"error": "invalid request"}, status=401)  # unsigned, or not by Slack
        bolt_request = await _readable_request(request)
        if bolt_request is None:
            # Bolt would answer 500 to what it cannot read, and Slack would redeliver it; what Slack
            # signed is acknowledged, anything else is refused as Bolt would refuse it.
            request[SLACK_KIND] = request[METRIC_KIND] = "unreadable"
            if not verifier.is_valid_request(raw_body, request.headers):
                return web.json_response({"error": "invalid request"}, status=401)
            logger.warning("acknowledged a Slack request that cannot be read")
            return web.Response(status=200)
        request[METRIC_KIND] = request_kind(bolt_request.body)
        bolt_response = await app.async_dispatch(bolt_request)
        if bolt_response.status == 404 and bolt_request.body.get("type") == "event_callback":
            # A signed event no listener takes (Bolt checked the signature first): acknowledge it,
            # or Slack redelivers it and counts the failures against the app.
            bolt_response = BoltResponse(status=200, body="")
        request[SLACK_KIND] = describe_slack_request(bolt_request.body)
        return await to_aiohttp_response(bolt_response)

    return handle


async def _readable_request(request: web.Request) -> AsyncBoltRequest | None:
    """The request as Bolt sees it, or None when Bolt would fail on it (types Slack never sends)."""
    try:
        bolt_request = await to_bolt_request(request)
    except Exception:
        logger.debug("Bolt could not read a request", exc_info=True)
        return None
    event = bolt_request.body.get("event", {})
    return bolt_request if isinstance(event, dict) else None


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
    """Bolt's Socket Mode handler, writing the same one line per request as the HTTP server."""

    metrics: Metrics | None = None

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        bolt_response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_response, time.time())
        if self.metrics is not None:
            self.metrics.request(request_kind(req.payload), bolt_response.status, time.perf_counter() - started)
        logger.info(
            "request",
            extra={
                "mode": "socket",
                "status": bolt_response.status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "slack": describe_slack_request(req.payload),
                "retry": req.retry_attempt,
            },
        )
