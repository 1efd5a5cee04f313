"""Alert-thread enrichment: one catch-all ``message`` listener feeding an internal dispatcher.

Every message event is acknowledged (Slack never retries for want of a listener); the dispatcher
then decides, cheaply and in memory, whether the message is an alert worth one thread reply: only
what is about Bird counts (``catalog.bird_context``), and a resolved notification never does.
Exactly once: an event id is handled once, a (channel, ts, code) is replied to once (covering
redeliveries with new event ids and edits that repeat codes), and the same alert firing again
in the channel with the same code within the repeat window gets no new reply. Mutes silence a
code in a channel.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from catalog.scanner import Hit, Rule

from .alert_text import alert_text, is_integration_post, is_resolved_notification, is_thread_reply, message_content
from .blocks.enrichment_builder import ACTION_MUTE, MAX_ITEMS, MUTE_HOURS, MessageItem, mute_notice, thread_reply
from .deps import (
    EVENT_TTL,
    Claim,
    EnrichmentDecision,
    EnrichmentOutcomes,
    Poster,
    Spawner,
    StateStore,
    WorkspaceDirectory,
)
from .payload import logged_failures, text_at
from .thread_explanations import Requester, ThreadExplanations

logger = logging.getLogger("birdwatch.enrich")

SEEN_TTL = 24 * 3600.0  # edits to an alert keep arriving for as long as it is firing.
HitVerdict = Literal["explained", "muted", "duplicate"]


@dataclass
class AlertEnricher:
    explanations: ThreadExplanations
    workspaces: WorkspaceDirectory
    store: StateStore
    poster: Poster
    tasks: Spawner
    repeat_window_seconds: float
    clock: Callable[[], float] = field(default=time.time)
    outcomes: EnrichmentOutcomes | None = None  # counts each alert's decision (bot.metrics)

    async def on_message(self, event: Mapping[str, Any], event_id: str | None, context: AsyncBoltContext) -> None:
        content = message_content(event)
        channel = text_at(event, "channel")
        ts = alert_ts(event, content)
        # The cheap, pure checks come first, so messages birdwatch ignores never touch the store.
        if content is None or not channel or not ts or not self._worth_reading(content, channel, context):
            return
        text = alert_text(content)
        found = self._hits(content, text, channel, is_integration_post(content))
        # A lookup the post may not trigger is dropped before any key is claimed, so a later
        # post by someone who may still gets its explanation.
        requester = Requester.of_post(content)
        hits = self.explanations.permitted(found, channel, requester)
        if not hits:
            self._decided("refused" if found else "nothing_found")
            return
        alert = alert_identity(text)
        verdicts, claimed = await self._verdicts(channel, ts, alert, hits, event_id)
        try:
            new = [hit for hit, verdict in zip(hits, verdicts, strict=True) if verdict == "explained"]
            if not new:
                self._decided("muted" if all(verdict == "muted" for verdict in verdicts) else "duplicate")
                return
            self._decided("explained")
            logger.info("enriching alert", extra={"channel": channel, "ts": ts, "hits": [h.key for h in new]})
            self.tasks.spawn(self._reply(channel, ts, new, requester, claimed), name="enrich-alert")
        except BaseException:
            await self._release(claimed)
            raise

    def _hits(self, content: Mapping[str, Any], text: str, channel: str, from_integration: bool) -> list[Hit]:
        only_bird = self.workspaces.only_bird_alerts(channel)
        return hits_to_explain(
            self.explanations.scan, content, text, from_integration=from_integration, only_bird_alerts=only_bird
        )

    def _worth_reading(self, content: Mapping[str, Any], channel: str, context: AsyncBoltContext) -> bool:
        if is_thread_reply(content) or not self.workspaces.enriches(channel):
            return False
        own_ids = {context.bot_id, context.bot_user_id} - {None}
        senders = (content.get("bot_id"), content.get("user"))
        if any(isinstance(sender, str) and sender in own_ids for sender in senders):
            return False  # its own replies contain the very codes it reacts to
        # A message that mentions birdwatch is answered by the app_mention listener instead.
        return not (context.bot_user_id and f"<@{context.bot_user_id}>" in str(content.get("text") or ""))

    async def _verdicts(
        self, channel: str, ts: str, alert: str, hits: list[Hit], event_id: str | None
    ) -> tuple[list[HitVerdict], list[str]]:
        """Each hit's verdict, and the keys claimed for it, in one ``claim_each`` (one round trip on
        Redis; mutes are read from memory). A hit is explained when its event is new, it is not muted,
        this message was not read before (a redelivery, a duplicate or an edit: ``seen``) and the same
        alert did not fire in the channel within the repeat window (``repeat``)."""
        muted = [await self.store.get_mute(channel, hit.key) is not None for hit in hits]
        claims = [Claim(f"event:{event_id}", EVENT_TTL)] if event_id else []
        gate = 0 if event_id else None
        repeat_claim: dict[int, int] = {}  # hit index -> index of its repeat claim
        for index, hit in enumerate(hits):
            if not muted[index]:
                claims.append(Claim(f"seen:{channel}:{ts}:{hit.key}", SEEN_TTL, after=gate))
                repeat = f"repeat:{channel}:{alert}:{hit.key}"
                claims.append(Claim(repeat, self.repeat_window_seconds, after=len(claims) - 1))
                repeat_claim[index] = len(claims) - 1
        made = await self.store.claim_each(claims) if claims else []
        if event_id and not made[0]:
            return ["duplicate"] * len(hits), []  # a redelivery of an event handled already
        verdicts: list[HitVerdict] = [
            "muted" if index not in repeat_claim else "explained" if made[repeat_claim[index]] else "duplicate"
            for index in range(len(hits))
        ]
        return verdicts, [claim.key for claim, was_made in zip(claims, made, strict=True) if was_made]

    def _decided(self, decision: EnrichmentDecision) -> None:
        if self.outcomes is not None:
            self.outcomes.enrichment(decision)

    async def _reply(self, channel: str, ts: str, hits: list[Hit], requester: Requester, claimed: list[str]) -> None:
        try:
            items = await self.explanations.items(hits[:MAX_ITEMS], channel, requester)
            # Nobody asked for this reply, so a refused lookup is left out rather than announced.
            items = [item for item in items if not (isinstance(item, MessageItem) and item.refused)]
            if items:
                reply = thread_reply(items, hidden=max(0, len(hits) - MAX_ITEMS))
                self.poster.post(channel=channel, thread_ts=ts, **reply)
        except BaseException:
            # Not handled after all: a redelivery of this event may try again.
            await self._release(claimed)
            raise

    async def _release(self, claimed: list[str]) -> None:
        for key in claimed:
            try:
                await self.store.release(key)
            except Exception:
                logger.exception("releasing a claim failed", extra={"key": key})

    async def mute(self, channel: str, key: str, hours: int, user: str) -> float:
        until = self.clock() + hours * 3600
        await self.store.set_mute(channel, key, until, user)
        return until


def alert_ts(event: Mapping[str, Any], content: Mapping[str, Any] | None) -> str:
    """The ts of the alert whose thread a reply goes in, or "" when the event does not say.

    An edit (``message_changed``) carries the alert's ts in ``message.ts`` and, failing that, in
    ``previous_message.ts``; the event's own ts is the edit's, which no thread has.
    """
    if content is None:
        return ""
    if text_at(event, "subtype") == "message_changed":
        return text_at(content, "ts") or text_at(event, "previous_message", "ts")
    return text_at(content, "ts") or text_at(event, "ts")


class Scanner(Protocol):
    """``ThreadExplanations.scan``, or ``catalog.scanner.scan`` with its catalog bound."""

    def __call__(self, text: str, *, from_integration: bool, rule: Rule) -> list[Hit]: ...


def hits_to_explain(
    scan: Scanner, content: Mapping[str, Any], text: str, *, from_integration: bool, only_bird_alerts: bool
) -> list[Hit]:
    """What an alert nobody asked about gets explained: nothing in a resolved notification; elsewhere
    what the scanner's unasked rule finds in ``text`` (``content`` flattened), the looser rule in a
    channel declared to carry only Bird alerts."""
    if is_resolved_notification(content):
        return []
    rule: Rule = "bird_channel" if only_bird_alerts else "bird_context"
    return scan(text, from_integration=from_integration, rule=rule)


_DIGITS = re.compile(r"[0-9]+")


def alert_identity(text: str) -> str:
    """Which alert this is, so that the same alert firing again is recognised: its first line,
    numbers aside (counts, values and times change between firings), as a short digest."""
    first_line = " ".join(_DIGITS.sub("#", text.strip().split("\n", 1)[0].lower()).split())[:300]
    # Slack's JSON may carry a lone surrogate ("\ud800"), which strict UTF-8 cannot encode.
    return hashlib.blake2b(first_line.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


_MUTE_HOURS = "|".join(map(str, MUTE_HOURS))
_MUTE_VALUE = re.compile(rf"^(?P<key>[\w:.-]{{1,100}})\|(?P<hours>{_MUTE_HOURS})$")


def register(app: AsyncApp, enricher: AlertEnricher) -> None:
    async def on_message(ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        # An alert that cannot be read is still acknowledged, or Slack redelivers it.
        with logged_failures("reading a message event"):
            await enricher.on_message(event, text_at(body, "event_id") or None, context)

    async def on_mute(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        # What is muted comes from the selected option's own value; the clicked message's blocks,
        # which the client sends back, decide nothing and are never posted again.
        match = _MUTE_VALUE.match(text_at(action, "selected_option", "value"))
        channel, user = text_at(body, "channel", "id"), text_at(body, "user", "id")
        if match is None or not channel or not user:
            return
        with logged_failures("mute"):
            until = await enricher.mute(channel, match["key"], int(match["hours"]), user)
            notice = mute_notice(match["key"], user, until)
            thread = text_at(body, "container", "thread_ts") or text_at(body, "message", "thread_ts")
            if thread:
                enricher.poster.post(channel=channel, thread_ts=thread, **notice)
            else:
                enricher.tasks.spawn(respond(**notice, response_type="ephemeral", replace_original=False), name="mute")

    app.event("message")(on_message)
    app.action(re.compile(f"^{ACTION_MUTE}:"))(on_mute)
