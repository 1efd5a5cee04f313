"""Block Kit for ``/message``: a fetched message's facts and its failure, redacted by default."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.diagnosis import Diagnosis, time_to_failure
from catalog.ids import canonical_uuid
from catalog.message import BirdError, FoundMessage, Message
from catalog.models import Stage
from catalog.redaction import Redactor, mask_identifier, scrub

from .failure_builder import ACTION_MORE, diagnosis_blocks, diagnosis_text
from .kit import Block, actions, button, code_block, context, escape, fields, header, message, section
from .redacted import redact_texts

ACTION_MESSAGE_SHARE = "message_share"
ACTION_MESSAGE_REFRESH = "message_refresh"
ACTION_MESSAGE_DETAILS = "message_details"
MAX_RECEIVERS = 3
# The header is plain text, where escaping does not apply: only a status that is one plain word goes in it.
_STATUS_WORD = re.compile(r"[a-z][a-z_]{0,39}")

# What the access key's policy must allow, for a 403 answer users can act on.
REQUIRED_RESOURCES = (
    "/workspaces/*/channels",
    "/workspaces/*/channels/*",
    "/workspaces/*/channels/*/messages",
    "/workspaces/*/channels/*/messages/*",
)


@dataclass(frozen=True)
class MessageRef:
    """Which message a button acts on; travels in the button's value as compact JSON. ``shown`` marks
    a button on a message the channel sees (Slack's ``container.is_ephemeral`` is the client's word)."""

    workspace_id: str
    message_id: str
    channel_id: str | None = None
    shown: bool = False

    def to_value(self) -> str:
        data: dict[str, object] = {"w": self.workspace_id, "c": self.channel_id, "m": self.message_id}
        if self.shown:
            data["s"] = 1
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> MessageRef | None:
        """Parse a button value; None unless every id is a UUID (values come back from the client)."""
        try:
            data = json.loads(value)
        except (TypeError, ValueError, RecursionError):  # deep nesting ("[[[[…") raises RecursionError
            return None
        if not isinstance(data, dict):
            return None
        workspace, message_id = canonical_uuid(str(data.get("w", ""))), canonical_uuid(str(data.get("m", "")))
        channel = data.get("c")
        channel_id = canonical_uuid(str(channel)) if channel else None
        if workspace is None or message_id is None or (channel and channel_id is None):
            return None
        return cls(workspace_id=workspace, message_id=message_id, channel_id=channel_id, shown=data.get("s") == 1)


def looking_up(ref: MessageRef, workspace_label: str) -> dict[str, Any]:
    text = f":hourglass_flowing_sand: Looking up message `{ref.message_id}` in *{escape(workspace_label)}*…"
    return message([section(text)], f"Looking up message {ref.message_id}…")


def refusal(problem: str) -> dict[str, Any]:
    """An answer that made no request: bad input, unknown workspace, no access."""
    return message([section(f":warning: {escape(problem)}")], problem)


def message_reply(
    found: FoundMessage,
    diagnosis: Diagnosis,
    ref: MessageRef,
    *,
    workspace_label: str,
    reveal: bool = False,
    details_allowed: bool = True,
    footer: str | None = None,
) -> dict[str, Any]:
    """The answer for a fetched message; customer data only when ``reveal``. A ``footer`` marks a
    copy visible in the channel: always redacted, no buttons."""
    msg = found.message
    reveal = reveal and footer is None
    # Every text from Bird is masked for the receiver's identifiers in any written form, then scrubbed.
    redactor = Redactor.for_message(msg)
    status = msg.status or "unknown"
    blocks: list[Block] = [
        header(f"Message {status}" if _STATUS_WORD.fullmatch(status) else "Message with an unrecognised status"),
        fields(_facts(found, diagnosis, workspace_label, reveal=reveal)),
    ]
    if diagnosis.failed:
        blocks += diagnosis_blocks(diagnosis, reveal=reveal, redact=redactor)
    else:
        blocks.append(section(_not_failed(diagnosis, status)))
        if diagnosis.code_raw is not None or diagnosis.reason is not None:
            blocks += diagnosis_blocks(diagnosis, reveal=reveal, redact=redactor)
    if reveal:
        blocks += _details(msg)
    pinned = ref if ref.channel_id else MessageRef(ref.workspace_id, ref.message_id, found.channel_id, ref.shown)
    if footer is not None:
        blocks.append(context(footer + " · receiver details hidden"))
    else:
        blocks.append(_buttons(pinned, diagnosis, show_details=details_allowed and not reveal))
        blocks.append(context(_privacy_note(reveal, details_allowed, found.from_cache)))
    summary = diagnosis_text(diagnosis, redactor) if diagnosis.failed else ""
    reply = message(blocks, f"Message {msg.id}: {status}. {summary}")
    # A last pass catches the receiver wherever else Bird may have written it (any field, any form).
    return reply if reveal else redact_texts(reply, redactor.known)


def lookup_error(error: BirdError, ref: MessageRef, workspace_label: str) -> dict[str, Any]:
    """A failed lookup, in words the user can act on; transient failures get a Retry button."""
    where = f"workspace *{escape(workspace_label)}*"
    detail = f"\nBird said: `{escape(scrub(error.detail))}`" if error.detail else ""
    texts = {
        "unauthorized": f"Bird rejected the access key for {where} (401). Check the key configured for it.",
        "forbidden": f"The access key for {where} may not read messages (403). Its access policy needs: "
        + ", ".join(f"`{r}`" for r in REQUIRED_RESOURCES)
        + ".",
        "not_found": f"No message `{ref.message_id}` in {where} (404). Check the message id, the workspace"
        + (", and the channel id." if ref.channel_id else "."),
        "rate_limited": f"Bird is rate-limiting requests for {where} (429). birdwatch retried and gave up; "
        "try again in a minute.",
        "unavailable": f"Bird is not available right now for {where}"
        + (f" (HTTP {error.status})" if error.status else "")
        + ". birdwatch retried and gave up.",
        "timeout": f"Bird did not answer in time for {where}. birdwatch retried and gave up.",
        "malformed": f"Bird answered for {where} with something birdwatch could not read.",
        "bad_request": f"Bird refused the request for {where}"
        + (f" (HTTP {error.status})" if error.status else "")
        + ".",
    }
    blocks: list[Block] = [section(f":x: {texts[error.kind]}{detail}")]
    if error.kind in ("rate_limited", "unavailable", "timeout", "malformed"):
        blocks.append(actions(button("Retry", ACTION_MESSAGE_REFRESH, ref.to_value())))
    return message(blocks, texts[error.kind].replace("*", ""))


def _facts(found: FoundMessage, diagnosis: Diagnosis, workspace_label: str, *, reveal: bool) -> list[str]:
    msg = found.message
    plain = f"\n{escape(diagnosis.status.plain)}" if diagnosis.status else ""
    facts = [
        f"*Message*\n`{escape(msg.id)}`",
        f"*Status*\n`{escape(msg.status or 'unknown')}`{plain}",
        f"*Workspace*\n{escape(workspace_label)}",
        f"*Channel*\n`{escape(found.channel_id)}`" + _platform(found, diagnosis),
        f"*Direction*\n{escape(msg.direction or 'unknown')}",
        f"*Receiver*\n{_receivers(msg, reveal=reveal)}",
        f"*Created*\n{_time(msg.created_at)}",
        f"*Last status*\n{_time(msg.last_status_at or msg.updated_at)}",
    ]
    elapsed = time_to_failure(msg)
    if diagnosis.failed and elapsed is not None:
        facts.append(f"*Time to failure*\n{_duration(elapsed)}")
    return facts


def _platform(found: FoundMessage, diagnosis: Diagnosis) -> str:
    """The channel's platform from Bird's channel list, else the platform the failure came from."""
    if found.platform:
        return f"\n{escape(found.platform)}"
    if diagnosis.source is not None and diagnosis.source.stage == Stage.AFTER_HANDOFF:
        return f"\n{escape(diagnosis.source.title)}"
    return ""


def _receivers(msg: Message, *, reveal: bool) -> str:
    contacts = msg.receiver.contacts if msg.receiver else []
    if not contacts:
        return "none given"
    shown = []
    for contact in contacts[:MAX_RECEIVERS]:
        value = contact.identifier_value or contact.platform_address or contact.id or "unknown"
        shown.append(escape(value if reveal else mask_identifier(value, contact.identifier_key)))
    more = len(contacts) - MAX_RECEIVERS
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _not_failed(diagnosis: Diagnosis, status: str) -> str:
    if status == "delivered":
        return ":white_check_mark: *Delivered.* The platform confirmed delivery; there is no failure to explain."
    if diagnosis.status is not None and not diagnosis.status.final:
        return (
            f":hourglass: *Still in progress* (`{escape(status)}`): {escape(diagnosis.status.meaning)} "
            "Press *Refresh* later."
        )
    if diagnosis.status is not None:
        return f"*{escape(diagnosis.status.plain)}*: {escape(diagnosis.status.meaning)}"
    return f"Status `{escape(status)}` is not one birdwatch knows; it is not a failure status. Raw fields are shown."


def _details(msg: Message) -> list[Block]:
    body = msg.body.model_dump(mode="json", by_alias=True, exclude_none=True) if msg.body else None
    lines = ["*Details (only you can see this)*"]
    if msg.reference:
        lines.append(f"Reference: `{escape(msg.reference)}`")
    lines.append("Body:" + (code_block(json.dumps(body, ensure_ascii=False, indent=1)) if body else " none"))
    return [section("\n".join(lines))]


def _buttons(ref: MessageRef, diagnosis: Diagnosis, *, show_details: bool) -> Block:
    value = ref.to_value()
    elements = [
        button("Share in channel", ACTION_MESSAGE_SHARE, value, style="primary"),
        button("Refresh", ACTION_MESSAGE_REFRESH, value),
    ]
    if diagnosis.code is not None:
        elements.append(button(f"Explain {diagnosis.code.code}", ACTION_MORE, str(diagnosis.code.code)))
    if show_details:
        elements.append(button("Show details", ACTION_MESSAGE_DETAILS, value))
    return actions(*elements)


def _privacy_note(reveal: bool, details_allowed: bool, from_cache: bool) -> str:
    if reveal:
        note = "Receiver and body are shown to you only; *Share in channel* shares the redacted version."
    elif details_allowed:
        note = "Receiver masked, body hidden. *Show details* reveals them to you only."
    else:
        note = "Receiver masked, body hidden."
    return note + (" · cached answer, *Refresh* to fetch again" if from_cache else "")


def _time(value: datetime | None) -> str:
    if value is None:
        return "unknown"
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
