"""Three ``birdwatch serve`` processes sharing one Redis, driven over HTTP as Slack and a load balancer
would drive them, against a fake Slack and a fake Bird: nothing answered twice, nothing lost, one
Bird budget and one Slack pace for the three together, across restarts and a SIGKILL."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from handlers.blocks.enrichment_builder import ACTION_MUTE
from tests.fakes.fake_bird import DEFAULT_ACCESS_KEY, FakeBird, sample_message
from tests.fakes.fake_slack import FakeSlack, SlackCall
from tests.ports import free_port
from tests.redis_server import RedisServer
from tests.scenario.test_alert_events import alert, select_body
from tests.slack_requests import SIGNING_SECRET, event_body, signed_headers

T = TypeVar("T")
WORKSPACE = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
BIRD_RATE = 2  # requests per second, burst 2: low, so the three replicas would exceed it if each kept its own
_timestamps = itertools.count(1)


class Fakes:
    """The fake Slack and fake Bird on a loop of their own, for bots in other processes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.slack = FakeSlack()
        self.bird = FakeBird()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def __enter__(self) -> Fakes:
        self._thread.start()
        self.run(self.slack.__aenter__())
        self.run(self.bird.start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(self.bird.stop())
        self.run(self.slack.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    def posts(self) -> list[SlackCall]:
        return list(self.slack.timed("chat.postMessage"))

    def wait_for_posts(self, count: int, timeout: float = 20.0) -> list[SlackCall]:
        self.run(self.slack.wait_for("chat.postMessage", count, timeout=timeout), timeout + 5)
        return self.posts()


class Replica:
    """One ``birdwatch serve`` process."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.env = env | {"PORT": str(self.port)}
        self.workdir = workdir
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def wait_until_up(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                assert self.process is not None
                assert self.process.poll() is None, "birdwatch serve exited"
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def post(self, body: str, headers: dict[str, str]) -> int:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status: int = response.status
            return status

    def event(self, event: dict[str, Any], event_id: str) -> int:
        body = event_body(event, event_id=event_id)
        return self.post(body, signed_headers(body, content_type="application/json"))


class Fleet:
    def __init__(self, fakes: Fakes, replicas: list[Replica]) -> None:
        self.fakes = fakes
        self.replicas = replicas

    def start(self) -> None:
        for replica in self.replicas:
            replica.start()
        for replica in self.replicas:
            replica.wait_until_up()

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()


@pytest.fixture
def fleet(redis_server: RedisServer, redis_prefix: str, tmp_path: Path) -> Iterator[Fleet]:
    with Fakes() as fakes:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SKIP_SLACK_SDK_WARNING": "1",
            "SLACK_BOT_TOKEN": "xoxb-fleet-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fakes.slack.api_url,
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "BIRDWATCH_ENRICH_CHANNELS": "all",
            "BIRDWATCH_TRUSTED_INTEGRATIONS": "B0ALERTS",  # the alerts' bot may have message ids looked up
            "BIRD_ACCESS_KEY": DEFAULT_ACCESS_KEY,
            "BIRD_WORKSPACE_ID": WORKSPACE,
            "BIRD_API_URL": fakes.bird.url,
            "BIRD_REQUESTS_PER_SECOND": str(BIRD_RATE),
            "REDIS_URL": redis_server.url,
            "REDIS_KEY_PREFIX": redis_prefix,
        }
        fleet = Fleet(fakes, [Replica(env, tmp_path) for _ in range(3)])
        fleet.start()
        try:
            yield fleet
        finally:
            fleet.stop()


def new_ts() -> str:
    return f"1700{next(_timestamps):06d}.000100"


def threads(posts: list[SlackCall]) -> list[str]:
    return sorted(str(post.body.get("thread_ts")) for post in posts)


def mute(replica: Replica, fakes: Fakes, code: str, channel: str, reply: SlackCall) -> None:
    message = {"ts": str(reply.body.get("ts", "1700000000.000200")), "text": "explained", "blocks": []}
    body = select_body(
        f"{ACTION_MUTE}:{code}",
        f"{code}|4",
        response_url=fakes.slack.response_url("mute"),
        message=message,
        channel=channel,
    )
    assert replica.post(body, signed_headers(body)) == 200


def test_one_event_delivered_to_every_replica_gets_one_reply(fleet: Fleet) -> None:
    event = alert("Bird: Delivery failed: error 15011 INVALID_SPAM", channel="C0FLEET1", ts=new_ts())
    # Slack's retries of one event reach whichever replica the load balancer picks: here, all three at once.
    results: list[int] = []
    workers = [
        threading.Thread(target=lambda r=replica: results.append(r.event(event, "EvSAME")))
        for replica in fleet.replicas
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results == [200, 200, 200]
    # The same message again under new event ids (Slack's duplicate deliveries) adds nothing either.
    for index, replica in enumerate(fleet.replicas):
        assert replica.event(event, f"EvDUP{index}") == 200
    fleet.fakes.wait_for_posts(1)
    time.sleep(1.5)  # anything a replica wrongly posted would have arrived by now
    assert threads(fleet.fakes.posts()) == [event["ts"]]


def test_a_mute_set_through_one_replica_silences_the_others(fleet: Fleet) -> None:
    first = alert("Bird: [FIRING:1] SMS failed with code 15005", channel="C0FLEET2", ts=new_ts())
    fleet.replicas[0].event(first, "EvM1")
    (reply,) = fleet.fakes.wait_for_posts(1)
    mute(fleet.replicas[0], fleet.fakes, "15005", "C0FLEET2", reply)
    time.sleep(0.3)
    for index, replica in enumerate(fleet.replicas[1:], start=2):
        other = alert(f"Bird: [FIRING:{index}] another outage, error 15005 again", channel="C0FLEET2", ts=new_ts())
        replica.event(other, f"EvM{index}")
    unmuted = alert("Bird: Delivery failed: error 15011", channel="C0FLEET2", ts=new_ts())
    fleet.replicas[2].event(unmuted, "EvM9")  # a code not muted still gets its reply
    fleet.fakes.wait_for_posts(2)
    time.sleep(1.5)
    assert threads(fleet.fakes.posts()) == sorted([first["ts"], unmuted["ts"]])


def test_after_every_replica_restarts_mutes_and_repeat_windows_hold(fleet: Fleet) -> None:
    firing = alert("Bird: [FIRING:1] HighFailureRate: code 15011", channel="C0FLEET3", ts=new_ts())
    muted = alert("Bird status: failure 15005 on sms", channel="C0FLEET3", ts=new_ts())
    fleet.replicas[0].event(firing, "EvR1")
    fleet.replicas[1].event(muted, "EvR2")
    replies = fleet.fakes.wait_for_posts(2)
    muted_reply = next(r for r in replies if r.body.get("thread_ts") == muted["ts"])
    mute(fleet.replicas[2], fleet.fakes, "15005", "C0FLEET3", muted_reply)

    fleet.stop()
    fleet.start()

    fleet.replicas[2].event(firing, "EvR1")  # Slack's redelivery of an event handled before the restart
    again = alert("Bird: [FIRING:2] HighFailureRate: code 15011", channel="C0FLEET3", ts=new_ts())
    fleet.replicas[0].event(again, "EvR3")  # the same alert firing again, within the repeat window
    still_muted = alert("Bird status: failure 15005 on whatsapp", channel="C0FLEET3", ts=new_ts())
    fleet.replicas[1].event(still_muted, "EvR4")
    fresh = alert("Bird: Delivery failed: error 14001", channel="C0FLEET3", ts=new_ts())
    fleet.replicas[2].event(fresh, "EvR5")
    fleet.fakes.wait_for_posts(3)
    time.sleep(1.5)
    assert threads(fleet.fakes.posts()) == sorted([firing["ts"], muted["ts"], fresh["ts"]])


def test_a_replica_killed_with_replies_queued_loses_none_and_repeats_none(fleet: Fleet) -> None:
    alerts = [
        alert(f"Bird: Alert {n}: delivery failed, code {code}", channel="C0FLEET4", ts=new_ts())
        for n, code in enumerate(["15011", "15005", "14001", "15012", "11002", "15016"])
    ]
    for index, event in enumerate(alerts):
        fleet.replicas[0].event(event, f"EvK{index}")
    fleet.fakes.wait_for_posts(1, timeout=40)
    fleet.replicas[0].stop(signal.SIGKILL)  # one post per second per channel: the other five are still queued
    assert len(fleet.fakes.posts()) < len(alerts)
    # The others take its replies over once its 10 s lease has run out.
    posts = fleet.fakes.wait_for_posts(len(alerts), timeout=60)
    time.sleep(2.0)
    assert threads(fleet.fakes.posts()) == sorted(event["ts"] for event in alerts)
    assert len(posts) == len(alerts)


def test_together_they_keep_one_bird_budget_and_one_pace_per_channel(fleet: Fleet) -> None:
    fakes = fleet.fakes
    channel = fakes.bird.add_channel(WORKSPACE)
    messages = [fakes.bird.add_message(WORKSPACE, channel, sample_message()) for _ in range(8)]
    alerts = [
        alert(f"Bird: Delivery failed for messageId: {message['id']}", channel=f"C0PACE{index % 2}", ts=new_ts())
        for index, message in enumerate(messages)
    ]
    for index, event in enumerate(alerts):
        fleet.replicas[index % 3].event(event, f"EvB{index}")
    posts = fakes.wait_for_posts(len(alerts), timeout=40)
    assert len(posts) == len(alerts)

    bird_times = sorted(r.received_at for r in fakes.bird.request_log)
    assert len(bird_times) >= len(messages)
    # GCRA at 2/s with a burst of 2: at most 2 + 2 requests in any one-second window, whichever replica sent them.
    busiest = max(sum(1 for t in bird_times if start <= t < start + 1.0) for start in bird_times)
    assert busiest <= BIRD_RATE * 2
    for slack_channel in ("C0PACE0", "C0PACE1"):
        times = [post.at for post in posts if post.body["channel"] == slack_channel]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= 0.9 for gap in gaps), gaps  # one post per second, arrival jitter aside
    print(json.dumps({"bird_requests": len(bird_times), "busiest_second": busiest}))
