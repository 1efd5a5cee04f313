"""How long reading a large alert takes: ``alert_text`` (flatten the Slack message) and ``scan`` (find hits).

Run: .venv/bin/python -m benchmarks.bench_scanner
Builds a Grafana-like alert of ~40 KB of JSON (attachments with fields, plus section, rich_text,
fields and context blocks) from mostly ordinary words, numbers, timestamps and request/trace ids,
with two real hits in it, and times each step with the packaged catalog. Set BENCH_RUNS to change
the number of timed runs (default 200). The goal for ``scan`` alone is under 1 ms.
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from catalog import default_catalog
from catalog.scanner import scan
from handlers.alert_text import alert_text

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
PAYLOAD_BYTES = 40 * 1024

_VOCABULARY = (
    "the a of to in on for and after while since during with from per is was were has been not "
    "latency p99 increased above threshold upstream timeout retrying queue consumer lag partition "
    "deployment rollout canary pod node memory cpu throttled connection pool exhausted database "
    "replica primary failover cache miss ratio customers requests webhook callback received "
    "processed backlog growing steady recovered rate limited window minutes seconds cluster region "
    "worker restarted health check probe endpoint gateway response payload batch job scheduler"
)
WORDS = _VOCABULARY.split()
SERVICES = ("channels-api", "dispatcher", "webhook-relay", "contacts-sync", "billing-worker")
REGIONS = ("eu-west-1", "us-east-1", "ap-southeast-2")
GRAFANA = "https://grafana.example.com"


def build_alert(rng: random.Random) -> dict[str, Any]:
    """A Grafana-style alert message: blocks up top, then attachments until the JSON reaches ~40 KB."""
    message: dict[str, Any] = {"type": "message", "subtype": "bot_message", "bot_id": "B0GRAFANA"}
    message["blocks"] = _blocks(rng)
    attachments: list[dict[str, Any]] = []
    message["attachments"] = attachments
    while len(json.dumps(message)) < PAYLOAD_BYTES:
        attachments.append(_attachment(rng, len(attachments)))
    # The real hits sit in the middle: a Bird failure code and a WhatsApp platform code.
    middle = attachments[len(attachments) // 2]
    middle["text"] += "\nBird rejected the batch with failure code 15011 for 3 recipients."
    middle["fields"].append({"title": "last error", "value": '{"source":{"name":"whatsapp","code":"131047"}}'})
    return message


def _blocks(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "[FIRING:12] Bird delivery degraded"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Summary:* {_sentence(rng, 40)}"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}:*\n{value}"} for name, value in _labels(rng).items()],
        },
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": _sentence(rng, 25) + " "},
                        {"type": "text", "text": "see the dashboard", "style": {"bold": True}},
                        {"type": "link", "url": f"{GRAFANA}/d/bird-delivery?orgId=1&from=now-6h"},
                    ],
                },
                {
                    "type": "rich_text_preformatted",
                    "elements": [{"type": "text", "text": "\n".join(_log_line(rng) for _ in range(8))}],
                },
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"Grafana v11.2.0 | <{GRAFANA}/alerting/list|alert rules>"},
                {"type": "mrkdwn", "text": f"evaluated {_timestamp(rng)}"},
            ],
        },
    ]


def _attachment(rng: random.Random, number: int) -> dict[str, Any]:
    labels = _labels(rng)
    text = "\n".join(
        [
            f"*Value:* A={rng.uniform(0, 100):.2f}, B={rng.randint(0, 5000)}",
            "*Labels:* " + ", ".join(f"{name}={value}" for name, value in labels.items()),
            f"*Summary:* {_sentence(rng, 60)}",
            *(_log_line(rng) for _ in range(3)),
            f"<{GRAFANA}/d/bird-delivery?orgId=1&var-service={labels['service']}|Dashboard> | "
            f"<{GRAFANA}/alerting/silence/new?alertmanager=grafana|Silence>",
        ]
    )
    return {
        "color": "#E02F44",
        "title": f"[FIRING:{rng.randint(1, 9)}] BirdDeliveryLatency {labels['service']} #{number}",
        "title_link": f"{GRAFANA}/alerting/grafana/{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}/view",
        "text": text,
        "fields": [{"title": name, "value": value, "short": True} for name, value in labels.items()],
        "footer": "Grafana v11.2.0",
        "ts": 1764000000 + number,
        "fallback": f"[FIRING] BirdDeliveryLatency {labels['service']}: {_sentence(rng, 12)}",
    }


def _labels(rng: random.Random) -> dict[str, str]:
    return {
        "service": rng.choice(SERVICES),
        "region": rng.choice(REGIONS),
        "severity": rng.choice(("warning", "critical")),
        "instance": f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}:9100",
    }


def _log_line(rng: random.Random) -> str:
    return (
        f"{_timestamp(rng)} WARN {rng.choice(SERVICES)} {_sentence(rng, 6)} "
        f"took={rng.randint(200, 9000)}ms request_id={_uuid(rng)} trace_id={_uuid(rng)}"
    )


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _timestamp(rng: random.Random) -> str:
    hours, minutes, seconds, millis = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999)
    return f"2025-11-24T{hours:02}:{minutes:02}:{seconds:02}.{millis:03}Z"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def timings_ms(action: Callable[[], object]) -> list[float]:
    for _ in range(10):  # warm up caches (the catalog's compiled patterns, the regex cache)
        action()
    gc.collect()
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter_ns()
        action()
        runs.append((time.perf_counter_ns() - started) / 1e6)
    return runs


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def main() -> None:
    message = build_alert(random.Random(20251124))
    catalog = default_catalog()
    text = alert_text(message)
    hits = scan(catalog, text, from_integration=True)
    payload_kb = len(json.dumps(message).encode()) / 1024
    print(
        f"payload {payload_kb:.1f} KB JSON ({len(message['attachments'])} attachments, {len(message['blocks'])} blocks)"
        f" -> alert_text {len(text.encode()) / 1024:.1f} KB"
    )
    print("hits:", ", ".join(f"{hit.kind} {hit.key}" for hit in hits))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {RUNS} runs each")
    print(f"{'':<24} {'median ms':>10} {'p99 ms':>10}")
    steps: dict[str, Callable[[], object]] = {
        "alert_text()": lambda: alert_text(message),
        "scan()": lambda: scan(catalog, text, from_integration=True),
        "alert_text() + scan()": lambda: scan(catalog, alert_text(message), from_integration=True),
    }
    for name, action in steps.items():
        runs = timings_ms(action)
        print(f"{name:<24} {statistics.median(runs):>10.3f} {p99(runs):>10.3f}")


if __name__ == "__main__":
    main()
