"""Library log records stay short: no tracebacks, no repeats while Slack is out of reach."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import JsonFormatter, QuietLibraries


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, Clock]]:
    stream, clock = io.StringIO(), Clock()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(QuietLibraries(clock=clock))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    yield stream, clock
    root.handlers[:], level = saved
    root.setLevel(level)


def _reconnect_failure(session: int) -> None:
    try:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)")
    except OSError as error:
        logging.getLogger("slack_sdk.socket_mode.aiohttp").exception(
            f"Failed to connect (error: {error}); Retrying... (session s_{session})"
        )


def test_a_library_traceback_becomes_one_short_line(captured: tuple[io.StringIO, Clock]) -> None:
    stream, _ = captured
    _reconnect_failure(1)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert "error" not in entry  # no traceback
    assert entry["error_type"].startswith("ConnectionRefusedError")
    assert len(line) < 600


def test_the_same_failure_is_not_logged_again_within_a_minute(captured: tuple[io.StringIO, Clock]) -> None:
    stream, clock = captured
    for attempt in range(12):  # a retry every 5 seconds
        _reconnect_failure(attempt)
        clock.now += 5
    assert len(stream.getvalue().splitlines()) == 1
    clock.now += 60
    _reconnect_failure(99)
    assert len(stream.getvalue().splitlines()) == 2


def test_birdwatch_records_keep_their_tracebacks(captured: tuple[io.StringIO, Clock]) -> None:
    stream, _ = captured
    try:
        raise ValueError("ours")
    except ValueError:
        logging.getLogger("birdwatch.tasks").exception("background task failed")
        logging.getLogger("birdwatch.tasks").exception("background task failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert "Traceback" in json.loads(lines[0])["error"]
