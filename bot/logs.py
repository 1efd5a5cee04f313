"""Structured logs: one JSON object per line, with secrets masked as a last line of defence."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_SECRET = re.compile(r"\b(xox[abposre]-|xapp-)[A-Za-z0-9-]+|(AccessKey\s+)\S+", re.IGNORECASE)
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


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


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Bolt and slack_sdk log request details at DEBUG; keep them at WARNING unless asked.
    for noisy in ("slack_bolt", "slack_sdk", "aiohttp.access"):
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
