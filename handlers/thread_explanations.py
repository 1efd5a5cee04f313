"""Turn what the scanner found in a Slack message into reply items: catalog answers and message lookups.

Who may trigger a lookup is decided here, once, for alerts, shortcuts and mentions alike: a post by an
integration the config file trusts (by bot or app id, per workspace or channel), or by a person whom
the workspace's ``allowed_users`` admits. Payload markers (``bot_id``, ``bot_profile``,
``subtype: bot_message``, ``username``) decide nothing on their own; a post with neither a trusted
integration nor a person behind it gets catalog explanations only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from catalog import Explainer, diagnose_message
from catalog.message import BirdError
from catalog.scanner import MAX_HITS, Hit, Rule, scan

from .blocks.enrichment_builder import CatalogItem, Item, MessageItem
from .deps import MessageSource, Workspace, WorkspaceDirectory
from .payload import text_at


@dataclass(frozen=True)
class Requester:
    """Who is behind a request: a person's Slack user id, and the integrations (bot and app ids) that posted it."""

    user: str | None = None
    integrations: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of_post(cls, message: Mapping[str, Any]) -> Requester:
        """From a message or event: ``user`` (an app's posts carry its bot user) and ``bot_id``/``app_id``."""
        integrations = frozenset({text_at(message, "bot_id"), text_at(message, "app_id")} - {""})
        return cls(user=text_at(message, "user") or None, integrations=integrations)


@dataclass(frozen=True)
class ThreadExplanations:
    explainer: Explainer
    bird: MessageSource
    workspaces: WorkspaceDirectory

    def scan(self, text: str, *, from_integration: bool, limit: int = MAX_HITS, rule: Rule = "asked") -> list[Hit]:
        return scan(self.explainer.catalog, text, from_integration=from_integration, limit=limit, rule=rule)

    def may_query(self, workspace: Workspace, channel: str, requester: Requester) -> bool:
        """Whether ``requester`` may have a message looked up in ``workspace`` from ``channel``."""
        if requester.integrations and self.workspaces.trusts_integration(channel, workspace.id, requester.integrations):
            return True
        return requester.user is not None and workspace.allows(requester.user)

    def permitted(self, hits: list[Hit], channel: str, requester: Requester) -> list[Hit]:
        """``hits`` without the message lookups ``requester`` may not trigger."""
        workspace = self._workspace(channel)
        if workspace is None or self.may_query(workspace, channel, requester):
            return hits
        return [hit for hit in hits if hit.kind != "message_id"]

    async def items(self, hits: list[Hit], channel: str, requester: Requester) -> list[Item]:
        """Explain every hit (callers bound how many); message ids are looked up concurrently in the
        channel's default workspace, through the same client, cache and request budget as /message."""
        lookups = [hit for hit in hits if hit.kind == "message_id"]
        fetched = await asyncio.gather(*(self._lookup(hit, channel, requester) for hit in lookups))
        by_key = {item.key: item for item in fetched}
        return [
            by_key[hit.key]
            if hit.kind == "message_id"
            else CatalogItem(key=hit.key, query=hit.query, answer=self.explainer.explain(hit.query))
            for hit in hits
        ]

    def _workspace(self, channel: str) -> Workspace | None:
        return self.workspaces.default_for_channel(channel) if self.workspaces.configured else None

    async def _lookup(self, hit: Hit, channel: str, requester: Requester) -> MessageItem:
        workspace = self._workspace(channel)
        if workspace is None:
            return MessageItem(key=hit.key, message_id=hit.key)
        if not self.may_query(workspace, channel, requester):
            # Checked before any request: Bird sees nothing of a refused lookup.
            return MessageItem(key=hit.key, message_id=hit.key, refused=True)
        try:
            found = await self.bird.get_message(workspace.id, workspace.access_key.get_secret_value(), hit.key)
        except BirdError as error:
            return MessageItem(key=hit.key, message_id=hit.key, error=error)
        diagnosis = diagnose_message(self.explainer.catalog, found.message)
        return MessageItem(key=hit.key, message_id=hit.key, found=found, diagnosis=diagnosis)
