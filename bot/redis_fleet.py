"""Everything a replica shares through Redis, built from the settings in one place."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from .bird import RequestBudget
from .metrics import Metrics
from .redis_bird import FleetBudget, RedisMessageCache
from .redis_connection import RedisLink
from .redis_replies import RedisReplyQueue
from .redis_state import RedisStateStore
from .settings import Settings
from .slack_poster import ChannelPoster


@dataclass
class RedisFleet:
    """The Redis link and the shared versions of the store, Bird cache, Bird budget and reply queue."""

    link: RedisLink
    store: RedisStateStore
    cache: RedisMessageCache
    budget: FleetBudget
    replies: RedisReplyQueue

    @classmethod
    def from_settings(
        cls, settings: Settings, slack: AsyncWebClient, metrics: Metrics, *, rate: float, burst: int
    ) -> RedisFleet:
        assert settings.redis_url is not None
        link = RedisLink(settings.redis_url.get_secret_value(), settings.redis_key_prefix, on_error=metrics.redis_error)
        return cls(
            link=link,
            store=RedisStateStore(link),
            cache=RedisMessageCache(link),
            budget=FleetBudget(link, rate=rate, burst=burst, fallback=RequestBudget(rate=rate, burst=burst)),
            replies=RedisReplyQueue(
                slack,
                link,
                fallback=ChannelPoster(slack, on_abandon=metrics.reply_abandoned),
                on_abandon=metrics.reply_abandoned,
            ),
        )

    async def start(self) -> None:
        await self.store.start()
        await self.replies.start()

    async def ready(self) -> bool:
        """Whether Redis answers now."""
        return await self.link.ping()

    async def aclose(self) -> None:
        """After the reply queue is closed: stop following mutes and close the connections."""
        await self.store.aclose()
        await self.link.aclose()
