"""``/failure``: explain a failure from the catalog, answered inside the acknowledgement itself."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from catalog import Explainer

from .blocks.failure_builder import answer_message


def register(app: AsyncApp, explainer: Explainer) -> None:
    async def explain_failure(ack: AsyncAck, command: dict[str, Any]) -> None:
        # The catalog answers in microseconds, so the reply rides on the ack: no second round trip.
        await ack(**answer_message(explainer.explain(command.get("text") or "")))

    app.command("/failure")(explain_failure)
