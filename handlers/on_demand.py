"""Explanations on request where slash commands cannot go: the **Explain failure** message shortcut
and ``@birdwatch …`` mentions (both work inside threads)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from catalog import Explainer
from catalog.ids import canonical_uuid
from catalog.message import BirdError
from catalog.scanner import Hit

from .alert_text import alert_text, decode_markup
from .blocks.enrichment_builder import ACTION_SHARE_ITEMS, MAX_ON_DEMAND_ITEMS, thread_reply
from .blocks.failure_builder import answer_message, asked_by, shared_by
from .blocks.message_builder import lookup_error, message_reply, refusal
from .deps import EVENT_TTL, Claim, Poster, Spawner, StateStore
from .message_args import MessageQuery, parse_message_query
from .message_command import UNEXPECTED, MessageLookups
from .payload import dig, text_at
from .thread_explanations import Requester, ThreadExplanations

logger = logging.getLogger("birdwatch.on_demand")
SHORTCUT_CALLBACK = "explain_failure"
NOTHING_FOUND = "No Bird failure codes, platform codes or message ids found in that message. Try `/failure <code>`."
NOBODY = "Messages are looked up only for a person allowed to query the workspace, or a trusted integration."
_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class OnDemand:
    explainer: Explainer
    explanations: ThreadExplanations
    lookups: MessageLookups
    poster: Poster
    store: StateStore
    tasks: Spawner

    async def shortcut_reply(self, message: dict[str, Any], channel: str, user: str) -> dict[str, Any]:
        hits = self.explanations.scan(alert_text(message), from_integration=True, limit=MAX_ON_DEMAND_ITEMS)
        if not hits:
            return refusal(NOTHING_FOUND)
        items = await self.explanations.items(hits, channel, Requester(user=user or None))
        thread = text_at(message, "thread_ts") or text_at(message, "ts")
        share = {"h": [[h.kind, h.key, h.query] for h in hits], "t": thread}
        return thread_reply(items, automatic=False, shareable=share)

    async def shared_reply(self, value: str, channel: str, user: str) -> tuple[dict[str, Any], str | None]:
        hits, thread = _hits_from_value(value)
        items = await self.explanations.items(hits[:MAX_ON_DEMAND_ITEMS], channel, Requester(user=user or None))
        return thread_reply(items, automatic=False, footer=shared_by(user, via="Explain failure")), thread

    async def mention_reply(self, text: str, channel: str, requester: Requester) -> dict[str, Any]:
        words = decode_markup(_MENTION.sub(" ", text)).strip()
        query = parse_message_query(words)
        user = requester.user or ""
        if isinstance(query, MessageQuery):
            return await self._message(query, channel, requester)
        hits = self.explanations.scan(words, from_integration=True, limit=MAX_ON_DEMAND_ITEMS)
        if len(hits) > 1 or (hits and hits[0].kind == "message_id"):
            items = await self.explanations.items(hits, channel, requester)
            return thread_reply(items, automatic=False, footer=asked_by(user))
        return answer_message(self.explainer.explain(hits[0].query if hits else words), footer=asked_by(user))

    async def _message(self, query: MessageQuery, channel: str, requester: Requester) -> dict[str, Any]:
        target = self.lookups.target(query, channel, requester.user or "")
        if isinstance(target, str):
            return refusal(target)
        workspace, ref = target
        if not self.explanations.may_query(workspace, channel, requester):
            return refusal(NOBODY)
        try:
            found, diagnosis = await self.lookups.fetch(workspace, ref)
        except BirdError as error:
            # Posted in the thread: its Retry button must answer as on a message the channel sees.
            return lookup_error(error, replace(ref, shown=True), workspace.label)
        # Visible in the thread, so always the redacted copy.
        footer = asked_by(requester.user or "")
        return message_reply(found, diagnosis, ref, workspace_label=workspace.label, footer=footer)


async def or_apology(reply: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The reply, or an apology if building it crashed: someone asked, so silence is not an answer."""
    try:
        return await reply
    except Exception:
        logger.exception("building an explanation failed")
        return refusal(UNEXPECTED)


def _hits_from_value(value: str) -> tuple[list[Hit], str | None]:
    try:
        data = json.loads(value)
        hits = [
            Hit(kind=kind, key=str(key), query=str(query))
            for kind, key, query in data["h"]
            if kind in ("code", "platform_code") or (kind == "message_id" and canonical_uuid(key) == key)
        ]
        thread = data.get("t")
    except (ValueError, KeyError, TypeError, RecursionError):
        # The value comes back from the client: anything but our own shape is ignored.
        return [], None
    return hits, thread if isinstance(thread, str) else None


def register(app: AsyncApp, on_demand: OnDemand) -> None:
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        channel, user = text_at(body, "channel", "id"), text_at(body, "user", "id")
        message = dig(body, "message")

        async def work() -> None:
            reply = await or_apology(
                on_demand.shortcut_reply(message if isinstance(message, dict) else {}, channel, user)
            )
            await respond(**reply, response_type="ephemeral", replace_original=False)

        on_demand.tasks.spawn(work(), name="explain-shortcut")

    async def on_share(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        channel, user = text_at(body, "channel", "id"), text_at(body, "user", "id")

        async def work() -> None:
            try:
                reply, thread = await on_demand.shared_reply(text_at(action, "value"), channel, user)
            except Exception:
                logger.exception("sharing an explanation failed")
                await respond(**refusal(UNEXPECTED), response_type="ephemeral", replace_original=False)
                return
            # Two requests: Slack documents delete_original as a request of its own. The private
            # copy goes only once the shared one is posted, so a failure loses nothing.
            shared = await respond(**reply, thread_ts=thread, response_type="in_channel", replace_original=False)
            if shared.status_code == 200:
                await respond(delete_original=True)

        on_demand.tasks.spawn(work(), name="share-items")

    async def on_mention(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any]) -> None:
        await ack()
        event_id = text_at(body, "event_id")
        channel, ts = text_at(event, "channel"), text_at(event, "ts")
        thread = text_at(event, "thread_ts") or ts
        if not channel or not thread:
            return
        # Slack may deliver one mention again under a new event id: the message (channel, ts) is
        # answered once too. The last claim is made only when the others were.
        claims = [Claim(f"event:{event_id}", EVENT_TTL)] if event_id else []
        if ts:
            claims.append(Claim(f"mention:{channel}:{ts}", EVENT_TTL, after=0 if claims else None))
        if claims and not (await on_demand.store.claim_each(claims))[-1]:
            return
        requester = Requester.of_post(event)

        async def work() -> None:
            reply = await or_apology(on_demand.mention_reply(text_at(event, "text"), channel, requester))
            on_demand.poster.post(channel=channel, thread_ts=thread, **reply)

        on_demand.tasks.spawn(work(), name="answer-mention")

    app.shortcut(SHORTCUT_CALLBACK)(on_shortcut)
    app.action(ACTION_SHARE_ITEMS)(on_share)
    app.event("app_mention")(on_mention)
