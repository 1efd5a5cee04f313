"""``birdwatch serve`` as a user runs it: settings errors, health check, logs, clean SIGTERM shutdown."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import load_settings
from tests.fakes.fake_slack import FakeSlack
from tests.ports import free_port
from tests.slack_requests import command_body, signed_headers

BOT_TOKEN = "xoxb-1234-secret-token-value"
SIGNING_SECRET = "signing-secret-value"


def test_missing_and_malformed_settings_are_all_named_without_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-bot-token-hush")
    monkeypatch.setenv("PORT", "99999")
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind-hush")
    monkeypatch.setenv("BIRD_REQUESTS_PER_SECOND", "50")
    monkeypatch.setenv("BIRDWATCH_ENRICH_CHANNELS", "#oncall")

    assert main(["serve"]) == 2

    error = capsys.readouterr().err
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "PORT",
        "LOG_LEVEL",
        "SLACK_APP_TOKEN",
        "BIRD_REQUESTS_PER_SECOND",
        "BIRDWATCH_ENRICH_CHANNELS",
    ):
        assert name in error
    assert "hush" not in error
    assert "Traceback" not in error


def test_settings_come_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"SLACK_BOT_TOKEN={BOT_TOKEN}\nSLACK_SIGNING_SECRET={SIGNING_SECRET}\nlog_level=debug\nPORT=4000\n"
    )
    settings = load_settings()
    assert settings.port == 4000
    assert settings.log_level == "DEBUG"
    assert not settings.socket_mode


@contextmanager
def fake_slack_in_thread() -> Iterator[FakeSlack]:
    """The fake Slack on its own loop, for a bot running in another process."""
    loop = asyncio.new_event_loop()
    slack = FakeSlack()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(slack.__aenter__(), loop).result(10)
    try:
        yield slack
    finally:
        asyncio.run_coroutine_threadsafe(slack.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_serve_answers_health_and_slack_logs_without_secrets_and_stops_on_sigterm(tmp_path: Path) -> None:
    with fake_slack_in_thread() as slack:
        output, returncode = _serve_one_command(tmp_path, slack)
    assert returncode == 0
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("message") == "request" and line.get("path") == "/slack/events"]
    assert requests
    assert requests[0]["status"] == 200
    assert requests[0]["slack"] == "command /failure"
    assert any(line.get("message") == "shutting down" for line in lines)
    assert BOT_TOKEN not in output
    assert SIGNING_SECRET not in output


def _serve_one_command(tmp_path: Path, slack: FakeSlack) -> tuple[str, int]:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SKIP_SLACK_SDK_WARNING": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_health(port)
        body = command_body("/failure", "15011", response_url=slack.response_url())
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events",
            data=body.encode(),
            headers=signed_headers(body, secret=SIGNING_SECRET),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert "INVALID_SPAM" in response.read().decode()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    return output, process.returncode


def _wait_for_health(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                assert json.loads(response.read()) == {"ok": True}
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _serve_env(port: int, **overrides: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SKIP_SLACK_SDK_WARNING": "1",
        **overrides,
    }


def _start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def _stop_within(process: subprocess.Popen[str], sig: signal.Signals, seconds: float) -> tuple[str, str, float]:
    started = time.monotonic()
    process.send_signal(sig)
    try:
        output, errors = process.communicate(timeout=seconds)
    finally:
        if process.poll() is None:
            process.kill()
    return output, errors, time.monotonic() - started


def test_a_port_in_use_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        unreachable = f"http://127.0.0.1:{free_port()}/api/"
        process = _start(tmp_path, _serve_env(port, SLACK_API_URL=unreachable))
        output, errors = process.communicate(timeout=20)
    assert process.returncode == 2
    assert errors.strip() == f"birdwatch cannot listen on port {port}: " + (
        "the port is already in use (another birdwatch?); stop that process or set PORT"
    )
    assert "Traceback" not in output + errors


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked"])
def test_a_rejected_bot_token_stops_the_start_with_one_line(tmp_path: Path, error: str) -> None:
    with fake_slack_in_thread() as slack:
        slack.fail_next("auth.test", status=200, error=error, retry_after=None, times=5)
        process = _start(tmp_path, _serve_env(free_port(), SLACK_API_URL=slack.api_url))
        try:
            output, errors = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 2
    assert errors.strip() == f"Slack rejected SLACK_BOT_TOKEN ({error}); check the token in the settings"
    assert "Traceback" not in output + errors
    assert BOT_TOKEN not in output + errors


def test_a_rejected_app_token_stops_the_socket_mode_start(tmp_path: Path) -> None:
    with fake_slack_in_thread() as slack:
        slack.fail_next("apps.connections.open", status=200, error="invalid_auth", retry_after=None, times=5)
        env = _serve_env(free_port(), SLACK_API_URL=slack.api_url, SLACK_APP_TOKEN="xapp-1-secret")
        process = _start(tmp_path, env)
        try:
            output, errors = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 2
    assert errors.strip() == "Slack rejected SLACK_APP_TOKEN (invalid_auth); check the token in the settings"
    assert "Traceback" not in output + errors


def test_unreachable_slack_over_http_serves_answers_but_is_not_ready(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, _serve_env(port, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/"))
    try:
        _wait_for_health(port)
        assert _status(f"http://127.0.0.1:{port}/readyz") == 503
        body = command_body("/failure", "15011", response_url="http://127.0.0.1:9/response")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events",
            data=body.encode(),
            headers=signed_headers(body, secret=SIGNING_SECRET),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert "INVALID_SPAM" in response.read().decode()
    finally:
        output, errors, _ = _stop_within(process, signal.SIGTERM, 10)
    assert process.returncode == 0
    assert "Traceback" not in output + errors


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_socket_mode_without_slack_stops_within_5_seconds_and_logs_one_line(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    unreachable = f"http://127.0.0.1:{free_port()}/api/"
    process = _start(tmp_path, _serve_env(port, SLACK_API_URL=unreachable, SLACK_APP_TOKEN="xapp-1-secret"))
    try:
        _wait_for_health(port)
        assert _status(f"http://127.0.0.1:{port}/readyz") == 503
        time.sleep(6)  # past the first retry (5 s)
    finally:
        output, errors, took = _stop_within(process, sig, 10)
    assert took < 5
    assert process.returncode == 0
    assert "Traceback" not in output + errors
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    about_slack = [line for line in lines if "slack" in line["logger"].lower() or "Slack" in line["message"]]
    assert 1 <= len(about_slack) <= 3, about_slack
    assert all(len(json.dumps(line)) < 1_000 for line in lines)


def test_socket_mode_is_ready_once_connected(tmp_path: Path) -> None:
    port = free_port()
    with fake_slack_in_thread() as slack:
        env = _serve_env(port, SLACK_API_URL=slack.api_url, SLACK_APP_TOKEN="xapp-1-secret")
        process = _start(tmp_path, env)
        try:
            _wait_for_health(port)
            deadline = time.monotonic() + 10
            while _status(f"http://127.0.0.1:{port}/readyz") != 200:
                assert time.monotonic() < deadline, "never ready"
                time.sleep(0.1)
        finally:
            _stop_within(process, signal.SIGTERM, 10)
    assert process.returncode == 0
