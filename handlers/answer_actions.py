"""Buttons on catalog answers: Share in channel, and Explain (a listed entry, a code, a "More")."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from catalog import Explainer

from .blocks.failure_builder import ACTION_EXPLAIN, ACTION_MORE, ACTION_SHARE, answer_message, shared_by
from .deps import Spawner


def register(app: AsyncApp, explainer: Explainer, tasks: Spawner) -> None:
    async def share(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply = answer_message(explainer.explain(action.get("value", "")), footer=shared_by(body["user"]["id"]))
        # One response_url call posts the visible copy and removes the ephemeral original.
        tasks.spawn(respond(**reply, response_type="in_channel", delete_original=True), name="share-answer")

    async def explain(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        """From a list or a "did you mean": the full answer takes the private list's place."""
        await ack()
        reply = answer_message(explainer.explain(action.get("value", "")))
        if body.get("container", {}).get("is_ephemeral"):
            tasks.spawn(respond(**reply, replace_original=True), name="explain-answer")
        else:
            tasks.spawn(respond(**reply, response_type="ephemeral", replace_original=False), name="explain-answer")

    async def more(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        """From a message diagnosis or an alert reply: the full answer, to the clicker alone."""
        await ack()
        reply = answer_message(explainer.explain(action.get("value", "")))
        tasks.spawn(respond(**reply, response_type="ephemeral", replace_original=False), name="explain-more")

    app.action(ACTION_SHARE)(share)
    app.action(ACTION_EXPLAIN)(explain)
    app.action(ACTION_MORE)(more)
