"""What listeners need from the composition root, as narrow interfaces."""

from __future__ import annotations

from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import SecretStr

from catalog.message import FoundMessage


class Spawner(Protocol):
    """Runs slow work after the listener has returned, so Slack's ack is never held up."""

    def spawn(self, work: Coroutine[Any, Any, Any], *, name: str) -> None: ...


class Workspace(Protocol):
    """A Bird workspace birdwatch may query."""

    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def access_key(self) -> SecretStr: ...
    def allows(self, user_id: str) -> bool: ...


class WorkspaceDirectory(Protocol):
    """Which workspaces exist, which one a channel uses, and the privacy rules."""

    @property
    def configured(self) -> bool: ...
    @property
    def show_details(self) -> bool: ...
    def resolve(self, name_or_id: str) -> Workspace | None: ...
    def default_for_channel(self, slack_channel_id: str) -> Workspace | None: ...
    def enriches(self, channel_id: str) -> bool: ...
    def trusts_integration(self, channel_id: str, workspace_id: str, integration_ids: Collection[str]) -> bool: ...
    def only_bird_alerts(self, channel_id: str) -> bool: ...


class MessageSource(Protocol):
    """Fetches messages from Bird; raises catalog.message.BirdError on failure."""

    async def get_message(
        self,
        workspace_id: str,
        access_key: str,
        message_id: str,
        channel_id: str | None = None,
        *,
        fresh: bool = False,
    ) -> FoundMessage: ...


class MuteRecord(Protocol):
    @property
    def until(self) -> float: ...
    @property
    def by(self) -> str: ...


# Slack redelivers an event within minutes; an event id remembered for an hour covers every retry.
EVENT_TTL = 3600.0


@dataclass(frozen=True, slots=True)
class Claim:
    """One key of a ``StateStore.claim_each`` batch: held for ``ttl`` seconds, and tried only when the
    batch's claim at index ``after`` (an earlier one) was made by this same call."""

    key: str
    ttl: float
    after: int | None = None


class StateStore(Protocol):
    """Deduplication, repeat windows and mutes (bot.state has the in-memory one); implementations
    shared by several replicas must make ``claim`` and ``claim_each`` atomic."""

    async def claim(self, key: str, ttl: float) -> bool:
        """Set ``key`` for ``ttl`` seconds if absent; True when this call set it."""
        ...

    async def claim_each(self, claims: Sequence[Claim]) -> list[bool]:
        """``claim`` each key in order, all at once (one round trip on a shared store); a claim whose
        ``after`` was not made is not tried and answers False."""
        ...

    async def release(self, key: str) -> None:
        """Forget ``key`` (claimed for work that then failed), so a redelivery can claim it again."""
        ...

    async def set_mute(self, channel: str, code: str, until: float, by: str) -> None:
        """Mute ``code`` in ``channel`` until ``until``; a time in the past lifts the mute."""
        ...

    async def get_mute(self, channel: str, code: str) -> MuteRecord | None:
        """The mute in force, or None when absent or expired."""
        ...


EnrichmentDecision = Literal["explained", "nothing_found", "duplicate", "muted", "refused"]


class EnrichmentOutcomes(Protocol):
    """Counts what alert enrichment decided for each alert it read (bot.metrics.Metrics)."""

    def enrichment(self, decision: EnrichmentDecision) -> None: ...


class Poster(Protocol):
    """Queues a chat.postMessage; never blocks the caller, paces posts per channel."""

    def post(self, **kwargs: Any) -> None: ...


class AlertControls(Protocol):
    """The buttons on an alert built from Bird's webhooks."""

    async def snooze(self, gid: str, hours: int, user: str) -> None: ...

    async def resolve(self, gid: str, user: str) -> None: ...
