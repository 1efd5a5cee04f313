"""Parse ``/message`` text: ``[workspace] [channel-id] <message-id>``, ids checked as UUIDs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.ids import canonical_uuid

_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_STRIP = "<>`'\",;()[]"


@dataclass(frozen=True)
class MessageQuery:
    """A validated request; ids are normalised lower-case UUID strings, safe to put in a URL."""

    message_id: str
    workspace: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True)
class MessageQueryError:
    problem: str


USAGE = (
    "Usage: `/message <workspace> <message-id>`, `/message <workspace> <channel-id> <message-id>`, "
    "or `/message <message-id>` in a channel with a default workspace."
)


def parse_message_query(text: str) -> MessageQuery | MessageQueryError:
    words = [w.strip(_STRIP) for w in text[:1000].split()]
    words = [w for w in words if w]
    if not words or words[0].lower() in {"help", "?"}:
        return MessageQueryError(USAGE)
    if len(words) > 3:
        return MessageQueryError(f"That is {len(words)} words; expected at most three. {USAGE}")
    message_id = canonical_uuid(words[-1])
    if message_id is None:
        return MessageQueryError(f"`{words[-1][:80]}` is not a message id (a UUID such as `0d3c9f1e-…`). {USAGE}")
    if len(words) == 1:
        return MessageQuery(message_id=message_id)
    workspace = words[0]
    if not _WORKSPACE.match(workspace):
        return MessageQueryError(f"`{workspace[:80]}` is not a workspace id or alias. {USAGE}")
    if len(words) == 2:
        return MessageQuery(message_id=message_id, workspace=workspace)
    channel_id = canonical_uuid(words[1])
    if channel_id is None:
        return MessageQueryError(f"`{words[1][:80]}` is not a channel id (a UUID). {USAGE}")
    return MessageQuery(message_id=message_id, workspace=workspace, channel_id=channel_id)
