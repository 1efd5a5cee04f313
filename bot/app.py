"""The composition root: builds the Bolt app and everything its listeners need."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from catalog import Catalog, Explainer, default_catalog
from handlers import answer_actions, failure_command

from .settings import Settings
from .tasks import BackgroundTasks


@dataclass
class Runtime:
    """The running bot: the Bolt app plus the collaborators it owns and must close."""

    app: AsyncApp
    explainer: Explainer
    tasks: BackgroundTasks = field(default_factory=BackgroundTasks)

    async def aclose(self) -> None:
        await self.tasks.aclose()


def build_runtime(settings: Settings, *, catalog: Catalog | None = None) -> Runtime:
    explainer = Explainer(catalog or default_catalog())
    tasks = BackgroundTasks()
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_base_url or AsyncWebClient.BASE_URL,
    )
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        # Listeners finish before the HTTP response goes out, so an instant answer rides on the
        # ack itself; anything slow is handed to BackgroundTasks instead of holding the request.
        process_before_response=True,
    )
    failure_command.register(app, explainer)
    answer_actions.register(app, explainer, tasks)
    return Runtime(app=app, explainer=explainer, tasks=tasks)
