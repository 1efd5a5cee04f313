"""Turn what the scanner found in a Slack message into reply items: catalog answers and message lookups."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from catalog import Explainer, diagnose_message
from catalog.message import BirdError
from catalog.scanner import MAX_HITS, Hit, Rule, scan

from .blocks.enrichment_builder import CatalogItem, Item, MessageItem
from .deps import MessageSource, WorkspaceDirectory


@dataclass(frozen=True)
class ThreadExplanations:
    explainer: Explainer
    bird: MessageSource
    workspaces: WorkspaceDirectory

    def scan(self, text: str, *, from_integration: bool, limit: int = MAX_HITS, rule: Rule = "asked") -> list[Hit]:
        return scan(self.explainer.catalog, text, from_integration=from_integration, limit=limit, rule=rule)

    async def items(self, hits: list[Hit], channel: str, user: str | None = None) -> list[Item]:
        """Explain every hit (callers bound how many); message ids are looked up concurrently in the
        channel's default workspace, through the same client, cache and request budget as /message."""
        lookups = [hit for hit in hits if hit.kind == "message_id"]
        fetched = await asyncio.gather(*(self._lookup(hit, channel, user) for hit in lookups))
        by_key = {item.key: item for item in fetched}
        return [
            by_key[hit.key]
            if hit.kind == "message_id"
            else CatalogItem(key=hit.key, query=hit.query, answer=self.explainer.explain(hit.query))
            for hit in hits
        ]

    async def _lookup(self, hit: Hit, channel: str, user: str | None) -> MessageItem:
        workspace = self.workspaces.default_for_channel(channel) if self.workspaces.configured else None
        if workspace is None:
            return MessageItem(key=hit.key, message_id=hit.key)
        if user is not None and not workspace.allows(user):
            # Checked before any request: Bird sees nothing of a refused lookup.
            return MessageItem(key=hit.key, message_id=hit.key, refused=True)
        try:
            found = await self.bird.get_message(workspace.id, workspace.access_key.get_secret_value(), hit.key)
        except BirdError as error:
            return MessageItem(key=hit.key, message_id=hit.key, error=error)
        diagnosis = diagnose_message(self.explainer.catalog, found.message)
        return MessageItem(key=hit.key, message_id=hit.key, found=found, diagnosis=diagnosis)
