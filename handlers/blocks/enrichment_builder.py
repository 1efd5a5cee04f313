"""Block Kit for explanations in threads: compact, one short section per thing found."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from catalog.answers import Answer, CodeAnswer, PlatformCodeAnswer
from catalog.diagnosis import Diagnosis
from catalog.labels import confidence_label
from catalog.message import BirdError, FoundMessage
from catalog.redaction import Redactor, scrub
from catalog.scanner import MAX_HITS

from .failure_builder import ACTION_MORE, diagnosis_text
from .kit import Block, actions, button, context, escape, message, section, static_select

MAX_ITEMS = 5  # in an automatic thread reply: short, nobody asked for it
MAX_ON_DEMAND_ITEMS = MAX_HITS  # when someone asked (shortcut, mention): everything the scanner returns
ACTION_MUTE = "mute_code"
ACTION_SHARE_ITEMS = "share_items"
MUTE_HOURS = (1, 4, 24)


@dataclass(frozen=True)
class CatalogItem:
    """A code or platform code found in an alert, with its catalog answer."""

    key: str
    query: str
    answer: Answer


@dataclass(frozen=True)
class MessageItem:
    """A Bird message id found in an alert, and what looking it up gave."""

    key: str
    message_id: str
    found: FoundMessage | None = None
    diagnosis: Diagnosis | None = None
    error: BirdError | None = None
    refused: bool = False  # the person asking may not query the channel's workspace


Item = CatalogItem | MessageItem


def thread_reply(
    items: list[Item],
    *,
    hidden: int = 0,
    automatic: bool = True,
    shareable: dict[str, Any] | None = None,
    footer: str | None = None,
) -> dict[str, Any]:
    """One compact section per item. ``hidden`` counts what the caller left out; ``automatic`` marks
    an automatic alert reply (Mute here menus), ``shareable`` adds a Share button, ``footer``
    (mrkdwn the caller wrote) a closing context line."""
    blocks = [_section(item) for item in items]
    if hidden > 0:
        hint = ": the *Explain failure* shortcut on the alert lists them all" if automatic else ""
        blocks.append(context(f"+{hidden} more not shown{hint}."))
    if footer is not None:
        blocks.append(context(footer))
    controls = []
    if shareable is not None:
        controls.append(button("Share in channel", ACTION_SHARE_ITEMS, json.dumps(shareable, separators=(",", ":"))))
    if automatic:
        controls += [_mute_menu(item.key) for item in items if isinstance(item, CatalogItem)]
    if controls:
        blocks.append(actions(*controls))
    return message(blocks, _fallback(items))


def mute_notice(key: str, user: str, until: float) -> dict[str, Any]:
    """Who muted which code in this channel, and until when: built from server-side facts alone."""
    when = datetime.fromtimestamp(until, UTC).strftime("%H:%M UTC on %b %d")
    text = f":no_bell: `{escape(key)}` muted in this channel by <@{escape(user)}> until {when}"
    return message([context(text)], f"{key} muted in this channel until {when}")


def _section(item: Item) -> Block:
    if isinstance(item, MessageItem):
        return section(_message_line(item))
    answer = item.answer
    if isinstance(answer, CodeAnswer):
        code = answer.code
        text = f"*{code.code} {code.name}*: {escape(code.meaning)}\n*First:* {escape(code.actions[0])}"
    elif isinstance(answer, PlatformCodeAnswer):
        entry = answer.entry
        text = f"*{answer.source.name} {escape(entry.code)}: {escape(entry.name)}*: {escape(entry.meaning)}"
        text += f"\n*First:* {escape(entry.fix[0])}\n_{confidence_label(entry)}_"
    else:
        text = f"*{escape(item.query)}*"
    return section(text, accessory=button("More", ACTION_MORE, item.query))


def _message_line(item: MessageItem) -> str:
    head = f"*Message* `{escape(item.message_id)}`"
    if item.refused:
        return f"{head}: not looked up; you may not query this channel's default Bird workspace."
    if item.error is not None and item.error.kind == "not_found":
        return f"{head}: Bird has no message with this id in this channel's default workspace."
    if item.error is not None:
        return f"{head}: could not be looked up ({escape(scrub(str(item.error)))}). Try `/message` later."
    if item.found is None or item.diagnosis is None:
        usage = escape(f"/message <workspace> {item.message_id}")  # a bare <workspace> is Slack markup
        return f"{head}: no default Bird workspace for this channel; use `{usage}`."
    # Posted where the channel reads it: the receiver is masked wherever Bird's texts name it.
    redactor = Redactor.for_message(item.found.message)
    status = redactor(item.found.message.status or "unknown")
    if not item.diagnosis.failed:
        return f"{head}: `{escape(status)}`, not a failure."
    code = item.diagnosis.code
    first = f"\n*First:* {escape(code.actions[0])}" if code else ""
    return f"{head}: `{escape(status)}`. {escape(diagnosis_text(item.diagnosis, redactor))}{first}"


def _mute_menu(key: str) -> Block:
    options = [(f"for {hours} h", f"{key}|{hours}") for hours in MUTE_HOURS]
    return static_select(f"Mute {key} here…", f"{ACTION_MUTE}:{key}", options)


def _fallback(items: list[Item]) -> str:
    names = []
    for item in items:
        if isinstance(item, MessageItem):
            names.append(f"message {item.message_id}")
        elif isinstance(item.answer, CodeAnswer):
            names.append(f"{item.answer.code.code} {item.answer.code.name}")
        else:
            names.append(item.query)
    return "Bird failure explained: " + ", ".join(names)
