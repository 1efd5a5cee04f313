"""Buttons on catalog answers: Share in channel, and Explain (a listed entry, a code, a "More")."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from catalog import Explainer

from .blocks.failure_builder import ACTION_EXPLAIN, ACTION_MORE, ACTION_SHARE, answer_message, shared_by
from .deps import Spawner
from .payload import dig, logged_failures, text_at


def register(app: AsyncApp, explainer: Explainer, tasks: Spawner) -> None:
    async def share(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        with logged_failures("share"):
            footer = shared_by(text_at(body, "user", "id"))
            reply = answer_message(explainer.explain(text_at(action, "value")), footer=footer)

            async def share_then_delete() -> None:
                # Two requests: Slack documents delete_original as a request of its own. The
                # private copy goes only once the shared one is posted, so a failure loses nothing.
                shared = await respond(**reply, response_type="in_channel", replace_original=False)
                if shared.status_code == 200:
                    await respond(delete_original=True)

            tasks.spawn(share_then_delete(), name="share-answer")

    async def explain(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        """From a list or a "did you mean": the full answer takes the private list's place."""
        await ack()
        with logged_failures("explain"):
            reply = answer_message(explainer.explain(text_at(action, "value")))
            if dig(body, "container", "is_ephemeral") is True:
                tasks.spawn(respond(**reply, replace_original=True), name="explain-answer")
            else:
                tasks.spawn(respond(**reply, response_type="ephemeral", replace_original=False), name="explain-answer")

    async def more(ack: AsyncAck, action: dict[str, Any], respond: AsyncRespond) -> None:
        """From a message diagnosis or an alert reply: the full answer, to the clicker alone."""
        await ack()
        with logged_failures("explain more"):
            reply = answer_message(explainer.explain(text_at(action, "value")))
            tasks.spawn(respond(**reply, response_type="ephemeral", replace_original=False), name="explain-more")

    app.action(ACTION_SHARE)(share)
    app.action(ACTION_EXPLAIN)(explain)
    app.action(ACTION_MORE)(more)
