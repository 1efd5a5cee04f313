"""HTTP serving on aiohttp: Slack's request URL and a health check."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from .app import Runtime

logger = logging.getLogger("birdwatch.http")
SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SLACK_KIND = web.RequestKey("slack_kind", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_web_app(runtime: Runtime, *, serve_slack: bool = True) -> web.Application:
    web_app = web.Application(middlewares=[_log_requests], client_max_size=1024**2)
    web_app.router.add_get(HEALTH_PATH, _health)
    if serve_slack:
        web_app.router.add_post(SLACK_PATH, _slack_handler(runtime.app))

    async def close_runtime(_: web.Application) -> None:
        await runtime.aclose()

    web_app.on_cleanup.append(close_runtime)
    return web_app


async def _health(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _slack_handler(app: AsyncApp) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        bolt_request = await to_bolt_request(request)
        bolt_response = await app.async_dispatch(bolt_request)
        request[SLACK_KIND] = _describe(bolt_request.body)
        return await to_aiohttp_response(bolt_response)

    return handle


def _describe(body: dict[str, object]) -> str:
    """What a Slack request was, for the log line: a command, an event type, an action."""
    if command := body.get("command"):
        return f"command {command}"
    event = body.get("event")
    if isinstance(event, dict):
        subtype = event.get("subtype")
        return f"event {event.get('type')}" + (f"/{subtype}" if subtype else "")
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return f"action {actions[0].get('action_id')}"
    return str(body.get("type") or "unknown")


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
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "slack": request.get(SLACK_KIND),
                "retry": request.headers.get("X-Slack-Retry-Num"),
            },
        )
