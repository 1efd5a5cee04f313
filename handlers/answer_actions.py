"""Buttons on catalog answers: Share in channel, and Explain (a listed entry, a code, a "More")."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from catalog import Explainer

from .blocks.failure_builder import ACTION_EXPLAIN, ACTION_SHARE, answer_message
from .deps import Spawner


def register(app: AsyncApp, explainer: Explainer, tasks: Spawner) -> None:
    async def share(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply = answer_message(explainer.explain(action.get("value", "")), shared_by=body["user"]["id"])
        # One response_url call posts the visible copy and removes the ephemeral original.
        tasks.spawn(respond(**reply, response_type="in_channel", delete_original=True), name="share-answer")

    async def explain(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        reply = answer_message(explainer.explain(action.get("value", "")))
        if body.get("container", {}).get("is_ephemeral"):
            work = respond(**reply, replace_original=True)
        else:
            # Clicked on a visible message (e.g. an alert-thread reply): answer the clicker alone.
            work = respond(**reply, response_type="ephemeral", replace_original=False)
        tasks.spawn(work, name="explain-answer")

    app.action(ACTION_SHARE)(share)
    app.action(ACTION_EXPLAIN)(explain)
