"""Structured logs: one JSON object per line, with secrets masked as a last line of defence."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_SECRET = re.compile(r"\b(xox[abposre]-|xapp-)[A-Za-z0-9-]+|(AccessKey\s+)\S+", re.IGNORECASE)
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_DIGITS = re.compile(r"\d+")
LIBRARY_LOGGERS = ("slack_sdk", "slack_bolt", "aiohttp", "asyncio")
REPEAT_INTERVAL = 60.0
MAX_LIBRARY_MESSAGE = 300


def mask_secrets(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return mask_secrets(json.dumps(entry, default=str, ensure_ascii=False))


class QuietLibraries(logging.Filter):
    """Library records (slack_sdk, slack_bolt, aiohttp) as short lines: a traceback becomes its
    last line, and the same message again within ``interval`` seconds is dropped. slack_sdk's
    Socket Mode client otherwise logs a multi-kilobyte traceback every few seconds while Slack
    is out of reach. DEBUG level keeps everything, for whoever asked for it."""

    def __init__(
        self,
        prefixes: tuple[str, ...] = LIBRARY_LOGGERS,
        *,
        interval: float = REPEAT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._prefixes = prefixes
        self._interval = interval
        self._clock = clock
        self._last_seen: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._prefixes) or logging.getLogger().level <= logging.DEBUG:
            return True
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.error_type = f"{type(error).__name__}: {str(error)[:200]}"
            record.exc_info = None
            record.exc_text = None
        message = record.getMessage()
        if len(message) > MAX_LIBRARY_MESSAGE:
            record.msg, record.args = message[:MAX_LIBRARY_MESSAGE] + "…", None
        key = (record.name, _DIGITS.sub("#", message[:MAX_LIBRARY_MESSAGE]))
        now = self._clock()
        last = self._last_seen.get(key)
        if last is not None and now - last < self._interval:
            return False
        if len(self._last_seen) > 1_000:
            self._last_seen.clear()
        self._last_seen[key] = now
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(QuietLibraries())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Bolt and slack_sdk log request details at DEBUG; keep them at WARNING unless asked.
    for noisy in ("slack_bolt", "slack_sdk", "aiohttp.access", "aiohttp.client", "aiohttp.internal"):
        logging.getLogger(noisy).setLevel(level if level == "DEBUG" else "WARNING")


def describe_slack_request(body: dict[str, Any]) -> str:
    """What a Slack request was, for the log line: a command, an event type, an action."""
    if command := body.get("command"):
        return f"command {command}"
    event = body.get("event")
    if isinstance(event, dict):
        subtype = event.get("subtype")
        return f"event {event.get('type')}" + (f"/{subtype}" if subtype else "")
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        return f"action {actions[0].get('action_id')}"
    return str(body.get("type") or "unknown")
