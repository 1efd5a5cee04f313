"""Bird's webhooks into birdwatch over loopback, beside a bare endpoint that only verifies the signature.

Run: .venv/bin/python -m benchmarks.bench_webhooks            (about four minutes)
     .venv/bin/python -m benchmarks.bench_webhooks --million  (RSS after a million webhooks; longer)

Every request is a delivery as Bird sends it: a ``sms.outbound`` event whose payload is a whole failed
message, signed with HMAC-SHA256 over the timestamp, the configured public URL and the body's digest,
with its own ``messagebird-request-id``. One in twenty is sent twice with the same request id, as Bird's
retries are, and must not be counted twice. Failures fall into GROUPS problems (Bird channels).

Processes: birdwatch (one route for everything, threshold 5 in 5 minutes), the floor (aiohttp answering
200 after checking the signature, nothing else), a fake Slack Web API that records every alert and its
updates, and this one, generating the load. Phases:

1. the floor, then birdwatch, each for SECONDS with CLIENTS clients sending as fast as they are answered:
   webhooks/s and acknowledgement times;
2. birdwatch at a steady 500 webhooks/s for RATE_SECONDS: p99 acknowledgement;
3. birdwatch's alerts once its last refresh is due: the count each alert shows against the failures sent,
   and the most updates any alert got in one minute; birdwatch's RSS after each phase.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from benchmarks.common import BOT_TOKEN, Result, start_process, wait_until_up
from tests.fakes.fake_bird import failure_event, signed_webhook
from tests.ports import free_port
from tests.slack_requests import SIGNING_SECRET

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
RATE_SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "30"))
RATE = 500
CLIENTS = 32
GROUPS = 10
RETRY_EVERY = 20  # one delivery in this many is sent a second time, as Bird retries
MILLION = 1_000_000
SIGNING_KEY = "benchmark-signing-key"
PUBLIC_URL = "https://birdwatch.example.com"
SIGNED_URL = PUBLIC_URL + "/bird/webhooks"
WORKSPACE = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
ALERT_CHANNEL = "C0BENCH"
CHANNELS = [str(uuid.UUID(int=n + 1)) for n in range(GROUPS)]
COMMAND = ".venv/bin/python -m benchmarks.bench_webhooks"
CONFIG = f"""
[alerts]
public_url = "{PUBLIC_URL}"

[[workspace]]
id = "{WORKSPACE}"
aliases = ["prod"]
access_key_env = "BIRD_KEY_PROD"
signing_key_env = "BIRD_SIGNING_PROD"

[[alert_route]]
channel = "{ALERT_CHANNEL}"
"""


# --- servers, each in its own process -----------------------------------------------------------


def serve_birdwatch(port: int, slack_api: str, config_path: str) -> None:
    from bot.app import build_runtime
    from bot.server import create_web_app
    from bot.settings import Settings

    settings = Settings.model_validate(
        {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack_api,
            "birdwatch_config": config_path,
            "log_level": "WARNING",
        }
    )
    environ = {"BIRD_KEY_PROD": "unused-access-key", "BIRD_SIGNING_PROD": SIGNING_KEY}
    runtime = build_runtime(settings, environ=environ)
    web.run_app(create_web_app(runtime), host="127.0.0.1", port=port, print=None, access_log=None, backlog=1024)


def serve_floor(port: int) -> None:
    """The floor: check Bird's signature as its documentation shows, answer 200, nothing else."""
    key = SIGNING_KEY.encode()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get("messagebird-request-timestamp", "")
        signed = timestamp.encode() + b"\n" + SIGNED_URL.encode() + b"\n" + hashlib.sha256(body).digest()
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        given = base64.b64decode(request.headers.get("messagebird-signature", ""))
        ok = hmac.compare_digest(expected, given) and abs(time.time() - int(timestamp or 0)) <= 300
        return web.Response(status=200 if ok else 401)

    app = web.Application()
    app.router.add_post("/bird/webhooks", receive)
    app.router.add_get("/healthz", lambda _: _ok())
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=1024)


async def _ok() -> web.Response:
    return web.Response(text="ok")


def serve_slack(port: int) -> None:
    """A fake Slack Web API that keeps, per alert, the count it shows now and when it was updated."""
    shown: dict[str, int] = {}
    update_times: dict[str, list[float]] = defaultdict(list)
    methods: dict[str, int] = defaultdict(int)
    next_ts = [1_700_000_000]

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        methods[method] += 1
        body: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            body |= json.loads(raw) if request.content_type == "application/json" else dict(_form(raw))
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": "UBIRDWATCH", "bot_id": "BBIRDWATCH", "team_id": "T0"})
        if method == "chat.postMessage":
            next_ts[0] += 1
            ts = f"{next_ts[0]}.000000"
            if not body.get("thread_ts"):
                shown[ts] = _count(str(body.get("text", "")))
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})
        if method == "chat.update":
            ts = str(body.get("ts"))
            shown[ts] = _count(str(body.get("text", "")))
            update_times[ts].append(time.monotonic())
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})
        if method == "chat.getPermalink":
            return web.json_response({"ok": True, "permalink": "https://acme.slack.com/archives/C0/p1"})
        return web.json_response({"ok": True})

    async def stats(_: web.Request) -> web.Response:
        per_minute = max((_most_in_a_minute(times) for times in update_times.values()), default=0)
        return web.json_response({"shown": shown, "max_updates_per_minute": per_minute, "methods": methods})

    app = web.Application(client_max_size=10 * 1024**2)
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _form(raw: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(raw)


_COUNT = re.compile(r"([\d,]+) failures?$")


def _count(text: str) -> int:
    match = _COUNT.search(text)
    return int(match.group(1).replace(",", "")) if match else -1


def _most_in_a_minute(times: list[float]) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 60:
            start += 1
        best = max(best, end - start + 1)
    return best


# --- the load -----------------------------------------------------------------------------------


class Deliveries:
    """Signed deliveries, each a new failed message; every RETRY_EVERY-th is followed by its retry."""

    def __init__(self) -> None:
        self.sent_failures = 0
        self._templates = [
            json.dumps(failure_event(channel_id=channel, message_id="MESSAGE-ID")) for channel in CHANNELS
        ]
        self._retry: tuple[bytes, dict[str, str]] | None = None

    def next(self) -> tuple[bytes, dict[str, str]]:
        if self._retry is not None:
            retry, self._retry = self._retry, None
            return retry
        number = self.sent_failures
        self.sent_failures += 1
        body = self._templates[number % GROUPS].replace("MESSAGE-ID", str(uuid.UUID(int=number + 10**12)))
        delivery = signed_webhook(body.encode(), key=SIGNING_KEY, url=SIGNED_URL)
        if number % RETRY_EVERY == 0:
            self._retry = delivery
        return delivery


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares two cores with the servers, and
    aiohttp's client costs more CPU per request than the endpoints measured here."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, headers: dict[str, str]) -> int:
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        lines = [f"POST {self._path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        await self._reader.readexactly(int(length.group(1)) if length else 0)
        if re.search(rb"(?i)connection: *close", head):
            self._writer.close()
            self._reader = self._writer = None
        return status

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def closed_loop(name: str, url: str, deliveries: Deliveries, seconds: float, clients: int) -> Result:
    """``clients`` senders, each sending its next delivery as soon as the last is answered."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        connection = Connection(url)
        try:
            while time.perf_counter() < deadline:
                body, headers = deliveries.next()
                started = time.perf_counter()
                try:
                    ok = await connection.post(body, headers) == 200
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    connection = Connection(url)
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Result(name, latencies, errors, time.perf_counter() - started)


async def open_loop(name: str, url: str, deliveries: Deliveries, seconds: float, rate: int) -> Result:
    """Deliveries started at a steady ``rate`` per second, whatever the answers' speed (a pool of
    connections; one that is busy is never waited for while another is free)."""
    latencies: list[float] = []
    errors = 0
    idle: list[Connection] = []
    opened: list[Connection] = []

    async def send(body: bytes, headers: dict[str, str]) -> None:
        nonlocal errors
        connection = idle.pop() if idle else Connection(url)
        if connection not in opened:
            opened.append(connection)
        started = time.perf_counter()
        try:
            errors += await connection.post(body, headers) != 200
            idle.append(connection)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors += 1
        latencies.append((time.perf_counter() - started) * 1000)

    tasks = []
    started = time.perf_counter()
    for number in range(int(seconds * rate)):
        wait = started + number / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        body, headers = deliveries.next()
        tasks.append(asyncio.create_task(send(body, headers)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    for connection in opened:
        connection.close()
    return Result(name, latencies, errors, elapsed)


def cpu_seconds(pid: int | None) -> float:
    """CPU time the process has used (user + system): unlike rates, it does not move with the load of
    whatever else shares the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | None) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        data: dict[str, Any] = await response.json()
        return data


async def settled(url: str, sent: int, timeout: float = 120.0) -> dict[str, Any]:
    """Slack's view once every alert's last refresh (30 s after the one before, sent by the engine's
    5-second tick, updates 1.3 s apart) has arrived: its counts add up to ``sent``, or stop moving."""
    deadline = time.monotonic() + timeout
    while True:
        seen = await stats(url)
        if sum(seen["shown"].values()) >= sent or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(2)


async def main(million: bool) -> None:
    config = Path(tempfile.mkdtemp()) / "birdwatch.toml"
    config.write_text(CONFIG, encoding="utf-8")
    slack_port, birdwatch_port, floor_port = free_port(), free_port(), free_port()
    slack = start_process(serve_slack, slack_port)
    birdwatch = start_process(serve_birdwatch, birdwatch_port, f"http://127.0.0.1:{slack_port}/api/", str(config))
    floor = start_process(serve_floor, floor_port)
    for port in (birdwatch_port, floor_port):
        await wait_until_up(f"http://127.0.0.1:{port}/healthz")
    target = f"http://127.0.0.1:{birdwatch_port}/bird/webhooks"
    floor_url = f"http://127.0.0.1:{floor_port}/bird/webhooks"
    stats_url = f"http://127.0.0.1:{slack_port}/stats"
    deliveries = Deliveries()
    try:
        if million:
            await million_mode(target, deliveries, birdwatch.pid, stats_url)
            return
        cpu = cpu_seconds(floor.pid)
        floor_result = await closed_loop("floor: verify + 200", floor_url, Deliveries(), SECONDS, CLIENTS)
        floor_cpu = (cpu_seconds(floor.pid) - cpu) / floor_result.count
        rss_before = rss_mb(birdwatch.pid)
        cpu = cpu_seconds(birdwatch.pid)
        sustained = await closed_loop("birdwatch, as fast as answered", target, deliveries, SECONDS, CLIENTS)
        # Counting runs after the answers: wait for the queue to empty before reading the CPU clock.
        await asyncio.sleep(5)
        birdwatch_cpu = (cpu_seconds(birdwatch.pid) - cpu) / sustained.count
        rss_sustained = rss_mb(birdwatch.pid)
        steady = await open_loop(f"birdwatch at {RATE}/s", target, deliveries, RATE_SECONDS, RATE)
        seen = await settled(stats_url, deliveries.sent_failures)
        rss_after = rss_mb(birdwatch.pid)
    finally:
        for process in (birdwatch, floor, slack):
            process.terminate()
    shown = sum(seen["shown"].values())
    print(f"signed Bird deliveries over loopback, {CLIENTS} clients for {SECONDS:.0f} s, then {RATE}/s\n")
    print(f"{'scenario':<34} {'n':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'per s':>7} {'errors':>6}")
    for result in (floor_result, sustained, steady):
        print(
            f"{result.name:<34} {result.count:>7} {result.percentile(50):>8.2f} {result.percentile(99):>8.2f} "
            f"{max(result.latencies_ms):>8.2f} {result.throughput:>7.0f} {result.errors:>6}"
        )
    print(
        f"\nbirdwatch sustained {sustained.throughput:.0f} webhooks/s = "
        f"{sustained.throughput / floor_result.throughput:.0%} of the floor's {floor_result.throughput:.0f}/s"
    )
    print(f"p99 acknowledgement at {RATE}/s: {steady.percentile(99):.1f} ms")
    print(
        f"server CPU per webhook: birdwatch {birdwatch_cpu * 1e6:.0f} µs (intake and counting), "
        f"floor {floor_cpu * 1e6:.0f} µs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"failures sent {deliveries.sent_failures} (plus {deliveries.sent_failures // RETRY_EVERY} retries); "
        f"counts shown in Slack's {len(seen['shown'])} alerts: {shown}"
    )
    print(f"most updates of one alert in one minute: {seen['max_updates_per_minute']}")
    print(
        f"birdwatch RSS: {rss_before:.0f} MB at start, {rss_sustained:.0f} MB after the sustained phase, "
        f"{rss_after:.0f} MB at the end"
    )
    print(f"Slack calls: {dict(seen['methods'])}")
    print(f"\nrun: {COMMAND}")


async def million_mode(target: str, deliveries: Deliveries, pid: int | None, stats_url: str) -> None:
    started = time.perf_counter()
    rss_start = rss_mb(pid)
    errors = 0
    while deliveries.sent_failures < MILLION:
        result = await closed_loop("million", target, deliveries, 20, CLIENTS)
        errors += result.errors
        print(
            f"{deliveries.sent_failures:>9} failures sent, {result.throughput:.0f}/s, RSS {rss_mb(pid):.0f} MB",
            flush=True,
        )
    seen = await settled(stats_url, deliveries.sent_failures)
    print(
        f"\n{deliveries.sent_failures} failures (plus {deliveries.sent_failures // RETRY_EVERY} retries) in "
        f"{time.perf_counter() - started:.0f} s, {errors} errors; RSS {rss_start:.0f} MB at start, "
        f"{rss_mb(pid):.0f} MB after; counts shown in Slack: {sum(seen['shown'].values())}"
    )
    print(f"\nrun: {COMMAND} --million")


if __name__ == "__main__":
    multiprocessing.set_start_method("spawn")
    asyncio.run(main("--million" in sys.argv[1:]))
