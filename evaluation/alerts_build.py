"""Write the labelled alert evaluation set: ``evaluation/alerts_non_bird.jsonl`` and ``alerts_bird.jsonl``.

Each case is a Slack ``message`` event as an on-call channel receives it (plain text, legacy
attachments or Block Kit, posted by a person, an incoming webhook or an app), labelled with what
birdwatch should explain unasked: the catalog codes, ``source:platform-code`` pairs and Bird message
ids, or nothing. The shapes follow what the tools post (Alertmanager and Grafana attachments,
Datadog, Sentry, PagerDuty, Opsgenie, AWS Chatbot, CI systems, Kubernetes events, logs, tracebacks);
the numbers are drawn at random from a fixed seed, and real Bird codes (11001-15016) are put into
messages that are not about Bird on purpose. The labels come from the templates, never from the scanner.

Run ``.venv/bin/python -m evaluation.alerts_build`` to rewrite the files (the output is stable).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
NON_BIRD_FILE = HERE / "alerts_non_bird.jsonl"
BIRD_FILE = HERE / "alerts_bird.jsonl"

BIRD_CODES = [
    11001, 11002, 11003, 11004, 11005, 12001, 12002, 12003, 12004, 12005, 12006, 12007, 12008,
    14001, 14002, 14003, 14004, 14005, 15001, 15002, 15003, 15004, 15005, 15006, 15007, 15008,
    15010, 15011, 15012, 15013, 15014, 15015, 15016,
]  # fmt: skip
CODE_NAMES = {
    11001: "INVALID_CHANNEL_CONFIGURATION", 11002: "INVALID_INPUT", 11003: "INVALID_RECEIVER",
    11004: "INVALID_CONTENT", 11005: "INVALID_SENDER", 12001: "DEPENDENCY_ERROR", 12002: "UNSUPPORTED_TYPE",
    12003: "UNSUPPORTED_DESTINATION", 12004: "UNKNOWN_PRODUCT", 12005: "UNKNOWN_ROUTING",
    12006: "INVALID_MESSAGE", 12007: "BILLING_FALIURE", 12008: "NETWORK_TIMEOUT", 14001: "INVALID_BALANCE",
    14002: "INVALID_DESTINATION", 14003: "INVALID_TEMPLATE", 14004: "UNSUPPORTED_MEDIA_TYPE",
    14005: "INVALID_SESSION_WINDOW", 15001: "UNKNOWN_FAILURE", 15002: "INVALID_PERMISSION",
    15003: "FAILURE_ENTITY_PROCESSING", 15004: "INVALID_PAYMENT", 15005: "UNKNOWN_SUBSCRIBER",
    15006: "FAILURE_SUBSCRIBER", 15007: "FAILURE_ROUTING", 15008: "UNSUPPORTED_ACTION",
    15010: "INVALID_SUBSCRIPTION", 15011: "INVALID_SPAM", 15012: "INVALID_CAPACITY",
    15013: "FAILURE_MESSAGE_BOUNCED", 15014: "INVALID_BLOCKED_CHANNEL", 15015: "FAILURE_POLICY",
    15016: "OPTEDOUT_RECEIVER",
}  # fmt: skip
# Platform codes that are in the catalog's tables, by the source name they are reported under.
PLATFORM_CODES = {
    "whatsapp": ["131047", "131026", "131049", "132001", "131051", "130472", "131048", "132000", "131031"],
    "sms-messagebird": ["34", "1", "9", "11", "13", "21", "27", "33", "36"],
    "line": ["400", "401", "403", "404", "409", "429", "500"],
    "facebook": ["190", "230", "613", "1200", "100"],
    "instagram": ["190", "230", "613", "100"],
    "apple-business-chat": ["400", "401", "410", "503"],
}
SERVICES = ["checkout-api", "orders", "payments", "sms-worker", "notifier", "auth", "search", "catalog-svc", "gateway"]
HOSTS = ["web-1", "web-2", "db-3", "ip-10-0-3-17", "worker-7", "cache-2", "api-4"]
PEOPLE = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"]

Case = dict[str, Any]
Template = Callable[[random.Random], tuple[dict[str, Any], list[str]]]


# --- payload shapes -------------------------------------------------------------------------------


def person(rng: random.Random, text: str) -> dict[str, Any]:
    return {"type": "message", "user": rng.choice(PEOPLE), "text": text}


def webhook(name: str, text: str = "", attachments: list[Any] | None = None) -> dict[str, Any]:
    """An incoming webhook's post: ``subtype: bot_message`` with a bot id and a username."""
    event: dict[str, Any] = {"type": "message", "subtype": "bot_message", "bot_id": f"B0{name.upper()[:8]}"}
    event |= {"username": name, "text": text}
    if attachments:
        event["attachments"] = attachments
    return event


def app(
    name: str, text: str = "", blocks: list[Any] | None = None, attachments: list[Any] | None = None
) -> dict[str, Any]:
    """A Slack app's post: its bot user, bot id and profile; Block Kit and/or attachments."""
    bot = f"B0{name.upper().replace(' ', '')[:8]}"
    event: dict[str, Any] = {"type": "message", "user": f"U0{bot[2:]}", "bot_id": bot, "text": text}
    event["bot_profile"] = {"id": bot, "app_id": f"A0{bot[2:]}", "name": name}
    if blocks:
        event["blocks"] = blocks
    if attachments:
        event["attachments"] = attachments
    return event


def attachment(title: str, text: str = "", *, fields: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"fallback": title, "title": title, "text": text, "mrkdwn_in": ["text"]} | extra
    if fields:
        item["fields"] = [{"title": k, "value": v, "short": True} for k, v in fields.items()]
    return item


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def section(text: str, fields: list[str] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if fields:
        block["fields"] = [{"type": "mrkdwn", "text": field} for field in fields]
    return block


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


# --- random parts ---------------------------------------------------------------------------------


def code(rng: random.Random) -> int:
    return rng.choice(BIRD_CODES)


def big(rng: random.Random) -> int:
    """A five-digit number, a real Bird code half of the time."""
    return code(rng) if rng.random() < 0.5 else rng.randint(10000, 99999)


def ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 9)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def pod(rng: random.Random) -> str:
    return f"{rng.choice(SERVICES)}-{rng.choice(['7d9f', '5c8b', '66f4', 'b9d2'])}{rng.randint(10, 99)}-{big(rng)}"


def svc(rng: random.Random) -> str:
    return rng.choice(SERVICES)


def ts(rng: random.Random) -> str:
    return f"2026-12-0{rng.randint(1, 2)}T0{rng.randint(0, 9)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}Z"


# --- messages that are not about Bird -------------------------------------------------------------


def python_traceback(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    line_a, line_b = rng.choice([404, 500, 429, 401]), rng.choice([big(rng), 15011, 12002, 88])
    error = rng.choice(
        [
            f"requests.exceptions.ConnectionError: HTTPConnectionPool(host='{ip(rng)}', port={big(rng)}): "
            "Max retries exceeded with url: /v1/orders",
            f"KeyError: 'order_{big(rng)}'",
            f'psycopg2.OperationalError: connection to server at "{ip(rng)}", port {big(rng)} failed: timeout',
            f"ValueError: invalid literal for int() with base 10: '{big(rng)}x'",
            f"TimeoutError: task {big(rng)} exceeded 30s",
        ]
    )
    text = (
        f'```Traceback (most recent call last):\n  File "/srv/{svc(rng)}/app/views.py", line {line_a}, in handle\n'
        f'    return self.dispatch(request)\n  File "/srv/app/lib/client.py", line {line_b}, in send\n'
        f"    raise exc\n{error}```"
    )
    shape = rng.choice(["person", "webhook"])
    return (person(rng, text) if shape == "person" else webhook("sentry-relay", text)), []


def java_trace(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    cause = rng.choice(
        [
            f"Caused by: java.net.ConnectException: Connection refused: orders-db/{ip(rng)}:{big(rng)}",
            f"Caused by: java.sql.SQLException: ORA-{rng.choice([12005, 12154, 12541, 15011])}: TNS error",
            "org.springframework.web.HttpMediaTypeNotSupportedException: status UNSUPPORTED_MEDIA_TYPE",
            f"Caused by: java.util.concurrent.TimeoutException: Timeout after {big(rng)} ms",
        ]
    )
    text = (
        f"ERROR [{svc(rng)}] Request failed\njava.lang.IllegalStateException: failed to place order\n"
        f"\tat com.acme.orders.OrderService.place(OrderService.java:{big(rng)})\n"
        f"\tat com.acme.orders.OrderController.create(OrderController.java:{rng.choice([404, 500, 88])})\n"
        f"\tat java.base/java.lang.Thread.run(Thread.java:{rng.choice([833, 1583])})\n{cause}"
    )
    return webhook("log-alerts", text), []


def go_panic(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    text = (
        f"panic: runtime error: invalid memory address or nil pointer dereference\n"
        f"[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x{rng.randint(4096, 65535):x}]\n\n"
        f"goroutine {big(rng)} [running]:\nmain.(*Server).handle(0xc000{rng.randint(100, 999)})\n"
        f"\t/app/cmd/{svc(rng)}/main.go:{rng.choice([404, 500, big(rng)])} +0x1d\n"
        f"exit status 2\ndial tcp {ip(rng)}:{big(rng)}: connect: connection refused"
    )
    return (webhook("k8s-logs", text) if rng.random() < 0.5 else person(rng, f"anyone seen this?\n```{text}```")), []


def node_error(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    text = rng.choice(
        [
            f"Error: connect ECONNREFUSED 127.0.0.1:{big(rng)}\n    at TCPConnectWrap.afterConnect [as oncomplete] "
            f"(node:net:{rng.choice([1494, 1555])}:16)",
            f"TypeError: Cannot read properties of undefined (reading 'id')\n    at handler "
            f"(/app/src/routes/orders.js:{big(rng)}:{rng.randint(3, 40)})\n    at Layer.handle "
            f"(/app/node_modules/express/lib/router/layer.js:95:5)",
            f"UnhandledPromiseRejectionWarning: Error: Request failed with status code 500\n    at createError "
            f"(/app/node_modules/axios/lib/core/createError.js:16:15) (rejection id: {rng.randint(1, 9)})\n"
            f"    at /app/dist/worker.js:{big(rng)}:22",
        ]
    )
    return webhook("node-errors", f"*{svc(rng)}* crashed\n```{text}```"), []


def ruby_error(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    text = (
        f"PG::ConnectionBad: could not connect to server: Connection refused\n\tIs the server running on host "
        f'"{ip(rng)}" and accepting TCP/IP connections on port {big(rng)}?\n'
        f"app/models/order.rb:{rng.choice([404, 500, big(rng)])}:in `save!'\n"
        f"app/jobs/sync_job.rb:{rng.randint(10, 99)}:in `perform'"
    )
    return rng.choice([webhook("honeybadger", text), person(rng, f"rails console says:\n{text}")]), []


def dotnet_error(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    text = rng.choice(
        [
            f"System.Data.SqlClient.SqlException (0x80131904): Login failed for user 'svc'.\n"
            f"   at Acme.Orders.Repo.Get(Int32 id) in /src/Repo.cs:line {big(rng)}\n"
            f"Error Number:{big(rng)},State:1,Class:14",
            f"Msg {big(rng)}, Level 16, State 1, Line {rng.randint(1, 400)}\nThe login already has an account.",
            f"System.Net.Http.HttpRequestException: Connection refused ({ip(rng)}:{big(rng)})\n"
            f"   at Acme.Billing.Client.SendAsync() in C:\\build\\Client.cs:line {big(rng)}",
        ]
    )
    return webhook("appinsights", text), []


def github_actions(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    run, service = big(rng), svc(rng)
    text = rng.choice(
        [
            f"❌ Build #{run} failed on main: {service} (<https://github.com/acme/{service}/actions/runs/{run}|details>)",
            f"Workflow *CI* run {run} failed for PR #{big(rng)} by @dev: job `test` exited with code 1",
            f"Deploy to production failed — run #{run}, commit {rng.getrandbits(28):07x}, "
            f"{rng.randint(2, 40)} tests failed",
        ]
    )
    return app("GitHub", text, attachments=[attachment(f"acme/{service}", text, color="danger")]), []


def jenkins(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    job = rng.choice(["sms-worker", "orders-deploy", "nightly-e2e", "payments"])
    text = rng.choice(
        [
            f"FAILURE: Job '{job}' build #{big(rng)} (<https://ci.acme.io/job/{job}/{big(rng)}/|Open>)",
            f"job {job} #{big(rng)} failed after {rng.randint(2, 59)} min: error: exit code 1",
            f"Build {job} #{big(rng)} - Back to normal after {rng.randint(1, 9)} hr",
        ]
    )
    return webhook("jenkins", text), []


def gitlab(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    text = rng.choice(
        [
            f"Pipeline #{big(rng)} has failed for branch main of acme/{svc(rng)} in {rng.randint(2, 30)} min",
            f"Job #{big(rng)} `integration` failed: ERROR: Job failed: exit code 1",
            f"!{big(rng)} merged: Fix retry on error {big(rng)}",
        ]
    )
    return app("GitLab", "", attachments=[attachment(text, f"Commit: {rng.getrandbits(28):07x}", color="#d00")]), []


def circleci(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    workflow = rng.choice(["build-and-test", "deploy", "release"])
    blocks = [
        header(f"Job Failed. :red_circle: {workflow}"),
        section(f"*Project*: {svc(rng)}  *Job*: test  *Branch*: main"),
        section(f"Workflow #{big(rng)} failed, build {big(rng)} on executor docker"),
    ]
    return app("CircleCI", "CircleCI job failed", blocks=blocks), []


def kubernetes_event(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    name = pod(rng)
    text = rng.choice(
        [
            f"Warning BackOff pod/{name}: Back-off restarting failed container api in pod {name}",
            f'Warning Unhealthy pod/{name}: Readiness probe failed: Get "http://{ip(rng)}:{big(rng)}/healthz": '
            "dial tcp: connect: connection refused",
            f"Warning FailedScheduling pod/{name}: 0/{rng.randint(3, 40)} nodes are available: "
            f"{rng.randint(1, 9)} Insufficient memory",
            f"Warning OOMKilled pod/{name}: container exceeded memory limit {big(rng)}Mi, exit code 137",
            f"Normal Killing pod/{name}: Stopping container api; restarted {big(rng)} times",
            f"Warning Unhealthy pod/{name}: Liveness probe failed: HTTP probe failed with statuscode: 500",
        ]
    )
    return webhook("kube-events", text), []


def nginx_log(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    method, path = rng.choice(["GET", "POST", "PUT"]), rng.choice(["/orders/", "/api/v2/users/", "/invoices/"])
    text = rng.choice(
        [
            f'{ip(rng)} - - [02/Dec/2026:00:{rng.randint(10, 59)}:01 +0000] "{method} {path}{big(rng)} HTTP/1.1" '
            f'{rng.choice([404, 500, 502, 499])} {big(rng)} "-" "okhttp/4.12.0"',
            f"upstream timed out (110: Connection timed out) while reading response header from upstream, client: "
            f'{ip(rng)}, server: api, request: "{method} {path}{big(rng)} HTTP/1.1", upstream: '
            f'"http://{ip(rng)}:{big(rng)}{path}"',
            f"HTTP 502 on {method} {path}{big(rng)} ({big(rng)} ms) from {ip(rng)}",
        ]
    )
    return (webhook("nginx-errors", f"```{text}```") if rng.random() < 0.6 else person(rng, text)), []


def datadog(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    service, value, threshold = svc(rng), big(rng), big(rng)
    title = rng.choice(
        [
            f"Triggered: [P{rng.randint(1, 4)}] High error rate on {service}",
            f"[Triggered on {{host:{rng.choice(HOSTS)}}}] Latency p99 above {threshold} ms",
            f"Warn: Queue depth on {service}",
        ]
    )
    text = rng.choice(
        [
            f"{service} errors: {value} in the last 5m (threshold > {threshold}).",
            f"`sum:trace.http.request.errors{{service:{service}}}` reached {value} (> {threshold})",
            f"queue depth {value} on {service}, consumer lag {big(rng)}",
            f"p99 latency {value} ms (threshold {threshold} ms) @oncall-{service}",
        ]
    )
    blocks = [section(f"*{title}*"), section(text), context(f"Monitor ID: {big(rng)} | <https://app.datadoghq.com>")]
    return app("Datadog", title, attachments=[{"color": "#ff0000", "fallback": title, "blocks": blocks}]), []


def grafana(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    name = rng.choice(["HighLatency", "ErrorBudgetBurn", "DiskFull", "HTTP5xx", "KafkaLag"])
    value = big(rng)
    text = (
        f"**Firing**\n\nValue: B={value}\nLabels:\n - alertname = {name}\n - instance = {ip(rng)}:{big(rng)}\n"
        f" - pod = {pod(rng)}\nAnnotations:\n - summary = {rng.choice(['errors', 'requests', 'ms'])} above "
        f"{big(rng)} for 5m\nSource: https://grafana.acme.io/alerting/grafana/{rng.getrandbits(24):x}/view"
    )
    item = attachment(f"[FIRING:{rng.randint(1, 3)}] {name} ({svc(rng)})", text, footer="Grafana v11.3.0")
    return app("Grafana", "", attachments=[item]), []


def sentry(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    project = svc(rng)
    title = rng.choice(
        [
            "TypeError: Cannot read properties of undefined (reading 'sku')",
            f"OperationalError: could not connect to port {big(rng)}",
            "ZeroDivisionError: division by zero",
            f"HTTPError: 500 Server Error for url: https://internal.acme.io/orders/{big(rng)}",
            "INVALID_INPUT: payload failed schema validation",
        ]
    )
    text = f"{project} • {big(rng)} events • {rng.randint(2, 900)} users\n"
    text += f"First seen: 2h ago • Issue {project.upper()}-{big(rng)}"
    blocks = [section(f"*<https://sentry.io/organizations/acme/issues/{big(rng)}/|{title}>*"), section(text)]
    return app("Sentry", f"New issue: {title}", blocks=blocks), []


def pagerduty(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    number, service = big(rng), svc(rng)
    text = rng.choice(
        [
            f"Triggered #{number}: {service} DB connections > {big(rng)}",
            f"Acknowledged by Dave: #{number} {service} 5xx rate above {rng.randint(1, 20)}%",
            f"Incident {number} escalated to level 2: {service} unreachable on port {big(rng)}",
        ]
    )
    blocks = [section(f":rotating_light: {text}"), context(f"Service: {service} | Urgency: high | #{number}")]
    return app("PagerDuty", text, blocks=blocks), []


def cloudwatch(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    alarm = rng.choice(["api-5xx-high", "rds-connections", "sqs-backlog", "lambda-errors"])
    threshold = big(rng)
    text = (
        f"Threshold Crossed: 1 out of the last 1 datapoints [{big(rng)}.0 (02/12/26 00:{rng.randint(10, 59)}:00)] "
        f"was greater than the threshold ({threshold}.0) (minimum 1 datapoint for OK -> ALARM transition).\n"
        f"State changed from OK to ALARM\nMessageId: {uid(rng)}\nAccount: {rng.randint(10**11, 10**12 - 1)}"
    )
    title = f"CloudWatch Alarm | {alarm} | eu-west-1 | Account: {rng.randint(10**11, 10**12 - 1)}"
    blocks = [section(f"*{title}*"), section(text), context(f"ApproximateNumberOfMessagesVisible > {threshold}")]
    return app("AWS Chatbot", title, blocks=blocks), []


def opsgenie(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    tiny = big(rng)
    text = rng.choice(
        [
            f"[Opsgenie] New alert: #{tiny} High CPU on {rng.choice(HOSTS)} ({big(rng)} processes)",
            f"Alert #{tiny} acknowledged by Carol: Disk usage {rng.randint(81, 99)}% on {rng.choice(HOSTS)}",
            f'New alert: "{svc(rng)} error count {big(rng)}" Priority: P{rng.randint(1, 5)} Tags: prod',
        ]
    )
    return app("Opsgenie", text, attachments=[attachment(text, f"Alias: {svc(rng)}-{big(rng)}", color="#f00")]), []


def alertmanager(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    name = rng.choice(["KubePodCrashLooping", "HighErrorRate", "TargetDown", "KafkaConsumerLag", "RedisMemoryHigh"])
    text = (
        f"*Alert:* {name} - `{rng.choice(['critical', 'warning'])}`\n*Description:* {pod(rng)} restarted "
        f"{rng.randint(3, 40)} times; error count {big(rng)} in the last 10m\n*Details:*\n"
        f" • *instance:* `{ip(rng)}:{big(rng)}`\n • *job:* `{svc(rng)}`\n • *value:* `{big(rng)}`"
    )
    title = f"[FIRING:{rng.randint(1, 4)}] {name} (prod {svc(rng)})"
    return webhook("Alertmanager", "", [attachment(title, text, color="danger")]), []


def chat(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    n = big(rng)
    text = rng.choice(
        [
            f"order {n} shipped twice, can someone check?",
            f"queue depth is {n}, should we scale the workers?",
            f"I think line {rng.choice([404, 500, 429])} in settings.py is the culprit",
            f"wa {rng.randint(2, 6)} pods keep restarting after the deploy",
            f"can you look at ticket {n} before standup",
            f"error rate hit {n} per minute lol",
            f"the new port is {n}, update the firewall",
            f"postmortem in room {n} at 3",
            f"bumped the SDK to v{rng.randint(1, 20)}.{rng.randint(0, 9)}.{n}",
            f"email {rng.randint(2, 9)} customers about the outage?",
            f"call {rng.randint(2, 5)} people from the payments team",
            f"we got {n} errors overnight from the payments provider",
            f"INC-{n} is still open, who owns it?",
            "we get INVALID_INPUT from the tax API again",
            f"NETWORK_TIMEOUT on the VPN again, {n} ms ping",
            f"line 404 was a typo, fixed in #{n}",
            "voice 1 is quiet today :)",
            f"contact {rng.randint(2, 9)} is the escalation for infra",
            f"we processed {n} orders today, nice",
            f"p99 is {n} ms on checkout, anyone deploying?",
            f"failed over to replica {n % 7}, lag {n}",
            f"rollback to build {n} failed",
            f"{n} failed logins from {ip(rng)} in the last hour",
            f"exit code {rng.choice([1, 2, 137, 143])} on job {n}",
            f"who changed the alert threshold to {n}?",
            f"SMS from the status page says {n} users affected",
        ]
    )
    return person(rng, text), []


def queue_log(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Message-queue logs: "message id" labels that are not Bird's."""
    text = rng.choice(
        [
            f"kafka consumer orders-sync: failed to process message {uid(rng)} at offset {big(rng)} "
            f"(partition {rng.randint(0, 11)}): timeout",
            f"SQS: message_id={uid(rng)} moved to DLQ after {rng.randint(3, 9)} receives; "
            f"ApproximateReceiveCount={big(rng)}",
            f"celery task {uid(rng)} failed: RetryError after {big(rng)} ms (msg id {uid(rng)})",
            f"RabbitMQ nack for messageId {uid(rng)}, queue depth {big(rng)}",
        ]
    )
    return webhook("queue-alerts", text), []


def redis_db(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    text = rng.choice(
        [
            f"Redis: OOM command not allowed, used_memory={big(rng)}, maxmemory={big(rng)} on {ip(rng)}:{big(rng)}",
            f"slow query ({big(rng)} ms): SELECT * FROM orders WHERE id = {big(rng)}",  # noqa: S608 - a log line
            f"postgres: deadlock detected, process {big(rng)} waits for ShareLock on transaction {big(rng)}",
            f"MySQL error 1205: lock wait timeout exceeded, thread id {big(rng)}",
        ]
    )
    return webhook("db-alerts", text), []


def bird_figures(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """About Bird, but every number is a figure: counts, latencies, ports, invoices, pods, builds."""
    n = code(rng)
    text = rng.choice(
        [
            f"Bird: sent {n}, delivered {code(rng)}, failed {rng.randint(2, 400)}",
            f"Bird outage: {n} messages queued, retrying every 30s",
            f"MessageBird balance {n} EUR, top up before Friday",
            f"Bird is down? {n} customers can't get their OTPs",
            f"api.bird.com latency p99 {n} ms since 09:00",
            f"sms-messagebird throughput {n} msg/min (normal)",
            f"bird-relay pod bird-relay-5c8b-{n} OOMKilled",
            f"Bird API 429 Too Many Requests, retry after {n} ms",
            f"MessageBird invoice #{n} is overdue",
            f"Bird webhook worker listening on {ip(rng)}:{n}",
            f"deploying bird-relay build {n} to prod",
            f"Bird webhook queue depth is {n}",
            f"Bird: {n} failures in the last hour, mostly retried fine",
            f"Bird status page incident {n}: degraded SMS delivery in EU",
            f"bird-sync job #{n} failed: exit code 1",
            f"Bird SDK bumped to 4.{rng.randint(0, 9)}.{n}",
            f"<https://status.bird.com/incidents/{n}|Bird incident> — SMS delays",
            f"Bird callbacks: {n} per minute, above the usual",
        ]
    )
    return (webhook("bird-monitor", text) if rng.random() < 0.6 else person(rng, text)), []


def platform_words(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Ordinary words that are also Bird source names, next to numbers in those sources' code tables."""
    text = rng.choice(
        [
            f'  File "/srv/app/parser.py", line {rng.choice([400, 401, 404, 409, 429, 500])}, in parse',
            f"see line {rng.choice([404, 500, 429])} of the migration",
            f"wa {rng.choice([3, 4, 10])} pods in CrashLoopBackOff",
            f"ig {rng.choice([100, 190])} followers gained after the campaign lol",
            f"fb {rng.choice([190, 230, 613])} likes on the launch post",
            f"sms {rng.choice([1, 9, 34])} sent to the on-call rota",
            f"apple {rng.choice([401, 410])}k plan enrolment closes Friday",
            f"voice {rng.randint(1, 9)} is muted in the bridge",
            f"email {rng.randint(2, 9)} people about the change freeze",
            f"contact {rng.randint(2, 9)}: infra escalation",
            f"call {rng.randint(2, 5)} of the incident review is at 4",
            f"line {rng.choice([400, 404, 500])}: unexpected indent",
            f"SyntaxError at line {rng.choice([401, 403, 429])}, column 12",
            f"messenger {rng.choice([2, 4, 100])} unread, will check after lunch",
        ]
    )
    return (person(rng, text) if rng.random() < 0.5 else webhook("ci-bot", text)), []


def platform_direct(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Platforms a team also uses directly (login, ads, relays): their names alone say nothing of Bird."""
    n = big(rng)
    text = rng.choice(
        [
            f"Facebook login: error code {rng.choice([190, 100])} for {rng.randint(2, 90)} users",
            f"Instagram ads sync failed: error {n}, retrying in 30s",
            f"Instagram Graph API error {rng.choice([190, 613])} on the catalog sync",
            f"WhatsApp Web is down for everyone? {n} reports on downdetector",
            f"kafka lag on topic whatsapp-inbound: {n}",
            f"imessage relay crashed with code {n} on mac-mini-{rng.randint(1, 9)}",
            f"whatsapp webhook verify failed, code {n}",
            f"facebook pixel: {n} events dropped",
            f"deploy whatsapp-service v2.{n} failed",
            f"is failure {n} on whatsapp our bug or the phone's?",
        ]
    )
    return (webhook("integrations", text) if rng.random() < 0.5 else person(rng, text)), []


def bird_counts(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """About Bird, with Bird-code-like counts, sizes, ids and versions, and no failure code at all."""
    n = code(rng)
    text = rng.choice(
        [
            f"Bird: {n} messages delivered today, record!",
            f"Bird dashboard shows {n} sent, {code(rng)} delivered",
            f"MessageBird outage postmortem: {n} customers affected, ticket #{code(rng)}",
            f"bird-relay-{n} pod evicted",
            f"api.bird.com:{n} connection refused",
            f"Bird webhook latency {n}ms p99",
            f"MessageBird bill: {n} EUR this month",
            f"Bird API rate limit hit: {n} requests in 1m",
            f"birdwatch replied {n} times today",
            f"Bird status page: all systems operational (incident {n} closed)",
            f"Bird SDK {n} released?",
            f"bird-sync cron took {n} s",
            f"Bird: retries exhausted after {n} attempts",
            f"MessageBird account {n} suspended?",
            f"Bird callback queue: {n} pending, 0 failed",
            f"bird.messages.failed{{service:notify}} = {n}",
            f"Bird: Processed {n} messages, {code(rng)} delivered",
            f"Bird migration: {n}/20000 contacts imported",
        ]
    )
    return (person(rng, text) if rng.random() < 0.5 else webhook("bird-monitor", text)), []


def generic_names(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Code names that other systems use too, outside any Bird context."""
    text = rng.choice(
        [
            f"grpc: status INVALID_INPUT from tax-service after {rng.randint(2, 90)} ms",
            "Spring: 415 UNSUPPORTED_MEDIA_TYPE on POST /v1/upload",
            f"android client reports NETWORK_TIMEOUT ({rng.randint(3, 60)}s) on the login screen",
            "payments: DEPENDENCY_ERROR from the card vault, retrying",
            f"UNKNOWN_FAILURE in the nightly export, job {big(rng)}",
            "IAM: INVALID_PERMISSION for role deployer on bucket assets",
            "schema check: INVALID_MESSAGE on topic orders.v2",
            "feature flags: UNSUPPORTED_TYPE for key checkout.variant",
        ]
    )
    return (webhook("app-errors", text) if rng.random() < 0.5 else person(rng, text)), []


NON_BIRD: dict[str, tuple[Template, int]] = {
    "python-traceback": (python_traceback, 22),
    "java-trace": (java_trace, 16),
    "go-panic": (go_panic, 12),
    "node-error": (node_error, 12),
    "ruby-error": (ruby_error, 10),
    "dotnet-error": (dotnet_error, 10),
    "github-actions": (github_actions, 14),
    "jenkins": (jenkins, 12),
    "gitlab": (gitlab, 10),
    "circleci": (circleci, 8),
    "kubernetes-event": (kubernetes_event, 18),
    "nginx-log": (nginx_log, 16),
    "datadog": (datadog, 20),
    "grafana": (grafana, 16),
    "sentry": (sentry, 14),
    "pagerduty": (pagerduty, 12),
    "cloudwatch": (cloudwatch, 12),
    "opsgenie": (opsgenie, 12),
    "alertmanager": (alertmanager, 16),
    "chat": (chat, 52),
    "queue-log": (queue_log, 12),
    "database": (redis_db, 10),
    "bird-figures": (bird_figures, 24),
    "platform-words": (platform_words, 18),
    "generic-names": (generic_names, 12),
    "platform-direct": (platform_direct, 16),
    "bird-counts": (bird_counts, 16),
}


# --- Bird alerts ----------------------------------------------------------------------------------


def bird_alertmanager(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure = code(rng)
    text = (
        f"*Alert:* Messages to customers are failing > {rng.randint(2, 9)}% - `critical`\n*Description:* "
        f"Bird delivery_failed rate is high for failure.code {failure} on {big(rng)} messages in 15m\n"
        f"*Runbook:* <https://runbooks.acme.io/bird|runbook>"
    )
    title = f"[FIRING:{rng.randint(1, 3)}] BirdSendFailures (prod messaging)"
    fields = {"severity": "critical", "failure_code": str(failure), "instance": f"{ip(rng)}:{big(rng)}"}
    return webhook("Alertmanager", "", [attachment(title, text, fields=fields, color="danger")]), [str(failure)]


def bird_grafana(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure = code(rng)
    source = rng.choice(["whatsapp", "sms-messagebird", "line"])
    platform = rng.choice(PLATFORM_CODES[source])
    text = (
        f"**Firing**\n\nValue: B={rng.randint(5, 900)}\nLabels:\n - alertname = Bird {CODE_NAMES[failure]} rate\n"
        f" - grafana_folder = messaging\nAnnotations:\n - summary = failure.source {source}, code {platform} on "
        f"most failed messages\nSource: https://grafana.acme.io/alerting/grafana/{rng.getrandbits(24):x}/view"
    )
    title = f"[FIRING:1] Bird {CODE_NAMES[failure]} rate (messaging)"
    expected = [str(failure), f"{source}:{platform}"]
    return app("Grafana", "", attachments=[attachment(title, text, footer="Grafana v11.3.0")]), expected


def bird_datadog(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    first, second = rng.sample(BIRD_CODES, 2)
    title = f"Triggered: [P2] Bird message failures on {svc(rng)}"
    text = (
        f"Failed messages in the last 15m: {rng.randint(40, 4000)}\nTop failure codes: `{first}` "
        f"({rng.randint(10, 900)}), `{second}` ({rng.randint(1, 9)})"
    )
    blocks = [section(f"*{title}*"), section(text), context(f"Monitor ID: {big(rng)}")]
    return app("Datadog", title, attachments=[{"color": "#ff0000", "fallback": title, "blocks": blocks}]), [
        str(first),
        str(second),
    ]


def bird_log_json(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure, message_id = code(rng), uid(rng)
    source = rng.choice(["whatsapp", "sms-messagebird", "facebook", "instagram", "line"])
    platform = rng.choice(PLATFORM_CODES[source])
    body = json.dumps({"code": failure, "description": "see docs", "source": {"name": source, "code": platform}})
    text = (
        f'{ts(rng)} level=error service={svc(rng)} msg="bird send failed" messageId={message_id} '
        f"status=delivery_failed latency_ms={big(rng)} failure={body}"
    )
    return webhook("log-alerts", f"```{text}```"), [message_id, str(failure), f"{source}:{platform}"]


def bird_webhook_relay(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure, message_id = code(rng), uid(rng)
    status = rng.choice(["delivery_failed", "sending_failed"])
    source = rng.choice(["sms-messagebird", "whatsapp"])
    platform = rng.choice(PLATFORM_CODES[source])
    payload = {
        "service": "channels",
        "event": "message.updated",
        "payload": {
            "messageId": message_id,
            "status": status,
            "failure": {"code": failure, "source": {"name": source, "code": platform}},
        },
    }
    text = f"*Bird webhook* `{status}`\n```{json.dumps(payload)}```"
    return webhook("bird-relay", text), [message_id, str(failure), f"{source}:{platform}"]


def bird_person(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure = code(rng)
    name = CODE_NAMES[failure]
    options: list[tuple[str, list[str]]] = [
        (f"Bird says {name} ({failure}) for our promo campaign, anyone?", [str(failure)]),
        (f"getting failure code {failure} from MessageBird since 10:00", [str(failure)]),
        (f"we see a lot of {name} in the Bird dashboard today", [str(failure)]),
        (f"is Bird failure {failure} on whatsapp something we can fix?", [str(failure)]),
        (f"Bird error {failure} for all +44 numbers, started ~{big(rng)} messages ago", [str(failure)]),
        (f"MessageBird rejected the batch with {failure}", [str(failure)]),
    ]
    text, expected = rng.choice(options)
    return person(rng, text), expected


def bird_person_platform(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    source = rng.choice(["whatsapp", "sms-messagebird", "facebook", "instagram"])
    platform = rng.choice(PLATFORM_CODES[source])
    wording = rng.choice(
        [
            f"Bird: {source} sends failing with {source} {platform} since the deploy",
            f"Bird shows {source} {platform} on most of them",
            f"failure.source.name={source} failure.source.code={platform}, what does that mean?",
            f"{source} error {platform} again in Bird for the Brazil campaign",
        ]
    )
    return person(rng, wording), [f"{source}:{platform}"]


def bird_line_source(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """LINE named the clear ways: a source label, or in capitals beside Bird failure context."""
    platform = rng.choice(PLATFORM_CODES["line"])
    failure = code(rng)
    text, expected = rng.choice(
        [
            (f"Bird failure for LINE campaign: source: line, code {platform}", [f"line:{platform}"]),
            (f"Bird delivery_failed via LINE {platform}, failure code {failure}", [f"line:{platform}", str(failure)]),
            (
                f'Bird failure: {{"source":{{"name":"line","code":"{platform}"}},"code":{failure}}}',
                [f"line:{platform}", str(failure)],
            ),
        ]
    )
    return webhook("bird-relay", text), expected


def bird_blocks(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure, message_id = code(rng), uid(rng)
    blocks = [
        header(":red_circle: Delivery monitor"),
        section(
            f"*Checkout notifications* are failing since 0{rng.randint(0, 9)}:12 UTC",
            ["*Workspace*\nacme-prod", f"*Failure code*\n{failure}", f"*Failed messages*\n{big(rng)}"],
        ),
        section(f"Latest failed *message*: `{message_id}`"),
    ]
    return app("Monitor", "Delivery monitor: messages failing", blocks=blocks), [str(failure), message_id]


def bird_pagerduty(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure = code(rng)
    text = f"Triggered #{big(rng)}: Bird failure.code {failure} spike on whatsapp ({big(rng)} messages)"
    blocks = [section(f":rotating_light: {text}"), context(f"Service: messaging | Urgency: high | #{big(rng)}")]
    return app("PagerDuty", text, blocks=blocks), [str(failure)]


def bird_opsgenie(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure = code(rng)
    text = f"[Opsgenie] New alert: #{big(rng)} MessageBird {CODE_NAMES[failure]} above threshold"
    return app("Opsgenie", text, attachments=[attachment(text, f"failure code {failure}", color="#f00")]), [
        str(failure)
    ]


def bird_cloudwatch(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure = code(rng)
    title = f"CloudWatch Alarm | bird-failures-{svc(rng)} | eu-west-1 | Account: {rng.randint(10**11, 10**12 - 1)}"
    text = (
        f"Bird failure code {failure} ({CODE_NAMES[failure]}) above threshold: {big(rng)} messages "
        f"in 5 minutes (threshold {big(rng)}).\nState changed from OK to ALARM"
    )
    return app("AWS Chatbot", title, blocks=[section(f"*{title}*"), section(text)]), [str(failure)]


def bird_sentry(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    failure, message_id = code(rng), uid(rng)
    title = f"BirdSendError: message {message_id} failed with {CODE_NAMES[failure]}"
    text = f"{svc(rng)} • {big(rng)} events • failure.code={failure}"
    blocks = [section(f"*<https://sentry.io/organizations/acme/issues/{big(rng)}/|{title}>*"), section(text)]
    return app("Sentry", title, blocks=blocks), [message_id, str(failure)]


def bird_with_traps(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """A Bird alert whose other numbers are figures: counts, ports, build and pod numbers."""
    failure = code(rng)
    text = rng.choice(
        [
            f"Bird failure.code {failure} on {big(rng)} messages, queue depth {big(rng)}",
            f"MessageBird failures: failure code {failure}; retrying from {pod(rng)} (build #{big(rng)})",
            f"Bird send errors {big(rng)} in the last 5m, top failure code {failure}, worker {ip(rng)}:{big(rng)}",
            f"MessageBird 5xx: {big(rng)} in 10m on POST /messages; failure.code {failure} on the rest",
        ]
    )
    return webhook("bird-monitor", text), [str(failure)]


def bird_channel_bare(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """In a channel declared to carry only Bird alerts, a bare code in an alert is enough."""
    failure = code(rng)
    text = rng.choice(
        [
            f"{failure} spike on the promo campaign",
            f"[FIRING:1] SendFailures code={failure}",
            f"Top reason today: {failure}",
        ]
    )
    return webhook("alerts", text), [str(failure)]


def bird_metrics(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Metric queries and series labels carrying the failure code."""
    failure = code(rng)
    text = rng.choice(
        [
            f'bird_failure_code{{code="{failure}"}} {rng.randint(5, 900)}',
            f"avg:bird.failures{{failure_code:{failure}}} > {rng.randint(5, 900)}",
            f"sum by (failure_code) (rate(bird_messages_failed_total[5m])): failure_code={failure} {rng.random():.2f}",
            f"[FIRING:1] BirdFailures failure_code={failure} channel=sms value={rng.randint(5, 900)}",
        ]
    )
    return app("Grafana", "", attachments=[attachment("Bird failure series", text)]), [str(failure)]


def bird_questions(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """People asking about a Bird failure in their own words."""
    failure = code(rng)
    text = rng.choice(
        [
            f"anyone know what {failure} means in Bird?",
            f"Bird keeps returning {failure} for the Dutch numbers, ideas?",
            f"is {CODE_NAMES[failure]} on our side or Bird's?",
            f"MessageBird: code {failure} again on the password reset flow",
            f"we got a delivery_failed with {failure} from Bird, first time I see it",
            f"Bird failure {failure} keeps coming back after the template change",
        ]
    )
    return person(rng, text), [str(failure)]


def bird_tables(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Failure codes with their counts, as reports and summaries lay them out."""
    first, second = rng.sample(BIRD_CODES, 2)
    text = rng.choice(
        [
            f"Bird failures by code — {first}: {rng.randint(40, 900)}, {second}: {rng.randint(1, 39)}",
            f"*Bird daily report*\nfailure code | count\n{first} | {rng.randint(40, 900)}\n"
            f"{second} | {rng.randint(1, 39)}",
            f"Bird top failure codes (24h): {first} ({rng.randint(40, 900)}x), {second} ({rng.randint(1, 39)}x)",
        ]
    )
    return webhook("bird-report", text), [str(first), str(second)]


def bird_plain_words(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Bird failures as people and small scripts word them."""
    failure = code(rng)
    name = CODE_NAMES[failure]
    text = rng.choice(
        [
            f'Bird API error for order confirmation: {{"code": {failure}, "message": "see docs"}}',
            f"MessageBird callback: status delivery_failed, error_code {failure}",
            f"Bird channel sms: {rng.randint(20, 900)} messages failed with failure code {failure} in the last hour",
            f"Alert: Bird failure rate {rng.randint(2, 9)}.{rng.randint(0, 9)}% | top code {failure} | "
            f"{rng.randint(1, 9)},{rng.randint(100, 999)} messages",
            f"bird: failed to send (code={failure} {name}) retry=3/5",
            f"Bird rejects sends: {name} ({failure})",
            f"Why does Bird say {failure} for this number? It worked yesterday",
            f"Bird delivery errors (code {failure}) jumped to {rng.randint(20, 900)} in 10m",
            f"Is {failure} a Bird thing or ours?",
            f"Bird error {failure} - what now?",
        ]
    )
    return (person(rng, text) if rng.random() < 0.5 else webhook("bird-monitor", text)), [str(failure)]


BIRD: dict[str, tuple[Template, int]] = {
    "bird-alertmanager": (bird_alertmanager, 10),
    "bird-grafana": (bird_grafana, 8),
    "bird-datadog": (bird_datadog, 8),
    "bird-log-json": (bird_log_json, 10),
    "bird-webhook-relay": (bird_webhook_relay, 8),
    "bird-person": (bird_person, 14),
    "bird-person-platform": (bird_person_platform, 8),
    "bird-line-source": (bird_line_source, 6),
    "bird-blocks": (bird_blocks, 6),
    "bird-pagerduty": (bird_pagerduty, 5),
    "bird-opsgenie": (bird_opsgenie, 5),
    "bird-cloudwatch": (bird_cloudwatch, 5),
    "bird-sentry": (bird_sentry, 5),
    "bird-with-traps": (bird_with_traps, 8),
    "bird-channel-bare": (bird_channel_bare, 6),
    "bird-metrics": (bird_metrics, 8),
    "bird-questions": (bird_questions, 10),
    "bird-tables": (bird_tables, 8),
    "bird-plain-words": (bird_plain_words, 14),
}
BIRD_CHANNEL_SHAPES = frozenset({"bird-channel-bare"})


def resolved_bird(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Resolved notifications of Bird alerts: never explained again."""
    failure = code(rng)
    choice = rng.randrange(9)
    if choice == 0:
        title = "[RESOLVED] BirdSendFailures (prod messaging)"
        event = webhook("Alertmanager", "", [attachment(title, f"failure.code {failure}", color="good")])
    elif choice == 1:
        event = app(
            "Grafana", "", attachments=[attachment(f"[RESOLVED] Bird {CODE_NAMES[failure]} rate", "**Resolved**")]
        )
    elif choice == 2:
        title = f"Recovered: [P2] Bird message failures (failure code {failure})"
        event = app("Datadog", title, attachments=[{"fallback": title, "blocks": [section(f"*{title}*")]}])
    elif choice == 3:
        event = app("PagerDuty", f"Resolved: #{big(rng)} Bird failure.code {failure} spike")
    elif choice == 4:
        event = app("Opsgenie", f"Alert closed by Erin: MessageBird {CODE_NAMES[failure]} above threshold")
    elif choice == 5:
        text = f"Bird failure code {failure} back to normal\nState changed from ALARM to OK"
        event = app("AWS Chatbot", "CloudWatch Alarm | bird-failures | eu-west-1", blocks=[section(text)])
    elif choice == 6:
        event = webhook("bird-monitor", f":large_green_circle: *RESOLVED* BirdSendFailures failure.code {failure}")
    elif choice == 7:
        event = app("Opsgenie", f"Opsgenie: Alert #{big(rng)} closed: Bird failure code {failure}")
    else:
        event = app("Datadog", f"Datadog: Recovered: Bird failures ({CODE_NAMES[failure]}) on {svc(rng)}")
    return event, []


def bird_channel_traps(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """Figures in a Bird-only channel are still figures."""
    text = rng.choice(
        [
            f"{code(rng)} errors in the last 5m",
            f"Build #{code(rng)} failed",
            f"queue depth {code(rng)}",
            f"latency {code(rng)} ms on {svc(rng)}",
            f"worker restarted on {ip(rng)}:{code(rng)}",
        ]
    )
    return webhook("alerts", text), []


NON_BIRD_EXTRA: dict[str, tuple[Template, int]] = {
    "bird-resolved": (resolved_bird, 18),
    "bird-channel-figures": (bird_channel_traps, 10),
}
NON_BIRD_CHANNEL_SHAPES = frozenset({"bird-channel-figures"})


# --- writing --------------------------------------------------------------------------------------


def _cases(
    templates: dict[str, tuple[Template, int]], kind: str, seed: int, bird_channel: frozenset[str]
) -> Iterator[Case]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    for shape, (template, count) in templates.items():
        for index in range(count):
            event, expected = template(rng)
            yield {
                "id": f"{shape}-{index + 1:02d}",
                "kind": kind,
                "shape": shape,
                "rule": "bird_channel" if shape in bird_channel else "bird_context",
                "expected": expected,
                "event": event,
            }


def build() -> tuple[list[Case], list[Case]]:
    non_bird = [
        *_cases(NON_BIRD, "non_bird", 7, frozenset()),
        *_cases(NON_BIRD_EXTRA, "non_bird", 8, NON_BIRD_CHANNEL_SHAPES),
    ]
    bird = list(_cases(BIRD, "bird", 11, BIRD_CHANNEL_SHAPES))
    return non_bird, bird


def write(path: Path, cases: list[Case]) -> None:
    path.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases), encoding="utf-8")


def main() -> None:
    non_bird, bird = build()
    write(NON_BIRD_FILE, non_bird)
    write(BIRD_FILE, bird)
    print(f"{len(non_bird)} non-Bird messages -> {NON_BIRD_FILE.name}; {len(bird)} Bird alerts -> {BIRD_FILE.name}")


if __name__ == "__main__":
    main()
