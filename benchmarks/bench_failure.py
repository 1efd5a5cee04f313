"""``/failure 15011`` end to end over loopback HTTP, beside a bare Bolt app that only acknowledges.

Run: .venv/bin/python -m benchmarks.bench_failure
Each server runs in its own process (the load generator in this one); both talk to a local fake
Slack Web API for ``auth.test``. Prints p50/p99 latency and throughput, sequential and at 32 clients.
"""

from __future__ import annotations

import json
import os
from functools import partial

from benchmarks.common import (
    HEADER,
    run,
    run_load,
    serve_bare_bolt,
    serve_birdwatch,
    start_process,
    wait_until_up,
)
from tests.fakes.fake_slack import FakeSlack
from tests.ports import free_port
from tests.slack_requests import command_body

SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "2000"))
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "6000"))
CLIENTS = 32
FORM = "application/x-www-form-urlencoded"


def _body(slack: FakeSlack) -> str:
    return command_body("/failure", "15011", response_url=slack.response_url())


def _answered(status: int, payload: bytes) -> bool:
    return status == 200 and b"INVALID_SPAM" in payload


def _acked(status: int, payload: bytes) -> bool:
    return status == 200


async def main() -> None:
    async with FakeSlack() as slack:
        body = _body(slack)
        servers = {}
        for name, target in (
            ("birdwatch /failure 15011", serve_birdwatch),
            ("bare Bolt AsyncApp, ack only", partial(serve_bare_bolt, listen="/failure")),
        ):
            port = free_port()
            servers[name] = (start_process(target, port, slack.api_url), f"http://127.0.0.1:{port}/slack/events")
        for _, url in servers.values():
            await wait_until_up(url.replace("/slack/events", "/"))
        results = []
        for name, (_, url) in servers.items():
            check = _answered if name.startswith("birdwatch") else _acked
            # The first run only warms up: the first request pays for auth.test and imports.
            for label, requests, clients in (
                (None, 50, 1),
                ("1 client", SEQUENTIAL, 1),
                (f"{CLIENTS} clients", CONCURRENT, CLIENTS),
            ):
                result = await run_load(
                    f"{name} ({label})",
                    url,
                    lambda _: (body, FORM),
                    requests=requests,
                    concurrency=clients,
                    check=check,
                )
                if label is not None:
                    results.append(result)
        for process, _ in servers.values():
            process.terminate()
    print(HEADER)
    for result in results:
        print(result.row())
    ours, bare = results[0], results[2]
    print(f"\np50 ratio (bare Bolt / birdwatch, 1 client): {bare.percentile(50) / ours.percentile(50):.1f}x")
    print(
        json.dumps(
            {
                r.name: {
                    "p50": round(r.percentile(50), 3),
                    "p99": round(r.percentile(99), 3),
                    "rps": round(r.throughput),
                    "errors": r.errors,
                }
                for r in results
            }
        )
    )


if __name__ == "__main__":
    run(main)
