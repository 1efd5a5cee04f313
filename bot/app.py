"""The composition root: builds the Bolt app and everything its listeners need."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from dotenv import dotenv_values
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from catalog import Catalog, Explainer, default_catalog
from handlers import (
    alert_actions,
    alert_events,
    answer_actions,
    failure_command,
    message_command,
    on_demand,
    replays,
)
from handlers.alert_events import AlertEnricher
from handlers.deps import StateStore
from handlers.message_command import MessageLookups
from handlers.on_demand import OnDemand
from handlers.thread_explanations import ThreadExplanations

from .alerting.engine import TICK_SECONDS
from .alerting.service import Alerting, build_alerting
from .bird import BirdClient, RequestBudget
from .metrics import MeteredWebClient, Metrics
from .redis_fleet import RedisFleet
from .redis_replies import RedisReplyQueue
from .settings import Settings
from .slack_auth import SlackIdentity, failure_reason, note_event_authorizations
from .slack_poster import ChannelPoster, ResponseUrlSender, checked_respond
from .state import MemoryStateStore
from .tasks import BackgroundTasks
from .workspaces import BirdwatchConfig, load_config

logger = logging.getLogger("birdwatch")

ReadinessCheck = Callable[[], Awaitable[bool]]
READINESS_TIMEOUT = 2.0
SHUTDOWN_GRACE = 8.0  # Docker sends SIGKILL 10 s after SIGTERM by default


@dataclass
class Runtime:
    """The running bot: the Bolt app plus the collaborators it owns and must close."""

    app: AsyncApp
    config: BirdwatchConfig
    tasks: BackgroundTasks
    bird: BirdClient
    poster: ChannelPoster | RedisReplyQueue
    signing_secret: SecretStr  # for requests Bolt cannot even parse (see bot.server)
    metrics: Metrics
    identity: SlackIdentity
    readiness_checks: dict[str, ReadinessCheck] = field(default_factory=dict)
    stopping: bool = False  # set on SIGTERM: new work is refused, work in flight finishes
    alerting: Alerting | None = None  # Bird's webhooks as Slack alerts, when configured
    fleet: RedisFleet | None = None  # the state shared with other replicas, when REDIS_URL is set

    async def start(self) -> None:
        """Give the Slack client one HTTP session for the runtime's life; slack_sdk otherwise opens
        a new one for every call, and that CPU competes with acknowledging requests."""
        if self.app.client.session is None:
            self.app.client.session = aiohttp.ClientSession()
        if self.fleet is not None:
            await self.fleet.start()
        if self.alerting is not None:
            self.alerting.start()

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        """Make ``/readyz`` depend on ``check`` too (true when ready), reported under ``name``."""
        self.readiness_checks[name] = check

    async def readiness(self) -> dict[str, bool]:
        """Each named check's result; a check that fails or takes too long counts as not ready."""
        results: dict[str, bool] = {}
        for name, check in list(self.readiness_checks.items()):
            try:
                results[name] = bool(await asyncio.wait_for(check(), READINESS_TIMEOUT))
            except Exception as error:  # one line: probes come every few seconds
                logger.warning("readiness check failed", extra={"check": name, "reason": failure_reason(error)})
                results[name] = False
        return results

    async def shutdown(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop taking work, then give lookups in flight and queued replies one shared ``grace``
        budget; whatever is left then is abandoned, and logged with its reason."""
        self.stopping = True
        deadline = asyncio.get_running_loop().time() + grace
        await self.tasks.aclose(timeout=grace, reason=f"shutdown grace of {grace:g}s ran out")
        remaining = max(deadline - asyncio.get_running_loop().time(), 0.0)
        await self.poster.aclose(timeout=remaining)

    async def drain(self) -> None:
        """Wait until background lookups and queued Slack posts are done (tests, shutdown)."""
        if self.alerting is not None:
            await self.alerting.drain()
        await self.tasks.drain()
        await self.poster.drain()

    async def aclose(self) -> None:
        if self.alerting is not None:
            await self.alerting.aclose()
        await self.tasks.aclose()
        await self.poster.aclose()
        await self.identity.aclose()
        await self.bird.aclose()
        if self.fleet is not None:
            await self.fleet.aclose()
        if self.app.client.session is not None:
            await self.app.client.session.close()


def read_environment(env_file: Path = Path(".env")) -> dict[str, str]:
    """The process environment over the ``.env`` file, as Settings reads them: per-workspace keys
    named in the config file may live in either."""
    from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.is_file() else {}
    return {**from_file, **os.environ}


def build_runtime(
    settings: Settings,
    *,
    catalog: Catalog | None = None,
    environ: Mapping[str, str] | None = None,
    bird: BirdClient | None = None,
    clock: Callable[[], float] | None = None,
    alert_tick_seconds: float | None = TICK_SECONDS,
) -> Runtime:
    config = load_config(settings, read_environment() if environ is None else environ)
    explainer = Explainer(catalog or default_catalog())
    tasks = BackgroundTasks()
    metrics = Metrics()
    # The client gets its token only after Bolt is built: a client with a token makes Bolt use its
    # own authorization, which fails every request while auth.test does (see bot.slack_auth).
    client = MeteredWebClient(metrics=metrics, base_url=settings.slack_api_base_url or AsyncWebClient.BASE_URL)
    identity = SlackIdentity(client)
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        before_authorize=note_event_authorizations,
        authorize=identity.bolt_authorize(),
        # Listeners finish before the HTTP response goes out, so an instant answer rides on the
        # ack itself; anything slow is handed to BackgroundTasks instead of holding the request.
        process_before_response=True,
    )
    client.token = settings.slack_bot_token.get_secret_value()
    app.use(checked_respond(ResponseUrlSender(session=lambda: client.session)))
    rate = settings.bird_requests_per_second
    burst = max(1, round(rate))
    fleet = RedisFleet.from_settings(settings, client, metrics, rate=rate, burst=burst) if settings.redis_url else None
    bird = bird or BirdClient(
        base_url=str(settings.bird_api_url),
        budget=fleet.budget if fleet else RequestBudget(rate=rate, burst=burst),
        cache=fleet.cache if fleet else None,
        final_statuses=explainer.catalog.final_statuses,
        on_request=metrics.bird_request,
    )
    # One clock for mutes and alerts, so a snooze set by an alert ends when the alert engine thinks it does.
    memory_store = MemoryStateStore() if clock is None else MemoryStateStore(clock=clock)
    store: StateStore = fleet.store if fleet else memory_store
    poster = fleet.replies if fleet else ChannelPoster(client, on_abandon=metrics.reply_abandoned)
    metrics.track_queue_depth(poster.depth)
    lookups = MessageLookups(catalog=explainer.catalog, bird=bird, workspaces=config, tasks=tasks)
    explanations = ThreadExplanations(explainer=explainer, bird=bird, workspaces=config)

    # First, so that no listener runs for a replayed interaction.
    replays.register(app, store)
    failure_command.register(app, explainer)
    answer_actions.register(app, explainer, tasks)
    message_command.register(app, lookups)
    alert_events.register(
        app,
        AlertEnricher(
            explanations=explanations,
            workspaces=config,
            store=store,
            poster=poster,
            tasks=tasks,
            repeat_window_seconds=config.enrichment.repeat_window_minutes * 60.0,
            outcomes=metrics,
        ),
    )
    on_demand.register(app, OnDemand(explainer, explanations, lookups, poster, store, tasks))
    alerting = build_alerting(
        config,
        explainer.catalog,
        store,
        slack_token=settings.slack_bot_token.get_secret_value(),
        slack_base_url=settings.slack_api_base_url,
        clock=clock or time.time,
        tick_seconds=alert_tick_seconds,
        redis_url=settings.redis_url.get_secret_value() if settings.redis_url else None,
        redis_prefix=settings.redis_key_prefix,
    )
    if alerting is not None:
        alert_actions.register(app, alerting.engine, tasks)
    runtime = Runtime(
        app=app,
        config=config,
        tasks=tasks,
        bird=bird,
        poster=poster,
        signing_secret=settings.slack_signing_secret,
        metrics=metrics,
        identity=identity,
        alerting=alerting,
        fleet=fleet,
    )
    if fleet is not None:
        # Ready only while Redis answers: a replica that cannot share its state should not take traffic.
        runtime.add_readiness_check("redis", fleet.ready)
    return runtime
