"""Safe reads from Slack payloads: a field of the wrong type reads as absent, never as a crash."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger("birdwatch.handlers")


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]…``, or None where a step is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text_at(data: Any, *keys: str) -> str:
    """The string at that path, or "" when it is missing or not a string."""
    value = dig(data, *keys)
    return value if isinstance(value, str) else ""


@contextmanager
def logged_failures(what: str) -> Iterator[None]:
    """After the ack, a listener's failure is logged rather than turned into an HTTP 500 that
    Slack would show as an error or redeliver."""
    try:
        yield
    except Exception:
        logger.exception("%s failed", what)
