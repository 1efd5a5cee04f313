"""Buttons on alerts built from Bird's webhooks: Snooze, Resolve, and Open in Bird (a link; only acknowledged).

Explain is the catalog's "More" button (``answer_actions``). Each listener acknowledges first and hands
the work on, so Slack's 3 seconds are never at risk.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from .blocks.alert_builder import ACTION_OPEN_IN_BIRD, ACTION_RESOLVE, ACTION_SNOOZE, SNOOZE_HOURS
from .deps import AlertControls, Spawner
from .payload import logged_failures, text_at

_GROUP = re.compile(r"^[0-9a-f]{20}$")
_SNOOZE = re.compile(rf"^(?P<gid>[0-9a-f]{{20}})\|(?P<hours>{'|'.join(map(str, SNOOZE_HOURS))})$")


def register(app: AsyncApp, controls: AlertControls, tasks: Spawner) -> None:
    async def snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        with logged_failures("snooze"):
            match = _SNOOZE.match(text_at(action, "selected_option", "value"))
            if match is not None:
                work = controls.snooze(match["gid"], int(match["hours"]), text_at(body, "user", "id"))
                tasks.spawn(work, name="alert-snooze")

    async def resolve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        with logged_failures("resolve"):
            gid = text_at(action, "value")
            if _GROUP.match(gid):
                tasks.spawn(controls.resolve(gid, text_at(body, "user", "id")), name="alert-resolve")

    async def open_in_bird(ack: AsyncAck) -> None:
        await ack()  # the browser follows the link; Slack still reports the click

    app.action(ACTION_SNOOZE)(snooze)
    app.action(ACTION_RESOLVE)(resolve)
    app.action(ACTION_OPEN_IN_BIRD)(open_in_bird)
