"""What listeners need from the composition root, as narrow interfaces."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol

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


class StateStore(Protocol):
    """Deduplication, repeat windows and mutes; in memory by default, shareable across replicas."""

    async def claim(self, key: str, ttl: float) -> bool: ...
    async def set_mute(self, channel: str, code: str, until: float, by: str) -> None: ...
    async def get_mute(self, channel: str, code: str) -> MuteRecord | None: ...


class Poster(Protocol):
    """Queues a chat.postMessage; never blocks the caller, paces posts per channel."""

    def post(self, **kwargs: Any) -> None: ...
