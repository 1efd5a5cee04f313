"""A signed interaction replayed within Slack's five-minute signature window does nothing twice.

Slack's signature proves who sent a request, not that it is new: anyone who sees a signed button
click, shortcut or menu choice can send it again for five minutes. Every interaction claims a key
from its identity in the StateStore before any listener runs; a request that finds it claimed is
acknowledged and goes no further, so posts, mutes and lookups happen once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from .deps import StateStore
from .payload import text_at

logger = logging.getLogger("birdwatch.replays")

# Longer than the window in which Slack's signature check accepts a request, with room for clock skew.
REPLAY_TTL = 15 * 60.0
INTERACTIONS = frozenset({"block_actions", "message_action", "shortcut", "view_submission", "interactive_message"})


def interaction_key(body: dict[str, Any]) -> str | None:
    """The identity of an interaction (its ``trigger_id``, else the action's time, id and user), or
    None for requests that are not interactions."""
    if text_at(body, "type") not in INTERACTIONS:
        return None
    trigger = text_at(body, "trigger_id")
    if trigger:
        return f"interaction:{trigger}"
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions else {}
    action_ts = text_at(action, "action_ts") or text_at(body, "action_ts")
    parts = (action_ts, text_at(action, "action_id") or text_at(body, "callback_id"), text_at(body, "user", "id"))
    return "interaction:" + ":".join(parts)


def register(app: AsyncApp, store: StateStore) -> None:
    async def once(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = interaction_key(body) if isinstance(body, dict) else None
        if key is not None and not await store.claim(key, REPLAY_TTL):
            logger.warning("replayed interaction ignored", extra={"type": text_at(body, "type")})
            return BoltResponse(status=200, body="")
        await next()
        return None

    app.middleware(once)
