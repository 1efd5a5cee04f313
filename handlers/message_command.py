"""``/message``: fetch a message from Bird and explain what happened to it.

The command is acknowledged at once with "Looking up…"; the Bird lookup runs in the background
and replaces that note through ``response_url``, so a slow or failing Bird never makes Slack time out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from catalog import Catalog, diagnose_message
from catalog.diagnosis import Diagnosis
from catalog.message import BirdError, FoundMessage

from .blocks.failure_builder import asked_by, shared_by
from .blocks.message_builder import (
    ACTION_MESSAGE_DETAILS,
    ACTION_MESSAGE_REFRESH,
    ACTION_MESSAGE_SHARE,
    MessageRef,
    looking_up,
    lookup_error,
    message_reply,
    refusal,
)
from .deps import MessageSource, Spawner, Workspace, WorkspaceDirectory
from .message_args import MessageQuery, MessageQueryError, parse_message_query
from .payload import logged_failures, text_at

logger = logging.getLogger("birdwatch.message")

NOT_CONFIGURED = (
    "birdwatch has no Bird access key yet. Set BIRD_ACCESS_KEY (and BIRD_WORKSPACE_ID for a default workspace), "
    "or list workspaces in the file named by BIRDWATCH_CONFIG."
)
# A failed lookup always takes the place of the "Looking up…" note or the message it refreshes.
REPLACE: dict[str, Any] = {"replace_original": True}
# A new message only the clicker sees, leaving the clicked one as it is.
PRIVATELY: dict[str, Any] = {"response_type": "ephemeral", "replace_original": False}
UNEXPECTED = "Something went wrong while looking up that message; it has been logged. Try again."


@dataclass(frozen=True)
class MessageLookups:
    """Everything /message and its buttons share: resolving, checking access, fetching, answering."""

    catalog: Catalog
    bird: MessageSource
    workspaces: WorkspaceDirectory
    tasks: Spawner

    def target(self, query: MessageQuery, channel: str, user: str) -> tuple[Workspace, MessageRef] | str:
        """The workspace and message to fetch, or the reason not to fetch anything."""
        if not self.workspaces.configured:
            return NOT_CONFIGURED
        if query.workspace is not None:
            workspace = self.workspaces.resolve(query.workspace)
            if workspace is None:
                return f"I don't know a Bird workspace called `{query.workspace}`. Use its id or a configured alias."
        else:
            workspace = self.workspaces.default_for_channel(channel)
            if workspace is None:
                return "This channel has no default Bird workspace: use `/message <workspace> <message-id>`."
        if not workspace.allows(user):
            return f"You are not allowed to query the Bird workspace *{workspace.label}*."
        return workspace, MessageRef(workspace.id, query.message_id, query.channel_id)

    def answer(
        self,
        respond: AsyncRespond,
        workspace: Workspace,
        ref: MessageRef,
        *,
        fresh: bool = False,
        reveal: bool = False,
        footer: str | None = None,
        privately: bool = False,
        **response: Any,
    ) -> None:
        """Fetch in the background and answer through ``response_url``; every path ends in an answer.
        ``privately`` answers in a new message only the clicker sees, failures included; otherwise a
        failure replaces what the user clicked or typed, and ``response`` says how a success is sent."""
        failure_options = PRIVATELY if privately else REPLACE

        async def work() -> None:
            options = PRIVATELY if privately else response
            try:
                found, diagnosis = await self.fetch(workspace, ref, fresh=fresh)
                reply = message_reply(
                    found,
                    diagnosis,
                    ref,
                    workspace_label=workspace.label,
                    reveal=reveal,
                    details_allowed=self.workspaces.show_details,
                    footer=footer,
                )
            except BirdError as error:
                logger.info("message lookup failed", extra={"kind": error.kind, "status": error.status})
                reply, options = lookup_error(error, ref, workspace.label), failure_options
            except Exception:
                logger.exception("message lookup crashed")
                reply, options = refusal(UNEXPECTED), failure_options
            await respond(**reply, **options)

        self.tasks.spawn(work(), name="message-lookup")

    async def fetch(
        self, workspace: Workspace, ref: MessageRef, *, fresh: bool = False
    ) -> tuple[FoundMessage, Diagnosis]:
        """The message and its diagnosis; raises BirdError when Bird cannot say."""
        key = workspace.access_key.get_secret_value()
        found = await self.bird.get_message(workspace.id, key, ref.message_id, ref.channel_id, fresh=fresh)
        return found, diagnose_message(self.catalog, found.message)

    def target_from_button(self, value: str, user: str) -> tuple[Workspace, MessageRef] | str:
        ref = MessageRef.from_value(value)
        if ref is None:
            return "That button no longer works; run `/message` again."
        workspace = self.workspaces.resolve(ref.workspace_id)
        if workspace is None:
            return "That workspace is no longer configured."
        if not workspace.allows(user):
            return f"You are not allowed to query the Bird workspace *{workspace.label}*."
        return workspace, ref


def register(app: AsyncApp, lookups: MessageLookups) -> None:
    async def message_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        query = parse_message_query(text_at(command, "text"))
        if isinstance(query, MessageQueryError):
            await ack(**refusal(query.problem))
            return
        target = lookups.target(query, text_at(command, "channel_id"), text_at(command, "user_id"))
        if isinstance(target, str):
            # Refused before any request: Bird sees nothing.
            await ack(**refusal(target))
            return
        workspace, ref = target
        await ack(**looking_up(ref, workspace.label))
        lookups.answer(respond, workspace, ref, replace_original=True)

    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        with logged_failures("message button"):
            answer_button(body, action, respond)

    def answer_button(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        user = text_at(body, "user", "id")
        target = lookups.target_from_button(text_at(action, "value"), user)
        if isinstance(target, str):
            lookups.tasks.spawn(respond(**refusal(target), **PRIVATELY), name="message-refused")
            return
        workspace, ref = target
        action_id = text_at(action, "action_id")
        # What the clicked message is (private or seen by the channel) comes from the button's own
        # value, never from Slack's container.is_ephemeral, which the client sends back. Details go
        # to the clicker alone, always in a new message; refreshes of a shown message stay redacted.
        shown = ref.shown
        if action_id == ACTION_MESSAGE_DETAILS and not lookups.workspaces.show_details:
            reply = refusal("Showing receiver details is turned off in birdwatch's configuration.")
            lookups.tasks.spawn(respond(**reply, **PRIVATELY), name="message-refused")
        elif action_id == ACTION_MESSAGE_DETAILS:
            lookups.answer(respond, workspace, ref, reveal=True, privately=True)
        elif action_id == ACTION_MESSAGE_SHARE:
            footer = shared_by(user, via="/message")
            share: dict[str, Any] = {"response_type": "in_channel", "delete_original": not shown}
            lookups.answer(respond, workspace, ref, footer=footer, **share)
        elif shown:
            lookups.answer(respond, workspace, ref, fresh=True, footer=asked_by(user), replace_original=True)
        else:
            lookups.answer(respond, workspace, ref, fresh=True, replace_original=True)

    app.command("/message")(message_command)
    for action_id in (ACTION_MESSAGE_SHARE, ACTION_MESSAGE_REFRESH, ACTION_MESSAGE_DETAILS):
        app.action(action_id)(on_button)
