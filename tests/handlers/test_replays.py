"""The identity of an interaction, which a replay of it shares."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.replays import interaction_key


@pytest.mark.parametrize("kind", ["block_actions", "message_action", "shortcut", "view_submission"])
def test_an_interaction_is_known_by_its_trigger_id(kind: str) -> None:
    assert interaction_key({"type": kind, "trigger_id": "123.456.abc"}) == "interaction:123.456.abc"


def test_without_a_trigger_id_the_action_time_id_and_user_name_it() -> None:
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0ALICE"},
        "actions": [{"action_id": "message_refresh", "action_ts": "1700000000.123456"}],
    }
    assert interaction_key(body) == "interaction:1700000000.123456:message_refresh:U0ALICE"


@pytest.mark.parametrize(
    "body",
    [{"type": "event_callback", "event_id": "Ev1"}, {"command": "/failure", "trigger_id": "1.2.3"}, {}, {"type": 7}],
)
def test_events_and_commands_are_not_interactions(body: dict[str, Any]) -> None:
    assert interaction_key(body) is None
