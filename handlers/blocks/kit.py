"""Block Kit primitives that enforce Slack's limits and escape outside text.

Every builder goes through these helpers, so no reply can exceed a limit (it is cut with an
ellipsis instead) and no outside text can become markup (a stored reason must never ping
``@channel`` or render a foreign link).
"""

from __future__ import annotations

import re
from typing import Any

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER_TEXT = 150
MAX_OPTIONS = 100
MAX_ACTION_ID = 255
# Slack rejects messages whose blocks add up to roughly 11-13k characters (undocumented,
# msg_blocks_too_long); stay well below it.
MAX_TOTAL_TEXT = 10_000
MAX_FALLBACK_TEXT = 3000
ELLIPSIS = "…"

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_PARTIAL_TAIL = re.compile(r"(&[a-z]{0,4}|<[^>]*)$")
# A fence inside the text, or backticks at its edges that would join the block's own fences.
_FENCE = re.compile(r"`{3,}|\A`+|`+\Z")


def escape(text: object) -> str:
    """Make outside text inert in mrkdwn: ``&``, ``<`` and ``>`` become entities."""
    return str(text).translate(_ESCAPES)


def truncate(text: str, limit: int) -> str:
    """Cut to ``limit`` characters with an ellipsis, never leaving half an entity or link."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = _PARTIAL_TAIL.sub("", text[: limit - 1])
    return cut + ELLIPSIS


def code_block(text: str, limit: int = 1500) -> str:
    """Outside text shown verbatim in a code block; it cannot close the fence early."""
    inert = _FENCE.sub(lambda fence: "ʼ" * len(fence.group()), text)
    return "```" + (truncate(escape(inert), limit) or " ") + "```"


def link(url: str, label: str) -> str:
    return f"<{escape(url).replace('|', '%7C')}|{escape(label).replace('|', '/')}>"


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit) or " "}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER_TEXT)}


def section(text: str, *, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields(items: list[str]) -> Block:
    return {"type": "section", "fields": [mrkdwn(item, MAX_FIELD_TEXT) for item in items[:MAX_FIELDS]]}


def context(*items: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(item) for item in items[:MAX_CONTEXT_ELEMENTS]]}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, MAX_BUTTON_TEXT),
        "action_id": action_id[:MAX_ACTION_ID],
        "value": value[:MAX_BUTTON_VALUE],
    }
    if style is not None:
        element["style"] = style
    return element


def link_button(text: str, action_id: str, url: str) -> Block:
    """A button that opens ``url``; Slack still sends its click, so a listener must acknowledge it."""
    return {"type": "button", "text": plain(text, MAX_BUTTON_TEXT), "action_id": action_id[:MAX_ACTION_ID], "url": url}


def static_select(placeholder: str, action_id: str, options: list[tuple[str, str]]) -> Block:
    """A menu of (label, value) options; a value is cut rather than rejected, so keep it short."""
    return {
        "type": "static_select",
        "action_id": action_id[:MAX_ACTION_ID],
        "placeholder": plain(placeholder, MAX_PLACEHOLDER_TEXT),
        "options": [
            {"text": plain(label, MAX_OPTION_TEXT), "value": value[:MAX_OPTION_VALUE]}
            for label, value in options[:MAX_OPTIONS]
        ],
    }


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[:MAX_ACTION_ELEMENTS])}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def message(blocks: list[Block], text: str) -> dict[str, Any]:
    """A message payload: blocks within count and size limits, plus fallback text.

    The fallback is plain words (notifications, screen readers), so all of it is escaped here.
    """
    fitted = _fit(blocks)
    return {"blocks": fitted, "text": truncate(escape(text), MAX_FALLBACK_TEXT) or " "}


def _fit(blocks: list[Block]) -> list[Block]:
    """Keep blocks in order until the count or total-text budget runs out; say what was left out."""
    kept: list[Block] = []
    budget = MAX_TOTAL_TEXT
    for index, block in enumerate(blocks):
        size = _text_size(block)
        if (len(kept) == MAX_BLOCKS - 1 and index < len(blocks) - 1) or size > budget:
            left = len(blocks) - index
            kept.append(context(f"{ELLIPSIS} {left} more block{'s' if left != 1 else ''} not shown"))
            break
        kept.append(block)
        budget -= size
    return kept


def _text_size(node: Any) -> int:
    if isinstance(node, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_size(v) for k, v in node.items())
    if isinstance(node, list):
        return sum(_text_size(item) for item in node)
    return 0
