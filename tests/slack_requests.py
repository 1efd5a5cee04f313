"""Build Slack requests the way Slack sends them: form or JSON bodies, signed with the signing secret."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
_ids = itertools.count(1)


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def command_body(
    command: str, text: str, *, response_url: str, user: str = "U0ALICE", channel: str = "C0ONCALL"
) -> str:
    return urlencode(
        {
            "token": "deprecated",
            "team_id": "T0TEAM",
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "oncall",
            "user_id": user,
            "user_name": "alice",
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": f"trigger-{next(_ids)}",
            "api_app_id": "A0BIRDWATCH",
        }
    )


def action_body(
    action_id: str,
    value: str,
    *,
    response_url: str,
    user: str = "U0ALICE",
    channel: str = "C0ONCALL",
    ephemeral: bool = True,
    message_ts: str = "1700000000.000100",
    block_id: str = "b1",
) -> str:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0TEAM", "domain": "acme"},
        "user": {"id": user, "username": "alice", "team_id": "T0TEAM"},
        "api_app_id": "A0BIRDWATCH",
        "token": "deprecated",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "trigger_id": f"trigger-{next(_ids)}",
        "channel": {"id": channel, "name": "oncall"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }
    if not ephemeral:
        payload["message"] = {"type": "message", "ts": message_ts, "text": "reply", "user": "UBIRDWATCH"}
    return urlencode({"payload": json.dumps(payload)})


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": "T0TEAM",
            "api_app_id": "A0BIRDWATCH",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": "T0TEAM", "user_id": "UBIRDWATCH", "is_bot": True, "is_enterprise_install": False}
            ],
        }
    )


def shortcut_body(
    message: dict[str, Any],
    *,
    response_url: str,
    callback_id: str = "explain_failure",
    user: str = "U0ALICE",
    channel: str = "C0ONCALL",
) -> str:
    """A message shortcut (``message_action``) on ``message``, as Slack posts it."""
    payload: dict[str, Any] = {
        "type": "message_action",
        "token": "deprecated",
        "action_ts": str(time.time()),
        "team": {"id": "T0TEAM", "domain": "acme"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": "T0TEAM"},
        "channel": {"id": channel, "name": "oncall"},
        "is_enterprise_install": False,
        "callback_id": callback_id,
        "trigger_id": f"trigger-{next(_ids)}",
        "response_url": response_url,
        "message_ts": message.get("ts"),
        "message": message,
    }
    return urlencode({"payload": json.dumps(payload)})
