"""Flatten a Slack message into one searchable text, and classify message events.

Alerting tools rarely put their content in ``text``: Alertmanager and Grafana post one
legacy attachment, other tools post Block Kit. ``alert_text`` gathers every place a
human can read and decodes Slack's markup so that codes and ids can be matched.
Everything here is pure and tolerant: payloads come from other integrations, so a field
of the wrong type is skipped, never raised on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

MAX_TEXT_CHARS = 100_000
MAX_DEPTH = 12  # Block Kit nests rich_text about 4 deep; anything deeper is not real content.
MAX_NODES = 5_000  # Slack allows 50 blocks and 100 attachments; this bounds junk payloads.

# Reading order of an attachment: pretext sits above it; fallback repeats the title.
_ATTACHMENT_KEYS = ("pretext", "author_name", "title", "text")
_ATTACHMENT_TAIL_KEYS = ("footer", "fallback")
# Rich text containers whose elements are runs of one line: joined without separators.
_INLINE_CONTAINERS = frozenset({"rich_text_section", "rich_text_preformatted", "rich_text_quote"})
# <target> or <target|label>: a target has no spaces, so "a < b > c" is left alone.
_MARKUP = re.compile(r"<([^<>|\s]+)(?:\|([^<>]*))?>")

_CONTENT_SUBTYPES = frozenset({None, "bot_message", "thread_broadcast", "file_share"})
_NOT_A_STRING = "\0"  # stands in for a wrongly typed "subtype" or "type", which may not even be hashable


def alert_text(message: Mapping[str, Any]) -> str:
    """Everything readable in ``message``: text, attachments and blocks, markup decoded."""
    return "\n".join(_readable_parts(message))


def is_resolved_notification(message: Mapping[str, Any]) -> bool:
    """True when ``message`` announces that an alert stopped: Alertmanager and Grafana ``[RESOLVED]``,
    Grafana's legacy ``[OK]``, Datadog ``Recovered``, PagerDuty ``Resolved``, Opsgenie ``closed``,
    CloudWatch's ``OK`` state. Such a message is never explained: whatever it names was explained
    when it fired, if it was worth explaining. A message that also says something is firing
    (a group with firing and resolved alerts) is not a resolved notification."""
    heads = [part[:_HEAD_CHARS] for part in _readable_parts(message)]
    if any(_FIRING.search(head) for head in heads):
        return False
    return any(_RESOLVED.search(head) for head in heads)


# Only the start of each readable part is read: titles, pretexts and the first lines of text.
_HEAD_CHARS = 600
# Bold, quotes, bullets, emoji codes and the tool's name before a marker.
_LINE_START = (
    r"(?m:^)[^\w\[]{0,6}(?::[\w+-]+:[^\w\[]{0,4})*"
    r"(?:(?i:datadog|grafana|pagerduty|opsgenie|alertmanager|sentry|cloudwatch|aws chatbot|prometheus)\W{1,3})?"
)
_RESOLVED = re.compile(
    _LINE_START + r"(?:\[(?i:resolved)(?::\d+)?\]|\[OK\]|(?:\[P\d\]\s*)?\[?(?i:recovered)\b|(?:RESOLVED|CLOSED)\b"
    r"|(?i:resolved|closed)(?:\s*[:|\u2013-]|\s+by\b|\W*(?m:$))|OK:\s|(?i:status)\W{0,3}(?i:resolved|closed|recovered|ok)\b)"
    r"|(?i:state)\W{0,3}(?:(?i:changed)\s+)?(?:(?i:from)\s+\w+\s+)?(?i:to)\s+OK\b|NewStateValue\W{0,4}OK\b"
    r"|\b(?i:alert|incident|issue)\s+(?:#?[\w-]+\s+)?(?:(?i:was|has\s+been)\s+)?(?:(?i:marked\s+as)\s+)?"
    r"(?i:closed|resolved)\b"
)
_FIRING = re.compile(
    r"\[(?i:firing)\b|\[Alerting\]|(?:^|\s)ALARM:|(?i:state)\W{0,3}(?:(?i:changed)\s+)?(?:(?i:from)\s+\w+\s+)?"
    r"(?i:to)\s+ALARM\b|NewStateValue\W{0,4}ALARM\b|" + _LINE_START + r"(?:\[P\d\]\s*)?\[?(?i:triggered|re-triggered)\b"
)


def _readable_parts(message: Mapping[str, Any]) -> list[str]:
    collector = _Collector()
    if isinstance(message, Mapping):
        collector.add(message.get("text"))
        collector.add_blocks(message.get("blocks"))
        for attachment in collector.mappings(message.get("attachments")):
            for key in _ATTACHMENT_KEYS:
                collector.add(attachment.get(key))
            for field in collector.mappings(attachment.get("fields")):
                collector.add(field.get("title"))
                collector.add(field.get("value"))
            collector.add_blocks(attachment.get("blocks"))
            for key in _ATTACHMENT_TAIL_KEYS:
                collector.add(attachment.get(key))
    return collector.parts


def message_content(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The message a ``message`` event carries, or None when it carries no new content.

    For ``message_changed`` that is the edited message under ``event["message"]``; it
    has the original ``ts`` but usually no ``channel``, so take the channel from the event.
    """
    if not isinstance(event, Mapping):
        return None
    subtype = _str_or_none(event.get("subtype"))
    if subtype == "message_changed":
        edited = event.get("message")
        return edited if isinstance(edited, Mapping) else None
    return event if subtype in _CONTENT_SUBTYPES else None


def is_integration_post(message: Mapping[str, Any]) -> bool:
    """True when a bot, app or incoming webhook posted ``message``."""
    if not isinstance(message, Mapping):
        return False
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message" or bool(message.get("bot_profile"))


def is_thread_reply(message: Mapping[str, Any]) -> bool:
    """True for replies inside a thread, including ones also sent to the channel."""
    if not isinstance(message, Mapping):
        return False
    if message.get("subtype") == "thread_broadcast":
        return True
    thread_ts = message.get("thread_ts")
    return thread_ts is not None and thread_ts != message.get("ts")


def decode_markup(text: str) -> str:
    """Slack mrkdwn to plain text: ``<url|label>`` -> ``label url``, mentions -> label, entities decoded."""
    return _MARKUP.sub(_replace_markup, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _str_or_none(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else _NOT_A_STRING


def _replace_markup(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#", "!")):  # user, channel, <!here>, <!subteam^…>, <!date^…>
        return label or ""
    return f"{label} {target}" if label else target


class _Collector:
    """Accumulates decoded text pieces within the size and effort budgets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._size = 0
        self._nodes = 0
        self._seen: set[str] = set()

    def add(self, value: object) -> None:
        if not isinstance(value, str) or not value or value in self._seen or self._size >= MAX_TEXT_CHARS:
            return
        self._seen.add(value)
        room = MAX_TEXT_CHARS - self._size
        piece = decode_markup(value[:room])[:room]
        self.parts.append(piece)
        self._size += len(piece) + 1

    def mappings(self, value: object) -> Iterator[Mapping[str, Any]]:
        """The dict items of a list, while the node budget lasts."""
        if isinstance(value, list | tuple):
            for item in value:
                if not self._visit():
                    return
                if isinstance(item, Mapping):
                    yield item

    def add_blocks(self, blocks: object) -> None:
        self._walk(blocks, depth=0)

    def _visit(self) -> bool:
        self._nodes += 1
        return self._nodes <= MAX_NODES and self._size < MAX_TEXT_CHARS

    def _walk(self, node: object, depth: int) -> None:
        """Any block or element: its text, its fields and its nested elements."""
        if depth > MAX_DEPTH:
            return
        if isinstance(node, list | tuple):
            for item in node:
                if not self._visit():
                    return
                self._walk(item, depth + 1)
            return
        if not isinstance(node, Mapping):
            return
        kind = _str_or_none(node.get("type"))
        if kind in _INLINE_CONTAINERS:
            self.add(self._inline(node.get("elements")))
            return
        text = node.get("text")
        if isinstance(text, str):
            self.add(text)
        else:
            self._walk(text, depth + 1)  # a text object: {"type": "mrkdwn", "text": "…"}
        if kind == "link":
            self.add(node.get("url"))
        self._walk(node.get("fields"), depth + 1)
        self._walk(node.get("elements"), depth + 1)

    def _inline(self, elements: object) -> str:
        """One line of rich text: its styled runs, links and code spans form one sentence."""
        runs: list[str] = []
        length = 0
        for element in self.mappings(elements):
            if length >= MAX_TEXT_CHARS:
                break
            run = " ".join(part for part in (element.get("text"), element.get("url")) if isinstance(part, str))
            runs.append(run[:MAX_TEXT_CHARS])
            length += len(runs[-1])
        return "".join(runs)
