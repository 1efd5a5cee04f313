"""Turn what the scanner found in a Slack message into reply items: catalog answers and message lookups."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from catalog import Explainer, diagnose_message
from catalog.message import BirdError
from catalog.scanner import Hit, scan

from .blocks.enrichment_builder import MAX_ITEMS, CatalogItem, Item, MessageItem
from .deps import MessageSource, WorkspaceDirectory


@dataclass(frozen=True)
class ThreadExplanations:
    explainer: Explainer
    bird: MessageSource
    workspaces: WorkspaceDirectory

    def scan(self, text: str, *, from_integration: bool) -> list[Hit]:
        return scan(self.explainer.catalog, text, from_integration=from_integration)

    async def items(self, hits: list[Hit], channel: str, user: str | None = None) -> list[Item]:
        """Explain every hit; message ids are looked up (at most MAX_ITEMS, concurrently) in the
        channel's default workspace, through the same client, cache and request budget as /message."""
        lookups = [hit for hit in hits if hit.kind == "message_id"][:MAX_ITEMS]
        fetched = await asyncio.gather(*(self._lookup(hit, channel, user) for hit in lookups))
        by_key = {item.key: item for item in fetched}
        items: list[Item] = []
        for hit in hits:
            if hit.kind == "message_id":
                if hit.key in by_key:
                    items.append(by_key[hit.key])
            else:
                items.append(CatalogItem(key=hit.key, query=hit.query, answer=self.explainer.explain(hit.query)))
        return items

    async def _lookup(self, hit: Hit, channel: str, user: str | None) -> MessageItem:
        workspace = self.workspaces.default_for_channel(channel) if self.workspaces.configured else None
        if workspace is None or (user is not None and not workspace.allows(user)):
            return MessageItem(key=hit.key, message_id=hit.key)
        try:
            found = await self.bird.get_message(workspace.id, workspace.access_key.get_secret_value(), hit.key)
        except BirdError as error:
            return MessageItem(key=hit.key, message_id=hit.key, error=error)
        diagnosis = diagnose_message(self.explainer.catalog, found.message)
        return MessageItem(key=hit.key, message_id=hit.key, found=found, diagnosis=diagnosis)
