"""Shared pieces of the benchmark scripts: servers in their own processes, a signed-request load loop."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

import aiohttp
from aiohttp import web

from tests.slack_requests import SIGNING_SECRET, signed_headers

BOT_TOKEN = "xoxb-benchmark"


def serve_birdwatch(port: int, slack_api: str, *, bird: Any = None, backlog: int = 128, **settings: Any) -> None:
    """birdwatch's own server, built as scripts/run builds it but from these settings alone: no .env
    and no environment, so a developer's configuration cannot change the figures."""
    from bot.app import build_runtime
    from bot.server import create_web_app
    from bot.settings import Settings

    values = {"slack_bot_token": BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET, "slack_api_url": slack_api}
    runtime = build_runtime(
        Settings.model_validate(values | {"log_level": "WARNING"} | settings), environ={}, bird=bird
    )
    web.run_app(create_web_app(runtime), host="127.0.0.1", port=port, print=None, access_log=None, backlog=backlog)


def serve_bare_bolt(port: int, slack_api: str, listen: str) -> None:
    """The baseline: Bolt's AsyncApp with default settings on its own aiohttp server, whose one listener
    (a slash command such as "/failure", or an event type such as "message") only acknowledges."""
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api), signing_secret=SIGNING_SECRET)

    async def acknowledge(ack: AsyncAck) -> None:
        await ack()

    (app.command if listen.startswith("/") else app.event)(listen)(acknowledge)
    web.run_app(app.web_app(path="/slack/events"), host="127.0.0.1", port=port, print=None, access_log=None)


def start_process(target: Callable[..., None], *args: Any) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    process.start()
    return process


async def wait_until_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not come up")
            await asyncio.sleep(0.1)


@dataclass
class Result:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        return (
            f"{self.name:<34} {self.count:>6} {self.percentile(50):>8.2f} {self.percentile(99):>8.2f} "
            f"{max(self.latencies_ms, default=float('nan')):>8.2f} {self.throughput:>9.0f} {self.errors:>6}"
        )


HEADER = f"{'scenario':<34} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>9} {'errors':>6}"

BodyFactory = Callable[[int], tuple[str, str]]  # request number -> (body, content type)
Check = Callable[[int, bytes], bool]


async def run_load(
    name: str,
    url: str,
    make_body: BodyFactory,
    *,
    requests: int,
    concurrency: int,
    check: Check,
    secret: str = SIGNING_SECRET,
) -> Result:
    """Send ``requests`` signed POSTs from ``concurrency`` clients; time each one end to end."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors
            for number in counter:
                body, content_type = make_body(number)
                headers = signed_headers(body, secret=secret, content_type=content_type)
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        payload = await response.read()
                        ok = check(response.status, payload)
                except aiohttp.ClientError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(name, latencies, errors, seconds)


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(main())


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
