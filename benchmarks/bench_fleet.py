"""birdwatch as a fleet: one replica in memory, one on Redis, three on Redis; and Redis round trips per event.

Run: .venv/bin/python -m benchmarks.bench_fleet

Each scenario gets the same load: signed ``message`` events carrying a new Alertmanager-shaped alert each
(every one read, scanned, claimed and answered with one queued thread reply), from CLIENTS clients; with
three replicas the clients spread their requests round robin over the replicas, as a load balancer would.
Processes: each replica, a redis-server (its own, on a free port, no persistence), the fake Slack Web API;
this one generates the load.

Round trips are counted by Redis itself: ``MONITOR`` lists every command a client sends during a phase (one
replica, one client, until its reply queue has settled). Commands a script runs are listed as the script's
own (``lua``) and travel in its one round trip, as a MULTI ... EXEC transaction does; scripts are named by
their SHA1. Background work that is not per event (the reply queue's keep-and-take-over round every few
seconds, the mute follower's pub/sub, a script's one-time SCRIPT LOAD) is shown apart.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.bench_events import _replies_settled, alert_event, serve_fake_slack
from benchmarks.common import HEADER, Result, serve_birdwatch, start_process, wait_until_up
from tests.ports import free_port
from tests.redis_round_trips import RoundTrips
from tests.redis_server import RedisServer
from tests.slack_requests import event_body, signed_headers

EVENTS = int(os.environ.get("BENCH_EVENTS", "1500"))
ROUND_TRIP_EVENTS = int(os.environ.get("BENCH_ROUND_TRIP_EVENTS", "200"))
WARM_UP = 30
CLIENTS = 16
WATCHED = [f"C{n:08d}" for n in range(1000)]  # alert_event's channels for its first 1000 numbers
COMMAND = ".venv/bin/python -m benchmarks.bench_fleet"


class Numbers:
    """Event numbers never reused across phases: every alert has its own event id, ts and (channel, code)."""

    def __init__(self) -> None:
        self.counter = itertools.count()

    def body(self, *, channel: str | None = None) -> str:
        n = next(self.counter)
        event = alert_event(n)
        if channel is not None:
            event["channel"] = channel
        return event_body(event, event_id=f"Ev{n:010d}")


async def load(name: str, urls: list[str], numbers: Numbers, *, count: int, clients: int) -> Result:
    latencies: list[float] = []
    errors = 0
    remaining = iter(range(count))
    targets = itertools.cycle(urls)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:

        async def client() -> None:
            nonlocal errors
            for _ in remaining:
                body = numbers.body()
                headers = signed_headers(body, content_type="application/json")
                started = time.perf_counter()
                try:
                    async with session.post(next(targets), data=body, headers=headers) as response:
                        await response.read()
                        errors += response.status != 200
                except aiohttp.ClientError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        seconds = time.perf_counter() - started
    return Result(name, latencies, errors, seconds)


async def start_replicas(slack_api: str, count: int, **settings: Any) -> tuple[list[Any], list[str]]:
    processes, urls = [], []
    for _ in range(count):
        port = free_port()
        target = partial(serve_birdwatch, **settings)
        processes.append(start_process(target, port, slack_api))
        urls.append(f"http://127.0.0.1:{port}/slack/events")
    for url in urls:
        await wait_until_up(url.replace("/slack/events", "/healthz"))
    return processes, urls


def stop(processes: list[Any]) -> None:
    for process in processes:
        process.terminate()
        process.join(10)


async def settle(stats_url: str) -> None:
    await _replies_settled(stats_url, timeout=60)


async def measure_round_trips(slack_api: str, stats_url: str, url_of_redis: str) -> None:
    processes, urls = await start_replicas(
        slack_api, 1, birdwatch_enrich_channels=",".join(WATCHED), redis_url=url_of_redis, redis_key_prefix="rt:"
    )
    numbers = Numbers()
    try:
        await load("warm-up", urls, numbers, count=WARM_UP, clients=1)
        await settle(stats_url)
        rows = []
        for label, channel in (("message in an unwatched channel", "C9UNWATCHED"), ("new alert (one reply)", None)):
            async with RoundTrips(url_of_redis) as trips, aiohttp.ClientSession() as session:
                for _ in range(ROUND_TRIP_EVENTS):
                    body = numbers.body(channel=channel)
                    headers = signed_headers(body, content_type="application/json")
                    async with session.post(urls[0], data=body, headers=headers) as response:
                        assert response.status == 200
                await settle(stats_url)
            commands = trips.per_event()
            detail = ", ".join(f"{name} {calls / ROUND_TRIP_EVENTS:.2f}" for name, calls in sorted(commands.items()))
            rows.append((label, sum(commands.values()) / ROUND_TRIP_EVENTS, detail or "none", trips.background()))
        print(f"\nRedis round trips per event ({ROUND_TRIP_EVENTS} events each, one replica, Redis MONITOR)")
        print(f"{'event':<34} {'round trips':>11}  by command or script, per event")
        for label, per_event, detail, background in rows:
            print(f"{label:<34} {per_event:>11.2f}  {detail}; background round trips in the phase: {background}")
    finally:
        stop(processes)


async def main() -> None:
    ports = multiprocessing.get_context("spawn").SimpleQueue()
    fake_slack = start_process(serve_fake_slack, ports)
    slack_api, stats_url = await asyncio.get_running_loop().run_in_executor(None, ports.get)
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(os.environ.get("REDIS_SERVER", "redis-server"), Path(workdir))
        server.start()
        try:
            results: list[Result] = []
            numbers = Numbers()
            for name, count, settings in (
                ("1 replica, in memory", 1, {}),
                ("1 replica, Redis", 1, {"redis_url": server.url, "redis_key_prefix": "one:"}),
                ("3 replicas, Redis", 3, {"redis_url": server.url, "redis_key_prefix": "three:"}),
            ):
                processes, urls = await start_replicas(slack_api, count, birdwatch_enrich_channels="all", **settings)
                try:
                    await load("warm-up", urls, numbers, count=WARM_UP * count, clients=count)
                    results.append(await load(name, urls, numbers, count=EVENTS, clients=CLIENTS))
                    await settle(stats_url)
                finally:
                    stop(processes)
            print(f"New alerts (a reply each), {EVENTS} events from {CLIENTS} clients; acknowledgement times")
            print(HEADER.replace("req/s", "events/s"))
            for result in results:
                print(result.row())
            await measure_round_trips(slack_api, stats_url, server.url)
        finally:
            server.stop()
            fake_slack.terminate()
    print(f"\n(printed by {COMMAND})")


if __name__ == "__main__":
    asyncio.run(main())
