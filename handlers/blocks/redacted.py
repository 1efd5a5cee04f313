"""A last pass over a built reply: every text a person can read goes through a redaction function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Keys whose strings people read; values, ids and URLs travel back to birdwatch and stay as built.
_READABLE = frozenset({"text", "alt_text", "title"})


def redact_texts(payload: dict[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``payload`` (a message or a block) with every readable string passed through ``redact``."""
    redacted: dict[str, Any] = _walk(payload, redact)
    return redacted


def _walk(node: Any, redact: Callable[[str], str], key: str = "") -> Any:
    if isinstance(node, str):
        return redact(node) if key in _READABLE else node
    if isinstance(node, dict):
        return {k: _walk(v, redact, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(item, redact, key if key == "fields" else "") for item in node]
    return node
