"""Assembles alerting from the configuration: the webhook receiver, the queue, the store and the engine."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from catalog import Catalog
from handlers.deps import StateStore

from ..redis_connection import RedisLink
from ..workspaces import BirdwatchConfig
from .engine import TICK_SECONDS, AlertEngine
from .intake import SigningKey, WebhookReceiver
from .redis_store import RedisAlertStore, RedisFailureQueue
from .store import AlertStore, FailureQueue, MemoryAlertStore, MemoryFailureQueue


@dataclass
class Alerting:
    receiver: WebhookReceiver
    engine: AlertEngine
    redis: RedisLink | None = None

    def start(self) -> None:
        self.engine.start()

    async def drain(self) -> None:
        await self.engine.drain()

    async def aclose(self) -> None:
        await self.engine.aclose()
        if self.redis is not None:
            await self.redis.aclose()


def signing_keys(config: BirdwatchConfig) -> list[SigningKey]:
    return [
        SigningKey(workspace.id, key.get_secret_value().encode())
        for workspace in config.workspaces
        for key in workspace.signing_keys
    ]


def build_alerting(
    config: BirdwatchConfig,
    catalog: Catalog,
    mutes: StateStore,
    *,
    slack_token: str,
    slack_base_url: str | None,
    redis_url: str | None = None,
    redis_prefix: str = "birdwatch:",
    clock: Callable[[], float] = time.time,
    tick_seconds: float | None = TICK_SECONDS,
    update_spacing: float | None = None,
) -> Alerting | None:
    """Alerting, when the configuration has a public URL and signing keys; None otherwise."""
    keys = signing_keys(config)
    if config.alerts.webhook_url is None or not keys:
        return None
    # With Redis, counts, groups, the alert of each group and the queue of failures are shared.
    link = RedisLink(redis_url, redis_prefix) if redis_url else None
    store: AlertStore = RedisAlertStore(link) if link else MemoryAlertStore()
    queue: FailureQueue = RedisFailureQueue(link) if link else MemoryFailureQueue()
    slack = AsyncWebClient(
        token=slack_token,
        base_url=slack_base_url or AsyncWebClient.BASE_URL,
        # Alerts are posted from the engine's own task, so waiting out a 429 here holds up nobody's request.
        retry_handlers=[AsyncConnectionErrorRetryHandler(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    engine = AlertEngine(
        config=config,
        catalog=catalog,
        store=store,
        queue=queue,
        mutes=mutes,
        slack=slack,
        clock=clock,
        tick_seconds=tick_seconds,
        **({"update_spacing": update_spacing} if update_spacing is not None else {}),
    )
    return Alerting(WebhookReceiver(config.alerts.webhook_url, keys, queue, clock=clock), engine, link)
