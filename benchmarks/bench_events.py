"""Alert message events through birdwatch's HTTP endpoint, beside a bare Bolt app that only acknowledges.

Run: .venv/bin/python -m benchmarks.bench_events

Every request is a signed ``message`` event carrying an Alertmanager-shaped alert (a legacy attachment with
the failure code in a field and in the text) with its own event_id and ts. Two kinds of load for birdwatch
(enrichment switched on for every channel):

* new alerts: requests rotate over CHANNELS channels and a set of catalog codes so that every
  (channel, code) pair is new: each event is read, scanned, claimed and gets one thread reply queued, and
  no channel gets more than about one reply a second (the poster's pacing is not what is measured);
* repeats: the same code keeps firing in REPEAT_CHANNELS channels, so after the first few each event is
  read, scanned and claimed but gets no reply (the repeat window), the common case on a noisy day.

Processes: birdwatch, the bare Bolt AsyncApp (default settings, a catch-all ``message`` listener that only
acks) and the fake Slack Web API (auth.test, chat.postMessage) each run in their own; this one generates
the load. Prints events/s and p50/p99 acknowledgement time at 1 and CLIENTS clients, then how many thread
replies birdwatch posted against how many it should have.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
from functools import partial
from multiprocessing.process import BaseProcess
from typing import Any

import aiohttp
from aiohttp import web

from benchmarks.common import (
    HEADER,
    Result,
    run,
    run_load,
    serve_bare_bolt,
    serve_birdwatch,
    start_process,
    wait_until_up,
)
from tests.ports import free_port
from tests.slack_requests import event_body

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "1000"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "4000"))
WARM_UP = 50
CLIENTS = 32
CHANNELS = 2000
REPEAT_CHANNELS = 20
CODES = (15011, 14001, 15005, 15016, 11001, 12008, 15012, 14002, 14003, 15006)
COMMAND = ".venv/bin/python -m benchmarks.bench_events"


# --- servers, each in its own process -----------------------------------------------------------


def serve_fake_slack(ports: Any) -> None:
    """The fake Slack Web API, plus a /stats endpoint saying how many calls of each method it got."""
    from tests.fakes.fake_slack import FakeSlack

    async def main() -> None:
        async with FakeSlack() as slack:

            async def stats(_: web.Request) -> web.Response:
                counts: dict[str, int] = {}
                for call in slack.calls:
                    counts[call.method] = counts.get(call.method, 0) + 1
                return web.json_response(counts)

            app = web.Application()
            app.router.add_get("/stats", stats)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            stats_port = free_port()
            await web.TCPSite(runner, "127.0.0.1", stats_port).start()
            ports.put((slack.api_url, f"http://127.0.0.1:{stats_port}/stats"))
            await asyncio.Event().wait()

    asyncio.run(main())


# --- the load -----------------------------------------------------------------------------------


def alert_event(number: int, *, repeat: bool = False) -> dict[str, Any]:
    """Alert ``number`` in Alertmanager's shape: a channel and code no earlier alert had together, or with
    ``repeat`` 15011 again in one of a few channels."""
    if repeat:
        channel, code = f"R{number % REPEAT_CHANNELS:08d}", 15011
    else:
        channel, code = f"C{number % CHANNELS:08d}", CODES[(number // CHANNELS) % len(CODES)]
    ts = f"{1_700_000_000 + number}.{number % 1_000_000:06d}"
    return {
        "type": "message",
        "subtype": "bot_message",
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
        "bot_id": "B0ALERTMGR",
        "username": "Alertmanager",
        "channel_type": "channel",
        "attachments": [
            {
                "id": 1,
                "color": "a30200",
                "fallback": "[FIRING:1] BirdSendFailures (prod messaging) | http://alertmanager.example.com/#/alerts",
                "title": "[FIRING:1] BirdSendFailures (prod messaging)",
                "title_link": "http://alertmanager.example.com/#/alerts?receiver=oncall-slack",
                "text": f"*Alert:* Bird delivery failures above threshold: failure code {code} on channel sms - "
                "`critical`\n*Description:* Check the failed messages in Bird.\n"
                "*Runbook:* <https://runbooks.example.com/bird|runbook>",
                "fields": [
                    {"title": "severity", "value": "critical", "short": True},
                    {"title": "failure_code", "value": str(code), "short": True},
                ],
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
    }


class Events:
    """Numbers requests across every phase and server, so no event_id or ts repeats, nor a new alert's
    (channel, code)."""

    def __init__(self) -> None:
        self.next = 0

    def phase(self, count: int, *, repeat: bool = False) -> Any:
        start, self.next = self.next, self.next + count

        def make_body(number: int) -> tuple[str, str]:
            n = start + number
            return event_body(alert_event(n, repeat=repeat), event_id=f"Ev{n:010d}"), "application/json"

        return make_body


def _acked(status: int, payload: bytes) -> bool:
    return status == 200


async def _slack_stats(url: str) -> dict[str, int]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        counts: dict[str, int] = await response.json()
        return counts


async def _replies_settled(url: str, timeout: float = 15.0) -> int:
    """chat.postMessage calls once birdwatch's reply queue has drained (the count stops growing)."""
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        count = (await _slack_stats(url)).get("chat.postMessage", 0)
        if count == last or time.monotonic() > deadline:
            return count
        last = count
        await asyncio.sleep(1.0)


async def main() -> None:
    ports = multiprocessing.get_context("spawn").SimpleQueue()
    fake_slack = start_process(serve_fake_slack, ports)
    slack_api, stats_url = await asyncio.get_running_loop().run_in_executor(None, ports.get)

    servers: dict[str, tuple[BaseProcess, str]] = {}
    for name, target in (
        ("birdwatch", partial(serve_birdwatch, birdwatch_enrich_channels="all")),
        ("bare Bolt", partial(serve_bare_bolt, listen="message")),
    ):
        port = free_port()
        servers[name] = (start_process(target, port, slack_api), f"http://127.0.0.1:{port}/slack/events")
    for _, url in servers.values():
        await wait_until_up(url.replace("/slack/events", "/"))

    birdwatch, bare = servers.values()
    plan = [  # (label, url, repeat alerts?)
        ("birdwatch, new alerts", birdwatch[1], False),
        ("birdwatch, repeats", birdwatch[1], True),
        ("bare Bolt, ack only", bare[1], False),
    ]
    events = Events()
    results: list[Result] = []
    expected_replies = 0
    started = time.perf_counter()
    for name, url, repeat in plan:
        # Warm up: the first request pays for auth.test and imports; repeats' first alerts get their replies.
        await run_load(name, url, events.phase(WARM_UP, repeat=repeat), requests=WARM_UP, concurrency=1, check=_acked)
        for clients, count in ((1, SEQUENTIAL), (CLIENTS, CONCURRENT)):
            label = f"{name} ({clients} client{'s' if clients > 1 else ''})"
            load = events.phase(count, repeat=repeat)
            results.append(await run_load(label, url, load, requests=count, concurrency=clients, check=_acked))
        if url == birdwatch[1]:
            expected_replies += REPEAT_CHANNELS if repeat else WARM_UP + SEQUENTIAL + CONCURRENT
    replies = await _replies_settled(stats_url)
    seconds = time.perf_counter() - started
    for process, _ in servers.values():
        process.terminate()
    fake_slack.terminate()

    print(f"signed Alertmanager-shaped message events through POST /slack/events; load ran {seconds:.0f} s\n")
    print(HEADER.replace("req/s", "events/s"))
    for result in results:
        print(result.row())
    new, repeats, bolt = results[1], results[3], results[5]
    print(
        f"\nat {CLIENTS} clients: birdwatch {new.throughput:.0f} events/s (p99 ack {new.percentile(99):.1f} ms) with "
        f"a reply per alert, {repeats.throughput:.0f} events/s (p99 {repeats.percentile(99):.1f} ms) on repeats; "
        f"bare Bolt {bolt.throughput:.0f} events/s (p99 {bolt.percentile(99):.1f} ms)"
    )
    print(f"thread replies birdwatch posted: {replies} (expected {expected_replies}: one per new alert)")
    print(
        json.dumps(
            {
                r.name: {
                    "p50": round(r.percentile(50), 3),
                    "p99": round(r.percentile(99), 3),
                    "events_per_s": round(r.throughput),
                    "errors": r.errors,
                }
                for r in results
            }
            | {"replies_posted": replies, "replies_expected": expected_replies}
        )
    )
    print(f"\nrun: {COMMAND}")


if __name__ == "__main__":
    run(main)
