"""Parse ``/message`` text: ``[workspace] [channel-id] <message-id>``, ids checked as UUIDs."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# uuid.UUID alone also takes a sign, underscores, non-ASCII digits and urn: prefixes, and turns them
# into an id the user never typed; only hex digits (hyphens optional, braces allowed) are an id.
_HEX_UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
_UUID = re.compile(rf"{_HEX_UUID}|\{{{_HEX_UUID}\}}")
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
    message_id = as_uuid(words[-1])
    if message_id is None:
        return MessageQueryError(f"`{words[-1][:80]}` is not a message id (a UUID such as `0d3c9f1e-…`). {USAGE}")
    if len(words) == 1:
        return MessageQuery(message_id=message_id)
    workspace = words[0]
    if not _WORKSPACE.match(workspace):
        return MessageQueryError(f"`{workspace[:80]}` is not a workspace id or alias. {USAGE}")
    if len(words) == 2:
        return MessageQuery(message_id=message_id, workspace=workspace)
    channel_id = as_uuid(words[1])
    if channel_id is None:
        return MessageQueryError(f"`{words[1][:80]}` is not a channel id (a UUID). {USAGE}")
    return MessageQuery(message_id=message_id, workspace=workspace, channel_id=channel_id)


def as_uuid(text: str) -> str | None:
    """The canonical form of a UUID, or None; accepts upper case and missing hyphens."""
    if not _UUID.fullmatch(text):
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
