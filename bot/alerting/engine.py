"""The alert engine: counts queued failures into groups and says what each group calls for in Slack.

One worker takes failures from the queue in batches (so a burst costs one state change per group, not
one per webhook), drops what was counted before (Bird's retries: the same request id, or the same
message and status), routes each failure to a Slack channel and records it. A periodic ``tick``
refreshes alerts whose counts moved, resolves quiet ones and posts the daily digests. All times come
from ``clock``, so tests move time instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from slack_sdk.web.async_client import AsyncWebClient

from catalog import Catalog
from catalog.failure_groups import (
    MIN_UPDATE_INTERVAL,
    AlertRef,
    DigestState,
    FailureFact,
    GroupState,
    Intent,
    Milestone,
    Open,
    Policy,
    Refresh,
    Resolved,
    alert_posted,
    digest_for,
    expired,
    opening_failed,
    record,
    resolve_now,
    review,
)
from handlers.blocks.alert_builder import AlertView, alert_message, digest_message, milestone_message, resolved_note
from handlers.deps import StateStore

from ..workspaces import AlertRoute, BirdwatchConfig
from .store import DEDUP_TTL, REQUEST_KEY, AlertStore, FailureQueue

logger = logging.getLogger("birdwatch.alerts")

# Counting a batch holds the event loop (in memory, nothing in it awaits): small batches keep the
# acknowledgements that share the loop quick, large ones spare a shared store round trips.
BATCH_SIZE = 250
RETRY_SECONDS = 1.0
MAX_PERMALINKS = 1000
T = TypeVar("T")
TICK_SECONDS = 5.0
# chat.update is Tier 3 (about 50 a minute per workspace): one process spaces its updates this far apart.
UPDATE_SPACING = 1.3


def mute_key(code: int | None) -> str:
    """The key snoozes and thread enrichment's mutes share: the failure code."""
    return str(code) if code is not None else "uncoded"


class AlertEngine:
    def __init__(
        self,
        *,
        config: BirdwatchConfig,
        catalog: Catalog,
        store: AlertStore,
        queue: FailureQueue,
        mutes: StateStore,
        slack: AsyncWebClient,
        clock: Callable[[], float] = time.time,
        tick_seconds: float | None = TICK_SECONDS,
        update_spacing: float = UPDATE_SPACING,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.store = store
        self.queue = queue
        self.mutes = mutes
        self.slack = slack
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.update_spacing = update_spacing
        self.counts: dict[str, int] = defaultdict(int)  # counted, duplicates, unrouted
        self._busy = False
        self._tasks: list[asyncio.Task[None]] = []
        self._last_update = 0.0
        self._update_lock = asyncio.Lock()
        self._permalinks: dict[tuple[str, str], str] = {}  # earlier alerts' links, asked of Slack once
        self._last_sent: dict[str, float] = {}  # alert ts -> when this process last updated it

    # --- lifecycle ---

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._work(), name="alerts-worker"))
        if self.tick_seconds:
            self._tasks.append(loop.create_task(self._ticker(self.tick_seconds), name="alerts-tick"))

    async def drain(self) -> None:
        """Wait until every queued failure has been counted (tests, shutdown)."""
        while self._busy or await self.queue.size():  # noqa: ASYNC110 - two sources, one of them remote
            await asyncio.sleep(0.005)

    async def aclose(self, timeout: float = 5.0) -> None:
        # Whatever is left stays queued (in Redis, for another replica) or is lost with this process.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.drain(), timeout)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _work(self) -> None:
        while True:
            try:
                batch = await self.queue.take(BATCH_SIZE)
            except Exception:
                logger.warning("the alert queue cannot be read; trying again", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self._busy = True
            try:
                await self.process(batch)
                await self._until_done(self.queue.done, "acknowledging counted failures")
            finally:
                self._busy = False

    async def _ticker(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.tick()
            except Exception:
                logger.exception("alert tick failed")

    # --- counting ---

    async def _until_done(self, step: Callable[[], Awaitable[T]], what: str) -> T:
        """Run a step that needs the shared store until it succeeds: the failures in hand were
        acknowledged to Bird, so giving up would lose them."""
        while True:
            try:
                return await step()
            except Exception:
                logger.warning("alert state unavailable while %s; trying again", what, exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)

    async def process(self, batch: list[FailureFact]) -> None:
        now = self.clock()
        fresh = await self._until_done(lambda: self._new_only(batch, now), "dropping repeats")
        routed: dict[str, tuple[AlertRoute, list[FailureFact]]] = {}
        per_channel: dict[str, list[FailureFact]] = defaultdict(list)
        for fact in fresh:
            route = self.config.alerts.route_for(fact.workspace_id, fact.bird_channel, fact.platform, fact.code)
            if route is None:
                self.counts["unrouted"] += 1
                continue
            self.counts["counted"] += 1
            routed.setdefault(fact.group_id, (route, []))[1].append(fact)
            per_channel[route.channel].append(fact)
        for gid, (route, facts) in routed.items():
            muted = await self._muted(route.channel, facts[0].code, now)
            policy = _policy(route)
            recording = _recording(facts, policy, route.channel, now, muted)
            intents = await self._until_done(partial(self.store.update, GroupState, gid, recording), "counting")
            await self._say(intents, policy)
            await asyncio.sleep(0)  # let waiting acknowledgements through between groups
        for channel, facts in per_channel.items():
            counting = _day_counting(facts)
            await self._until_done(partial(self.store.update, DigestState, channel, counting), "counting the day")

    async def _new_only(self, batch: list[FailureFact], now: float) -> list[FailureFact]:
        keys: list[str] = []
        spans: list[tuple[int, int]] = []
        for fact in batch:
            start = len(keys)
            if fact.request_id:
                keys.append(REQUEST_KEY + fact.request_id)
            if fact.message_id:
                keys.append(f"message:{fact.message_id}:{fact.status}")
            spans.append((start, len(keys)))
        seen = await self.store.first_seen(keys, DEDUP_TTL, now)
        fresh = [fact for fact, (start, end) in zip(batch, spans, strict=True) if all(seen[start:end])]
        self.counts["duplicates"] += len(batch) - len(fresh)
        return fresh

    async def _muted(self, channel: str, code: int | None, now: float) -> bool:
        mute = await self.mutes.get_mute(channel, mute_key(code))
        return mute is not None and mute.until > now

    # --- the periodic review ---

    async def tick(self) -> None:
        now = self.clock()
        for gid in await self.store.keys(GroupState):
            state = await self.store.read(GroupState, gid)
            if state is None:
                continue
            route = self._route_of(state)
            policy = _policy(route) if route else Policy()
            muted = await self._muted(state.slack_channel, state.code, now)
            await self._say(await self.store.update(GroupState, gid, _reviewing(policy, now, muted)), policy)
        await self._digests(now)

    def _route_of(self, state: GroupState) -> AlertRoute | None:
        return self.config.alerts.route_for(state.workspace_id, state.bird_channel, state.platform, state.code)

    # --- controls from Slack ---

    async def snooze(self, gid: str, hours: int, user: str) -> None:
        state = await self.store.read(GroupState, gid)
        if state is None:
            return
        until = self.clock() + hours * 3600
        await self.mutes.set_mute(state.slack_channel, mute_key(state.code), until, user)
        if state.alert is not None:
            route = self._route_of(state)
            await self._update(state.alert, await self._render(state, _policy(route) if route else Policy()))

    async def resolve(self, gid: str, user: str) -> None:
        now = self.clock()
        state = await self.store.read(GroupState, gid)
        if state is None:
            return
        route = self._route_of(state)
        intents = await self.store.update(GroupState, gid, _resolving(now, user))
        await self._say(intents, _policy(route) if route else Policy())

    # --- saying it in Slack ---

    async def _say(self, intents: list[Intent], policy: Policy) -> None:
        for intent in intents:
            try:
                if isinstance(intent, Open):
                    await self._open(intent.view, policy)
                elif isinstance(intent, Refresh) and intent.view.alert is not None:
                    await self._refresh(intent.view, policy)
                elif isinstance(intent, Milestone) and intent.view.alert is not None:
                    note = milestone_message(
                        intent.view,
                        threshold=policy.threshold,
                        factor=intent.factor,
                        platform_code=intent.platform_code,
                    )
                    await self.slack.chat_postMessage(
                        channel=intent.view.alert.channel, thread_ts=intent.view.alert.ts, **note
                    )
                elif isinstance(intent, Resolved):
                    await self._update(intent.alert, await self._render(intent.view, policy, resolved=True))
                    note = resolved_note(intent.view, quiet_minutes=policy.quiet_minutes)
                    await self.slack.chat_postMessage(channel=intent.alert.channel, thread_ts=intent.alert.ts, **note)
            except Exception:
                logger.exception("an alert could not be posted", extra={"intent": type(intent).__name__})

    async def _open(self, view: GroupState, policy: Policy) -> None:
        try:
            response = await self.slack.chat_postMessage(
                channel=view.slack_channel, unfurl_links=False, **await self._render(view, policy)
            )
            ts = str(response["ts"])
        except Exception:
            await self.store.update(GroupState, view.id, _opening_failed)
            raise
        ref = AlertRef(channel=view.slack_channel, ts=ts, opened_at=self.clock())
        logger.info("alert opened", extra={"channel": view.slack_channel, "group": view.id, "failures": view.total})
        await self.store.update(GroupState, view.id, _posted(ref, view.total, policy))

    async def _refresh(self, view: GroupState, policy: Policy) -> None:
        """Update the alert in place, unless this process updated it less than 30 s ago (a refresh
        decided on time can reach Slack late, behind other updates): then leave it to the next tick."""
        assert view.alert is not None
        last = self._last_sent.get(view.alert.ts)
        if last is not None and self.clock() - last < MIN_UPDATE_INTERVAL:
            await self.store.update(GroupState, view.id, _still_to_show(view.alert.ts))
            return
        await self._update(view.alert, await self._render(view, policy))

    async def _update(self, alert: AlertRef, payload: dict[str, Any]) -> None:
        async with self._update_lock:
            wait = self._last_update + self.update_spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_update = time.monotonic()
        if len(self._last_sent) >= MAX_PERMALINKS:
            self._last_sent.clear()
        self._last_sent[alert.ts] = self.clock()
        await self.slack.chat_update(channel=alert.channel, ts=alert.ts, **payload)

    async def _render(self, group: GroupState, policy: Policy, *, resolved: bool = False) -> dict[str, Any]:
        workspace = self.config.resolve(group.workspace_id)
        mute = await self.mutes.get_mute(group.slack_channel, mute_key(group.code))
        view = AlertView(
            group=group,
            now=self.clock(),
            workspace=workspace.label if workspace else group.workspace_id,
            threshold=policy.threshold,
            window_minutes=policy.window_minutes,
            quiet_minutes=policy.quiet_minutes,
            code=self.catalog.codes.get(group.code) if group.code is not None else None,
            bird_url=self._bird_url(group),
            previous_url=await self._permalink(group.previous_alert),
            snoozed_by=mute.by if mute else None,
            snoozed_until=mute.until if mute else None,
            resolved=resolved,
        )
        return alert_message(view)

    def _bird_url(self, group: GroupState) -> str | None:
        template = self.config.alerts.bird_link
        if not template:
            return None
        return template.replace("{workspace}", group.workspace_id).replace("{channel}", group.bird_channel)

    async def _permalink(self, alert: AlertRef | None) -> str | None:
        if alert is None:
            return None
        if (alert.channel, alert.ts) in self._permalinks:
            return self._permalinks[alert.channel, alert.ts]
        try:
            response = await self.slack.chat_getPermalink(channel=alert.channel, message_ts=alert.ts)
        except Exception:
            logger.warning("no permalink for the previous alert", exc_info=True)
            return None
        permalink = response.get("permalink")
        if not isinstance(permalink, str):
            return None
        if len(self._permalinks) >= MAX_PERMALINKS:
            self._permalinks.clear()
        self._permalinks[alert.channel, alert.ts] = permalink
        return permalink

    # --- the daily digest ---

    async def _digests(self, now: float) -> None:
        hour = self.config.alerts.digest_hour
        moment = datetime.fromtimestamp(now, UTC)
        if hour is None or moment.hour < hour:
            return
        today = moment.date()
        day = (today - timedelta(days=1)).isoformat()
        before = [(today - timedelta(days=n)).isoformat() for n in range(2, 9)]
        names = {str(code): entry.name for code, entry in self.catalog.codes.items()}
        for channel in await self.store.keys(DigestState):

            def claim(state: DigestState | None) -> tuple[DigestState | None, Any]:
                if state is None or state.posted_day == today.isoformat():
                    return state, None
                state.posted_day = today.isoformat()
                return state, digest_for(state, day, before)

            digest = await self.store.update(DigestState, channel, claim)
            if digest is not None and digest.total:
                await self.slack.chat_postMessage(channel=channel, **digest_message(digest, names))


def _policy(route: AlertRoute) -> Policy:
    return Policy(threshold=route.threshold, window_minutes=route.window_minutes, quiet_minutes=route.quiet_minutes)


# Changes for AlertStore.update: functions of the stored state alone, so a store may run them again.

GroupChange = Callable[[GroupState | None], tuple[GroupState | None, list[Intent]]]


def _recording(facts: list[FailureFact], policy: Policy, channel: str, now: float, muted: bool) -> GroupChange:
    def change(state: GroupState | None) -> tuple[GroupState | None, list[Intent]]:
        return record(state, facts, policy, channel, now, muted=muted)

    return change


def _reviewing(policy: Policy, now: float, muted: bool) -> GroupChange:
    def change(state: GroupState | None) -> tuple[GroupState | None, list[Intent]]:
        if state is None:
            return None, []
        intents = review(state, policy, now, muted=muted)
        return (None if expired(state, now) else state), intents

    return change


def _resolving(now: float, user: str) -> GroupChange:
    def change(state: GroupState | None) -> tuple[GroupState | None, list[Intent]]:
        return state, (resolve_now(state, now, user) if state is not None else [])

    return change


def _posted(ref: AlertRef, shown_total: int, policy: Policy) -> GroupChange:
    def change(state: GroupState | None) -> tuple[GroupState | None, list[Intent]]:
        if state is not None:
            alert_posted(state, ref, shown_total, policy)
        return state, []

    return change


def _still_to_show(ts: str) -> GroupChange:
    def change(state: GroupState | None) -> tuple[GroupState | None, list[Intent]]:
        if state is not None and state.alert is not None and state.alert.ts == ts:
            state.shown_total = -1  # counts moved on since the alert was last updated
        return state, []

    return change


def _opening_failed(state: GroupState | None) -> tuple[GroupState | None, list[Intent]]:
    if state is not None:
        opening_failed(state)
    return state, []


def _day_counting(facts: list[FailureFact]) -> Callable[[DigestState | None], tuple[DigestState | None, None]]:
    counts = Counter((int(fact.at // 86400), mute_key(fact.code), fact.bird_channel) for fact in facts)

    def change(state: DigestState | None) -> tuple[DigestState | None, None]:
        state = state or DigestState()
        for (day, code, bird_channel), count in counts.items():
            state.add(datetime.fromtimestamp(day * 86400, UTC).date().isoformat(), code, bird_channel, count)
        return state, None

    return change
