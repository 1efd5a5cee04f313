"""300 concurrent ``/message`` commands against a Bird that takes 2 s to answer, beside a plain Bolt app.

Run: .venv/bin/python -m benchmarks.bench_message

birdwatch (the real app behind aiohttp) runs in its own process. The fake Bird (2 s latency on every
request) and the fake Slack (Web API and ``response_url``) run in a third process by default, so the
load generator's event loop, which times the acknowledgements, does nothing else; ``BENCH_FAKES=inproc``
runs them in this process instead, to compare.

The commands are 300 ``/message <workspace> <channel> <message>`` over 100 distinct messages, arriving
within ``BENCH_WINDOW`` seconds (1 s by default; every answer takes 2 s, so all 300 are in flight at
once), repeated for ``BENCH_ROUNDS`` rounds (3), each on messages of its own. Measured: the HTTP
acknowledgement of each command ("Looking up…"), the time to the final answer on ``response_url``, how
many commands were answered, and how many GETs Bird saw per distinct message. Then 300 more (again on
messages of their own) all in the same instant; ``BENCH_BURST=0`` skips that. A warm-up load goes first
and is not reported. birdwatch's CPU time per command (from /proc) is reported too: unlike latency, it
does not depend on what else the machine is doing.

Baseline, in the same run: a plain synchronous Bolt ``App`` with default settings (5-worker listener
executor, 3 s ack timeout), served by a threaded WSGI server, whose listener does the same Bird call
synchronously and then acks with the answer. Counted: commands that got no 200 within Slack's 3 s.

birdwatch's process gets a BirdClient whose RequestBudget allows this load (1000 requests/s); the
default budget is 5 requests/s per workspace by design (birdwatch shares Bird's rate limit with the
customer's own traffic), which would spread 100 upstream requests over 20 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from benchmarks.common import BOT_TOKEN, Result, run, serve_birdwatch, start_process, wait_until_up
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, sample_message
from tests.fakes.fake_slack import FakeSlack
from tests.ports import free_port
from tests.slack_requests import SIGNING_SECRET, command_body, signed_headers

COMMANDS = int(os.environ.get("BENCH_COMMANDS", "300"))
DISTINCT = int(os.environ.get("BENCH_DISTINCT", "100"))
WINDOW = float(os.environ.get("BENCH_WINDOW", "1.0"))
BURST = os.environ.get("BENCH_BURST", "1") == "1"
FAKES = os.environ.get("BENCH_FAKES", "process")
# The CPUs this process may use, read before pin() narrows them.
CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
PINNING = os.environ.get("BENCH_PIN", "0") == "1" and len(CPUS) >= 2
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BIRD_LATENCY = 2.0
SLACK_WINDOW_MS = 3000.0
ACK_TARGET_MS = 100.0
WORKSPACE = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
CHANNEL = "0d3c9f1e-8a5b-4c1e-9a43-0c6c1c5b7e01"
BUDGET_RATE = 1000


def pin(role: str) -> None:
    """``BENCH_PIN=1``: the server under test gets one CPU and the load generator and fakes the others.
    Off by default: on a machine shared with other work a pinned server cannot move off a busy CPU."""
    if PINNING:
        os.sched_setaffinity(0, CPUS[:1] if role == "server" else CPUS[1:])


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime and stime


# --- the fakes: Bird and Slack, with what they saw ------------------------------------------------


@dataclass
class RecordingSlack(FakeSlack):
    """FakeSlack that also notes when each ``response_url`` post arrived (wall clock, so another
    process can compare it with the time it sent the command)."""

    arrivals: dict[str, float] = field(default_factory=dict)

    async def _response(self, request: web.Request) -> web.Response:
        arrived = time.time()
        response = await super()._response(request)
        self.arrivals.setdefault(request.match_info["token"], arrived)
        return response


@dataclass
class Fakes:
    bird_url: str
    slack_api: str
    slack_url: str
    stats: Callable[[], Awaitable[dict[str, Any]]]
    reset: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


def _stats_of(bird: FakeBird, slack: RecordingSlack) -> dict[str, Any]:
    answers = {body["_token"]: body.get("text", "") for body in slack.of("response_url")}
    return {
        "bird": dict(bird.requests),
        "bird_peak_active": bird.peak_active,
        "answers": {token: {"at": slack.arrivals[token], "text": text} for token, text in answers.items()},
    }


def _reset(bird: FakeBird, slack: RecordingSlack) -> None:
    bird.reset_counts()
    slack.calls.clear()
    slack.arrivals.clear()


def _populate(bird: FakeBird, message_ids: list[str]) -> None:
    bird.add_channel(WORKSPACE, CHANNEL)
    for message_id in message_ids:
        bird.add_message(WORKSPACE, CHANNEL, sample_message(message_id))


def serve_fakes(conn: Connection, message_ids: list[str]) -> None:
    """The fakes in their own process; ``/stats`` and ``/reset`` let the benchmark read them."""

    pin("load")

    async def main() -> None:
        slack = RecordingSlack()
        async with FakeBird(latency=BIRD_LATENCY) as bird, slack:
            _populate(bird, message_ids)

            async def stats(_: web.Request) -> web.Response:
                return web.json_response(_stats_of(bird, slack))

            async def reset(_: web.Request) -> web.Response:
                _reset(bird, slack)
                return web.json_response({})

            control = web.Application()
            control.router.add_get("/stats", stats)
            control.router.add_post("/reset", reset)
            runner = web.AppRunner(control, access_log=None)
            await runner.setup()
            port = free_port()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            conn.send((bird.url, slack.api_url, slack.url, f"http://127.0.0.1:{port}"))
            await asyncio.Event().wait()

    asyncio.run(main())


# --- the servers under test ---------------------------------------------------------------------


def serve_birdwatch_for_messages(port: int, slack_api: str, bird_url: str) -> None:
    from bot.bird import BirdClient, RequestBudget

    pin("server")
    bird = BirdClient(
        base_url=bird_url, budget=RequestBudget(rate=BUDGET_RATE, burst=BUDGET_RATE), max_connections=COMMANDS
    )
    serve_birdwatch(
        port,
        slack_api,
        bird=bird,
        # A backlog above the burst: the default (128) would drop SYNs and add 1 s retransmits.
        backlog=COMMANDS * 4,
        bird_api_url=bird_url,
        bird_access_key=DEFAULT_ACCESS_KEY,
        bird_workspace_id=WORKSPACE,
    )


def serve_sync_bolt(port: int, slack_api: str, bird_url: str) -> None:
    """Bolt's sync App with default settings behind a threaded WSGI server: the listener calls Bird
    synchronously, then acks with the answer."""
    import logging
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    import httpx
    from slack_bolt import Ack, App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    pin("server")
    logging.basicConfig(level=logging.ERROR)  # Bolt warns for every command that misses its ack
    app = App(client=WebClient(token=BOT_TOKEN, base_url=slack_api), signing_secret=SIGNING_SECRET)

    @app.command("/message")
    def message(ack: Ack, command: dict[str, Any]) -> None:
        workspace, channel, message_id = command["text"].split()
        response = httpx.get(
            f"{bird_url}/workspaces/{workspace}/channels/{channel}/messages/{message_id}",
            headers={"Authorization": f"AccessKey {DEFAULT_ACCESS_KEY}"},
            timeout=10,
        )
        ack(text=f"Message {message_id}: {response.json().get('status')}")

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        request_queue_size = COMMANDS * 4

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    with make_server("127.0.0.1", port, SlackRequestHandler(app), server_class=Server, handler_class=Quiet) as server:
        server.serve_forever()


# --- load -----------------------------------------------------------------------------------------


@dataclass
class Sent:
    token: str
    at: float  # wall clock, to compare with the fake Slack's arrival times
    ack_ms: float
    status: int
    acked: bool


async def send_commands(
    url: str, slack_url: str, message_ids: list[str], *, window: float, tag: str, ack_text: bytes
) -> list[Sent]:
    """``COMMANDS`` signed /message commands, spread evenly over ``window`` seconds, all concurrent."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(number: int, start: float) -> Sent:
            message_id = message_ids[number % len(message_ids)]
            token = f"{tag}{number}"
            body = command_body(
                "/message", f"{WORKSPACE} {CHANNEL} {message_id}", response_url=f"{slack_url}/response/{token}"
            )
            await asyncio.sleep(max(0.0, start + number * window / COMMANDS - time.perf_counter()))
            headers = signed_headers(body)
            sent_at, started = time.time(), time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                payload, status = b"", 0
            ack_ms = (time.perf_counter() - started) * 1000
            return Sent(token, sent_at, ack_ms, status, status == 200 and ack_text in payload)

        start = time.perf_counter() + 0.05
        return await asyncio.gather(*(one(number, start) for number in range(COMMANDS)))


async def wait_for_answers(fakes: Fakes, tokens: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stats = await fakes.stats()
        if tokens <= set(stats["answers"]) or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.1)


@dataclass
class BirdwatchRun:
    name: str
    sent: list[Sent]
    stats: dict[str, Any]
    message_ids: list[str]
    cpu_s: float | None  # birdwatch's CPU time from the first command to the last answer

    @property
    def cpu_ms_per_command(self) -> float | None:
        return None if self.cpu_s is None else self.cpu_s * 1000 / len(self.sent)

    @property
    def ack_ms(self) -> list[float]:
        return [s.ack_ms for s in self.sent]

    @property
    def acked(self) -> int:
        return sum(s.acked for s in self.sent)

    @property
    def answer_ms(self) -> list[float]:
        answers = self.stats["answers"]
        return [(answers[s.token]["at"] - s.at) * 1000 for s in self.sent if s.token in answers]

    @property
    def answered(self) -> int:
        """Commands whose final answer explains the message (every one exists and failed)."""
        answers = self.stats["answers"]
        return sum("delivery_failed" in answers.get(s.token, {}).get("text", "") for s in self.sent)

    @property
    def gets_per_message(self) -> Counter[int]:
        paths = [FakeBird.message_path(WORKSPACE, CHANNEL, m) for m in self.message_ids]
        return Counter(self.stats["bird"].get(path, 0) for path in paths)

    @property
    def from_cache(self) -> int:
        return sum("cached answer" in a["text"] for a in self.stats["answers"].values())

    @property
    def shared_flight(self) -> int:
        """Answers that waited on another command's request rather than making their own."""
        upstream = sum(count * gets for gets, count in self.gets_per_message.items())
        return self.answered - self.from_cache - upstream


async def run_birdwatch(
    name: str, url: str, fakes: Fakes, message_ids: list[str], window: float, pid: int | None
) -> BirdwatchRun:
    await fakes.reset()
    cpu_before = cpu_seconds(pid)
    tag = "".join(char for char in name if char.isalnum())
    sent = await send_commands(url, fakes.slack_url, message_ids, window=window, tag=tag, ack_text=b"Looking up")
    stats = await wait_for_answers(fakes, {s.token for s in sent}, timeout=window + BIRD_LATENCY + 15)
    cpu_after = cpu_seconds(pid)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return BirdwatchRun(name, sent, stats, message_ids, cpu)


async def run_sync_bolt(url: str, fakes: Fakes, message_ids: list[str], window: float) -> list[Sent]:
    await fakes.reset()
    return await send_commands(
        url, fakes.slack_url, message_ids, window=window, tag="sync", ack_text=b"delivery_failed"
    )


# --- plumbing -------------------------------------------------------------------------------------


async def http_fakes(control: str, urls: tuple[str, str, str]) -> Fakes:
    session = aiohttp.ClientSession()

    async def stats() -> dict[str, Any]:
        async with session.get(f"{control}/stats") as response:
            data: dict[str, Any] = await response.json()
            return data

    async def reset() -> None:
        async with session.post(f"{control}/reset"):
            pass

    return Fakes(urls[0], urls[1], urls[2], stats, reset, session.close)


def inproc_fakes(bird: FakeBird, slack: RecordingSlack) -> Fakes:
    async def stats() -> dict[str, Any]:
        return _stats_of(bird, slack)

    async def reset() -> None:
        _reset(bird, slack)

    async def close() -> None:
        pass

    return Fakes(bird.url, slack.api_url, slack.url, stats, reset, close)


async def main() -> None:
    pin("load")
    names = ["warmup", "burst", *(f"round {n}" for n in range(1, ROUNDS + 1))]
    message_ids = {name: [str(uuid.uuid4()) for _ in range(DISTINCT)] for name in names}
    every_id = [m for ids in message_ids.values() for m in ids]
    processes = []
    if FAKES == "process":
        import multiprocessing

        parent, child = multiprocessing.get_context("spawn").Pipe()
        processes.append(start_process(serve_fakes, child, every_id))
        bird_url, slack_api, slack_url, control = await asyncio.to_thread(parent.recv)
        fakes = await http_fakes(control, (bird_url, slack_api, slack_url))
        await bench(fakes, message_ids, processes)
        await fakes.close()
    else:
        slack = RecordingSlack()
        async with FakeBird(latency=BIRD_LATENCY) as bird, slack:
            _populate(bird, every_id)
            await bench(inproc_fakes(bird, slack), message_ids, processes)


async def bench(fakes: Fakes, message_ids: dict[str, list[str]], processes: list[Any]) -> None:
    ours_port, sync_port = free_port(), free_port()
    birdwatch = start_process(serve_birdwatch_for_messages, ours_port, fakes.slack_api, fakes.bird_url)
    processes += [birdwatch, start_process(serve_sync_bolt, sync_port, fakes.slack_api, fakes.bird_url)]
    ours, sync = f"http://127.0.0.1:{ours_port}/slack/events", f"http://127.0.0.1:{sync_port}/slack/events"
    load = os.getloadavg()
    await wait_until_up(f"http://127.0.0.1:{ours_port}/healthz")
    await wait_until_up(f"http://127.0.0.1:{sync_port}/")
    pid = birdwatch.pid
    try:
        # Warm up birdwatch (imports, auth.test, the first connections) on messages not measured.
        await run_birdwatch("warmup", ours, fakes, message_ids["warmup"], WINDOW, pid)
        # Each round and the burst use messages of their own: nothing is cached, every round is a full load.
        runs = [
            await run_birdwatch(f"round {n}, over {WINDOW:g} s", ours, fakes, message_ids[f"round {n}"], WINDOW, pid)
            for n in range(1, ROUNDS + 1)
        ]
        if BURST:
            runs.append(await run_birdwatch("all at once", ours, fakes, message_ids["burst"], 0.0, pid))
        baseline = await run_sync_bolt(sync, fakes, message_ids["round 1"], WINDOW)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
    report(runs, baseline, load)


def _row(name: str, latencies: list[float], ok: int, n: int) -> str:
    result = Result(name, latencies, 0, 1.0)
    return (
        f"{name:<44} {n:>5} {result.percentile(50):>9.1f} {result.percentile(99):>9.1f} "
        f"{max(latencies, default=float('nan')):>9.1f} {ok:>6} {n - ok:>5}"
    )


def report(runs: list[BirdwatchRun], baseline: list[Sent], load: tuple[float, float, float]) -> None:
    print(
        f"\nmachine: {os.cpu_count()} CPUs, load average before the run {load[0]:.2f} (1 min); "
        + ("servers pinned to one CPU, load generator and fakes to the rest." if PINNING else "no CPU pinning.")
    )
    print(
        f"{COMMANDS} /message commands over {DISTINCT} distinct messages; fake Bird answers in {BIRD_LATENCY:g} s; "
        f"fakes {'in their own process' if FAKES == 'process' else 'in the load generator process'}."
    )
    print(
        f"birdwatch's BirdClient: RequestBudget(rate={BUDGET_RATE}, burst={BUDGET_RATE}), max_connections={COMMANDS}. "
        f"The default budget, 5 requests/s per workspace by design, would pace these {DISTINCT} lookups over "
        f"{DISTINCT / 5:g} s."
    )
    print("ok: ack = HTTP 200 with 'Looking up…'; final answer = the explanation arrived on response_url;")
    print("    sync Bolt = HTTP 200 with the answer within Slack's 3 s.\n")
    print(f"{'scenario':<44} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'ok':>6} {'bad':>5}")
    for run_ in runs:
        n = len(run_.sent)
        print(_row(f"birdwatch {run_.name}: ack", run_.ack_ms, run_.acked, n))
        print(_row(f"birdwatch {run_.name}: final answer", run_.answer_ms, run_.answered, n))
    in_time = sum(s.acked and s.ack_ms <= SLACK_WINDOW_MS for s in baseline)
    print(_row("sync Bolt App, default settings: ack", [s.ack_ms for s in baseline], in_time, len(baseline)))
    print()
    summary: dict[str, Any] = {}
    for run_ in runs:
        p99 = Result("", run_.ack_ms, 0, 1.0).percentile(99)
        gets = run_.gets_per_message
        print(
            f"birdwatch, {run_.name}: ack p99 {p99:.1f} ms ({'meets' if p99 < ACK_TARGET_MS else 'MISSES'} the "
            f"{ACK_TARGET_MS:g} ms target; {sum(ms < ACK_TARGET_MS for ms in run_.ack_ms)}/{len(run_.sent)} under it); "
            f"{run_.answered}/{len(run_.sent)} commands answered; upstream GETs per distinct message "
            f"{dict(sorted(gets.items()))} ({'exactly one each' if set(gets) == {1} else 'NOT one each'}); "
            f"{run_.shared_flight} answers shared another command's in-flight request, {run_.from_cache} came from "
            f"the cache; at most {run_.stats['bird_peak_active']} Bird requests at once; birdwatch CPU "
            + (f"{run_.cpu_ms_per_command:.2f} ms per command." if run_.cpu_ms_per_command is not None else "n/a.")
        )
        answers = Result("", run_.answer_ms, 0, 1.0)
        summary[f"birdwatch {run_.name}"] = {
            "ack_p50": round(Result("", run_.ack_ms, 0, 1.0).percentile(50), 1),
            "ack_p99": round(p99, 1),
            "ack_max": round(max(run_.ack_ms), 1),
            "answer_p50": round(answers.percentile(50)),
            "answer_p99": round(answers.percentile(99)),
            "answered": run_.answered,
            "gets_per_message": {str(k): v for k, v in sorted(gets.items())},
            "cpu_ms_per_command": None if run_.cpu_ms_per_command is None else round(run_.cpu_ms_per_command, 2),
        }
    spread = sorted(Result("", r.ack_ms, 0, 1.0).percentile(99) for r in runs if r.name.startswith("round"))
    if spread:
        print(
            f"spread rounds: ack p99 best {spread[0]:.1f} ms, median {statistics.median(spread):.1f} ms, "
            f"worst {spread[-1]:.1f} ms (other work on this machine moves these; CPU per command does not)."
        )
    statuses = Counter(s.status for s in baseline)
    print(
        f"sync Bolt App: {len(baseline) - in_time}/{len(baseline)} commands got no 200 within Slack's 3 s "
        f"(HTTP statuses: {dict(sorted(statuses.items()))}; its 5 listener threads take 2 s per command)."
    )
    summary["sync Bolt App"] = {"missed_3s": len(baseline) - in_time, "statuses": dict(statuses)}
    print(json.dumps(summary))


if __name__ == "__main__":
    run(main)
