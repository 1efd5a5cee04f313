"""From a stream of failed messages to one alert per problem: pure, Slack-free, clock-free logic.

A *group* is one problem: failures in one Bird workspace and channel with the same failure code and
source. Within a group the platform's own codes are counted side by side (a new one is news, see
``Milestone``). A group lives through *episodes*: failures arrive, the count inside the window crosses
the threshold and an alert opens, it goes quiet for the quiet period and the alert resolves; the next
burst is a new episode whose alert links the old one.

Every function here takes ``now`` and returns what should be said (``Intent``s) instead of saying it,
so that the state can live anywhere (memory, Redis) and be changed atomically by a read-modify-write,
and so that tests need no clock.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Literal

FAILED_STATUSES = frozenset({"sending_failed", "delivery_failed"})
MILESTONE_FACTORS = (10, 100, 1000)
MIN_UPDATE_INTERVAL = 30.0  # seconds between two chat.update calls for one group
OPENING_LEASE = 60.0  # a replica that claimed the opening post has this long to report it
KEEP_RESOLVED = 24 * 3600.0  # a resolved alert is remembered this long, to be linked by the next one
MAX_REASONS = 20
MAX_REASON_LENGTH = 150
MAX_SAMPLES = 5
MAX_PLATFORM_CODES = 30
BUCKET_SECONDS = 60  # counts are kept per minute
MAX_BUCKETS = 61  # enough for a one-hour window and the rate's trend


@dataclass(frozen=True, slots=True)
class FailureFact:
    """One failed message as a webhook reported it, already free of customer data."""

    workspace_id: str
    bird_channel: str
    platform: str  # the event's platform, e.g. "sms" of "sms.outbound"
    status: str
    message_id: str
    code: int | None
    source: str | None
    platform_code: str | None
    reason: str | None  # redacted and shortened by whoever built the fact
    at: float
    request_id: str = ""  # Bird's messagebird-request-id, to recognise its retries

    @property
    def group_id(self) -> str:
        return group_id(self.workspace_id, self.bird_channel, self.code, self.source)


def group_id(workspace_id: str, bird_channel: str, code: int | None, source: str | None) -> str:
    """A short stable id for the group, fit for a Slack button value and a store key."""
    raw = f"{workspace_id}|{bird_channel}|{code if code is not None else '-'}|{source or '-'}"
    return hashlib.blake2b(raw.encode(), digest_size=10).hexdigest()


@dataclass(frozen=True, slots=True)
class Policy:
    """When a group alerts and when it is over (from its route)."""

    threshold: int = 5
    window_minutes: int = 5
    quiet_minutes: int = 30

    @property
    def quiet_seconds(self) -> float:
        return self.quiet_minutes * 60.0


@dataclass(frozen=True, slots=True)
class AlertRef:
    """Where an alert was posted."""

    channel: str
    ts: str
    opened_at: float


@dataclass
class GroupState:
    """What is known about one group; JSON-serialisable so a shared store can hold it."""

    KIND: ClassVar[str] = "group"

    workspace_id: str
    bird_channel: str
    platform: str
    code: int | None
    source: str | None
    slack_channel: str = ""
    episode_start: float = 0.0
    last_failure: float = 0.0
    total: int = 0
    buckets: dict[str, int] = field(default_factory=dict)  # minute number -> failures in it
    platform_codes: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    alert: AlertRef | None = None
    opening_at: float | None = None
    last_update_at: float = 0.0
    shown_total: int = 0
    milestones: list[int] = field(default_factory=list)
    announced_codes: list[str] = field(default_factory=list)
    previous_alert: AlertRef | None = None
    resolved_at: float | None = None
    resolved_by: str | None = None

    @property
    def id(self) -> str:
        return group_id(self.workspace_id, self.bird_channel, self.code, self.source)

    # --- counting ---

    def window_count(self, now: float, minutes: int) -> int:
        """Failures in the last ``minutes`` whole minutes, the current one included."""
        current = int(now // BUCKET_SECONDS)
        return sum(n for minute, n in self.buckets.items() if current - minutes < int(minute) <= current)

    def rate_per_minute(self, now: float, minutes: int = 5) -> float:
        return self.window_count(now, minutes) / minutes

    def trend(self, now: float, minutes: int = 5) -> Literal["rising", "falling", "steady"]:
        """The last ``minutes`` against the ``minutes`` before them."""
        recent = self.window_count(now, minutes)
        before = self.window_count(now - minutes * BUCKET_SECONDS, minutes)
        if recent > before * 1.25 + 1:
            return "rising"
        if recent < before * 0.75 - 1:
            return "falling"
        return "steady"

    def top_reasons(self, limit: int = 3) -> list[tuple[str, int]]:
        return Counter(self.reasons).most_common(limit)

    def top_platform_codes(self, limit: int = 5) -> list[tuple[str, int]]:
        return Counter(self.platform_codes).most_common(limit)

    def add(self, fact: FailureFact) -> None:
        if self.total == 0:
            self.episode_start = fact.at
        self.total += 1
        self.last_failure = max(self.last_failure, fact.at)
        minute = str(int(fact.at // BUCKET_SECONDS))
        self.buckets[minute] = self.buckets.get(minute, 0) + 1
        if len(self.buckets) > MAX_BUCKETS:
            for old in sorted(self.buckets, key=int)[: len(self.buckets) - MAX_BUCKETS]:
                del self.buckets[old]
        if fact.platform_code is not None:
            _count_capped(self.platform_codes, fact.platform_code, MAX_PLATFORM_CODES)
        if fact.reason:
            _count_capped(self.reasons, fact.reason[:MAX_REASON_LENGTH], MAX_REASONS)
        if fact.message_id and fact.message_id not in self.samples:
            self.samples = [*self.samples, fact.message_id][-MAX_SAMPLES:]

    def _new_episode(self) -> None:
        self.episode_start = self.last_failure = 0.0
        self.total = self.shown_total = 0
        self.buckets, self.platform_codes, self.reasons = {}, {}, {}
        self.samples, self.milestones, self.announced_codes = [], [], []
        self.opening_at = None
        self.last_update_at = 0.0

    # --- serialisation ---

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> GroupState:
        data: dict[str, Any] = json.loads(text)
        for name in ("alert", "previous_alert"):
            if data.get(name) is not None:
                data[name] = AlertRef(**data[name])
        return cls(**data)

    @classmethod
    def for_fact(cls, fact: FailureFact, slack_channel: str) -> GroupState:
        return cls(
            workspace_id=fact.workspace_id,
            bird_channel=fact.bird_channel,
            platform=fact.platform,
            code=fact.code,
            source=fact.source,
            slack_channel=slack_channel,
        )

    def snapshot(self) -> GroupState:
        """A copy to render from after the state has moved on."""
        return replace(
            self,
            buckets=dict(self.buckets),
            platform_codes=dict(self.platform_codes),
            reasons=dict(self.reasons),
            samples=list(self.samples),
            milestones=list(self.milestones),
            announced_codes=list(self.announced_codes),
        )


def _count_capped(counts: dict[str, int], key: str, cap: int) -> None:
    """Count ``key``; a new key beyond ``cap`` distinct ones is dropped (the common ones are in by then)."""
    if key in counts or len(counts) < cap:
        counts[key] = counts.get(key, 0) + 1


# --- what to say ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Open:
    """Post the alert; then report it with ``alert_posted`` (or ``opening_failed``)."""

    view: GroupState


@dataclass(frozen=True)
class Refresh:
    """Update the posted alert in place."""

    view: GroupState


@dataclass(frozen=True)
class Milestone:
    """A line in the alert's thread: the count reached ``factor`` × the threshold, or a new platform code."""

    view: GroupState
    factor: int | None = None
    platform_code: str | None = None


@dataclass(frozen=True)
class Resolved:
    """The alert is over: update it to say so and note it in its thread."""

    view: GroupState
    alert: AlertRef
    by: str | None


Intent = Open | Refresh | Milestone | Resolved


def record(
    state: GroupState | None, facts: list[FailureFact], policy: Policy, slack_channel: str, now: float, *, muted: bool
) -> tuple[GroupState, list[Intent]]:
    """Add new failures of one group (all with the same group id) and say what follows."""
    if state is None:
        state = GroupState.for_fact(facts[0], slack_channel)
    intents: list[Intent] = []
    for fact in sorted(facts, key=lambda f: f.at):
        if state.total and fact.at - state.last_failure >= policy.quiet_seconds:
            intents += _close_episode(state, fact.at, by=None)
        state.add(fact)
    state.slack_channel = slack_channel
    intents += review(state, policy, now, muted=muted)
    return state, intents


def review(state: GroupState, policy: Policy, now: float, *, muted: bool) -> list[Intent]:
    """Decide what the group's state calls for now (open, refresh, milestones, resolution)."""
    if state.total and now - state.last_failure >= policy.quiet_seconds:
        return _close_episode(state, now, by=None)
    if state.total == 0 or muted:
        return []
    if state.alert is None:
        lease_free = state.opening_at is None or now - state.opening_at >= OPENING_LEASE
        if lease_free and state.window_count(now, policy.window_minutes) >= policy.threshold:
            state.opening_at = now
            return [Open(state.snapshot())]
        return []
    intents: list[Intent] = []
    for factor in MILESTONE_FACTORS:
        if state.total >= factor * policy.threshold and factor not in state.milestones:
            state.milestones.append(factor)
            intents.append(Milestone(state.snapshot(), factor=factor))
    for code in state.platform_codes:
        if code not in state.announced_codes:
            state.announced_codes.append(code)
            intents.append(Milestone(state.snapshot(), platform_code=code))
    if state.total != state.shown_total and now - state.last_update_at >= MIN_UPDATE_INTERVAL:
        state.last_update_at, state.shown_total = now, state.total
        intents.append(Refresh(state.snapshot()))
    return intents


def alert_posted(state: GroupState, ref: AlertRef, shown_total: int, policy: Policy) -> None:
    """The opening post went out: remember where, and what it showed."""
    state.alert, state.opening_at = ref, None
    state.last_update_at, state.shown_total = ref.opened_at, shown_total
    state.resolved_at = state.resolved_by = None
    # What the alert already shows is no milestone.
    state.announced_codes = list(state.platform_codes)
    state.milestones = [f for f in MILESTONE_FACTORS if shown_total >= f * policy.threshold]


def opening_failed(state: GroupState) -> None:
    state.opening_at = None


def resolve_now(state: GroupState, now: float, by: str) -> list[Intent]:
    """Someone resolved the alert by hand: it is over, and the next failure starts afresh."""
    if state.alert is None and state.total == 0:
        return []
    return _close_episode(state, now, by=by)


def expired(state: GroupState, now: float) -> bool:
    """Nothing left worth keeping: no failures in flight and no recent alert to link."""
    if state.total or state.alert is not None:
        return False
    return state.resolved_at is None or now - state.resolved_at >= KEEP_RESOLVED


def _close_episode(state: GroupState, now: float, by: str | None) -> list[Intent]:
    intents: list[Intent] = []
    if state.alert is not None:
        view = state.snapshot()
        view.resolved_at, view.resolved_by = now, by
        intents.append(Resolved(view, state.alert, by))
        state.previous_alert = state.alert
        state.alert = None
        state.resolved_at, state.resolved_by = now, by
    state._new_episode()
    return intents


# --- the daily digest -----------------------------------------------------------------------------


@dataclass
class DigestState:
    """Daily failure counts for one Slack channel, the codes it has seen, and the last digest posted."""

    KIND: ClassVar[str] = "digest"

    days: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # day -> {"codes"|"channels"} -> n
    first_seen: dict[str, str] = field(default_factory=dict)  # code -> day it was first seen
    posted_day: str | None = None
    KEEP_DAYS: ClassVar[int] = 9

    def add(self, day: str, code: str, bird_channel: str, count: int = 1) -> None:
        today = self.days.setdefault(day, {"codes": {}, "channels": {}})
        today["codes"][code] = today["codes"].get(code, 0) + count
        today["channels"][bird_channel] = today["channels"].get(bird_channel, 0) + count
        self.first_seen.setdefault(code, day)
        for old in sorted(self.days)[: max(0, len(self.days) - self.KEEP_DAYS)]:
            del self.days[old]

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> DigestState:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class CodeLine:
    code: str
    count: int
    average: float  # per day over the seven days before

    @property
    def change(self) -> float | None:
        """Relative change against the average; None when there is no history."""
        return None if self.average == 0 else (self.count - self.average) / self.average


@dataclass(frozen=True)
class Digest:
    day: str
    total: int
    codes: list[CodeLine]
    new_codes: list[str]
    top_channels: list[tuple[str, int]]


def digest_for(state: DigestState, day: str, previous_days: list[str]) -> Digest:
    """The digest of ``day`` against the average of ``previous_days`` (the seven before it)."""
    today = state.days.get(day, {"codes": {}, "channels": {}})
    history: Counter[str] = Counter()
    for earlier in previous_days:
        history.update(state.days.get(earlier, {}).get("codes", {}))
    days = max(len(previous_days), 1)
    codes = sorted(
        (CodeLine(code, count, history[code] / days) for code, count in today["codes"].items()),
        key=lambda line: (-line.count, line.code),
    )
    return Digest(
        day=day,
        total=sum(today["codes"].values()),
        codes=codes,
        new_codes=sorted(code for code, first in state.first_seen.items() if first == day),
        top_channels=Counter(today["channels"]).most_common(3),
    )


def rounded_rate(value: float) -> str:
    """A rate as people read it: 0.4, 12, 1,200."""
    if value < 10:
        return f"{math.floor(value * 10 + 0.5) / 10:g}"
    return f"{round(value):,}"
