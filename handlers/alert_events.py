"""Alert-thread enrichment: one catch-all ``message`` listener feeding an internal dispatcher.

Every message event is acknowledged (Slack never retries for want of a listener); the dispatcher
then decides, cheaply and in memory, whether the message is an alert worth one thread reply.
Exactly once: an event id is handled once, a (channel, ts, code) is replied to once (covering
redeliveries with new event ids and edits that repeat codes), and a code already explained in the
channel within the repeat window gets no new reply. Mutes silence a code in a channel.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from catalog.scanner import Hit

from .alert_text import alert_text, is_integration_post, is_thread_reply, message_content
from .blocks.enrichment_builder import ACTION_MUTE, muted_note, thread_reply
from .deps import Poster, Spawner, StateStore, WorkspaceDirectory
from .thread_explanations import ThreadExplanations

logger = logging.getLogger("birdwatch.enrich")

EVENT_TTL = 3600.0  # Slack retries within minutes; an hour covers every redelivery.
SEEN_TTL = 24 * 3600.0  # edits to an alert keep arriving for as long as it is firing.


@dataclass
class AlertEnricher:
    explanations: ThreadExplanations
    workspaces: WorkspaceDirectory
    store: StateStore
    poster: Poster
    tasks: Spawner
    repeat_window: float
    clock: Callable[[], float] = field(default=time.time)

    async def on_message(self, event: Mapping[str, Any], event_id: str | None, context: AsyncBoltContext) -> None:
        if event_id and not await self.store.claim(f"event:{event_id}", EVENT_TTL):
            return
        content = message_content(event)
        channel = event.get("channel")
        if content is None or not isinstance(channel, str) or not channel:
            return
        ts = str(content.get("ts") or event.get("ts") or "")
        if not ts or not self._worth_reading(content, channel, context):
            return  # without a ts there is no thread to reply in
        hits = self.explanations.scan(alert_text(content), from_integration=is_integration_post(content))
        new = [hit for hit in hits if await self._first_time(channel, ts, hit)]
        if not new:
            return
        logger.info("enriching alert", extra={"channel": channel, "ts": ts, "hits": [h.key for h in new]})
        self.tasks.spawn(self._reply(channel, ts, new), name="enrich-alert")

    def _worth_reading(self, content: Mapping[str, Any], channel: str, context: AsyncBoltContext) -> bool:
        if is_thread_reply(content) or not self.workspaces.enriches(channel):
            return False
        own_ids = {context.bot_id, context.bot_user_id} - {None}
        senders = (content.get("bot_id"), content.get("user"))
        if any(isinstance(sender, str) and sender in own_ids for sender in senders):
            return False  # its own replies contain the very codes it reacts to
        # A message that mentions birdwatch is answered by the app_mention listener instead.
        return not (context.bot_user_id and f"<@{context.bot_user_id}>" in str(content.get("text") or ""))

    async def _first_time(self, channel: str, ts: str, hit: Hit) -> bool:
        if await self.store.get_mute(channel, hit.key) is not None:
            return False
        if not await self.store.claim(f"seen:{channel}:{ts}:{hit.key}", SEEN_TTL):
            return False
        return await self.store.claim(f"repeat:{channel}:{hit.key}", self.repeat_window)

    async def _reply(self, channel: str, ts: str, hits: list[Hit]) -> None:
        items = await self.explanations.items(hits, channel)
        self.poster.post(channel=channel, thread_ts=ts, unfurl_links=False, unfurl_media=False, **thread_reply(items))

    async def mute(self, channel: str, key: str, hours: int, user: str) -> float:
        until = self.clock() + hours * 3600
        await self.store.set_mute(channel, key, until, user)
        return until


_MUTE_VALUE = re.compile(r"^(?P<key>[\w:.-]{1,100})\|(?P<hours>1|4|24)$")


def register(app: AsyncApp, enricher: AlertEnricher) -> None:
    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        try:
            await enricher.on_message(event, body.get("event_id"), context)
        except Exception:
            # An alert that cannot be read must still be acknowledged, or Slack redelivers it.
            logger.exception("could not read a message event")

    async def on_mute(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        match = _MUTE_VALUE.match(str(action.get("selected_option", {}).get("value", "")))
        channel = body.get("channel", {}).get("id")
        user = body.get("user", {}).get("id", "")
        if match is None or not channel:
            return
        until = await enricher.mute(channel, match["key"], int(match["hours"]), user)
        blocks = muted_note(body.get("message", {}).get("blocks", []), match["key"], user, until)
        text = body.get("message", {}).get("text") or "Bird failure explained"
        enricher.tasks.spawn(respond(blocks=blocks, text=text, replace_original=True), name="mute-reply")

    app.event("message")(on_message)
    app.action(re.compile(f"^{ACTION_MUTE}:"))(on_mute)
