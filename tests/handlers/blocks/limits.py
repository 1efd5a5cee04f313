"""Checks a Slack message payload against Slack's limits and against foreign markup.

The numbers are Slack's (Block Kit reference), written out here on purpose rather than
imported from ``handlers.blocks.kit``: a wrong constant in the kit must fail these checks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from catalog import default_catalog

SLACK_MAX_BLOCKS = 50
SLACK_MAX_HEADER_TEXT = 150
SLACK_MAX_SECTION_TEXT = 3000
SLACK_MAX_FIELDS = 10
SLACK_MAX_FIELD_TEXT = 2000
SLACK_MAX_CONTEXT_ELEMENTS = 10
SLACK_MAX_CONTEXT_TEXT = 3000
SLACK_MAX_ACTION_ELEMENTS = 25
SLACK_MAX_BUTTON_TEXT = 75
SLACK_MAX_BUTTON_VALUE = 2000
SLACK_MAX_ACTION_ID = 255
SLACK_MAX_BLOCK_ID = 255
# Undocumented cumulative limit (msg_blocks_too_long); one report saw it at about 11.3k characters.
SLACK_MAX_TOTAL_TEXT = 11_000
SLACK_MAX_FALLBACK_TEXT = 40_000

# Keys whose values Slack never renders: matching buttons, not showing them.
_UNRENDERED_KEYS = frozenset({"value", "action_id", "block_id", "type", "style", "emoji"})
# Markup the builder writes itself: a labelled link, or the mention of whoever shared the answer.
_OWN_MARKUP = re.compile(r"<(https://[^\s<>|]+)\|[^<>|]*>|<@[A-Z0-9]+>")


def assert_within_slack_limits(payload: dict[str, Any]) -> None:
    """Fail with a readable message if ``payload`` would be rejected (or cut) by Slack."""
    assert set(payload) >= {"blocks", "text"}, f"payload keys: {sorted(payload)}"
    text = payload["text"]
    assert isinstance(text, str), f"fallback text is {text!r}"
    assert text.strip(), f"fallback text is empty: {text!r}"
    assert len(text) <= SLACK_MAX_FALLBACK_TEXT
    blocks = payload["blocks"]
    assert isinstance(blocks, list), f"blocks are {blocks!r}"
    assert blocks, "no blocks"
    assert len(blocks) <= SLACK_MAX_BLOCKS, f"{len(blocks)} blocks"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"duplicate block_id in {block_ids}"
    for index, block in enumerate(blocks):
        _check_block(block, f"blocks[{index}]")
    total = sum(len(s) for s in _text_strings(blocks))
    assert total <= SLACK_MAX_TOTAL_TEXT, f"blocks hold {total} characters of text"


def _check_block(block: dict[str, Any], where: str) -> None:
    kind = block.get("type")
    if "block_id" in block:
        assert 0 < len(block["block_id"]) <= SLACK_MAX_BLOCK_ID, where
    if kind == "header":
        _check_text(block["text"], SLACK_MAX_HEADER_TEXT, f"{where}.text", plain_only=True)
    elif kind == "section":
        assert "text" in block or "fields" in block, f"{where}: section with neither text nor fields"
        if "text" in block:
            _check_text(block["text"], SLACK_MAX_SECTION_TEXT, f"{where}.text")
        if "fields" in block:
            items = block["fields"]
            assert 0 < len(items) <= SLACK_MAX_FIELDS, f"{where}: {len(items)} fields"
            for i, item in enumerate(items):
                _check_text(item, SLACK_MAX_FIELD_TEXT, f"{where}.fields[{i}]")
        if "accessory" in block:
            _check_element(block["accessory"], f"{where}.accessory")
    elif kind == "context":
        elements = block["elements"]
        assert 0 < len(elements) <= SLACK_MAX_CONTEXT_ELEMENTS, f"{where}: {len(elements)} context elements"
        for i, element in enumerate(elements):
            _check_text(element, SLACK_MAX_CONTEXT_TEXT, f"{where}.elements[{i}]")
    elif kind == "actions":
        elements = block["elements"]
        assert 0 < len(elements) <= SLACK_MAX_ACTION_ELEMENTS, f"{where}: {len(elements)} action elements"
        action_ids = [e["action_id"] for e in elements]
        assert len(action_ids) == len(set(action_ids)), f"{where}: duplicate action_id in {action_ids}"
        for i, element in enumerate(elements):
            _check_element(element, f"{where}.elements[{i}]")
    else:
        assert kind == "divider", f"{where}: unexpected block type {kind!r}"


SLACK_MAX_OPTIONS = 100
SLACK_MAX_OPTION_TEXT = 75
SLACK_MAX_OPTION_VALUE = 150
SLACK_MAX_PLACEHOLDER_TEXT = 150
SLACK_MAX_BUTTON_URL = 3000


def _check_element(element: dict[str, Any], where: str) -> None:
    if element["type"] == "static_select":
        _check_select(element, where)
        return
    assert element["type"] == "button", f"{where}: unexpected element {element['type']!r}"
    if "url" in element:
        assert 0 < len(element["url"]) <= SLACK_MAX_BUTTON_URL, f"{where}: url length"
    _check_text(element["text"], SLACK_MAX_BUTTON_TEXT, f"{where}.text", plain_only=True)
    assert 0 < len(element["action_id"]) <= SLACK_MAX_ACTION_ID, f"{where}: action_id length"
    if "value" in element:
        assert len(element["value"]) <= SLACK_MAX_BUTTON_VALUE, f"{where}: value is {len(element['value'])} long"
    if "style" in element:
        assert element["style"] in {"primary", "danger"}, where


def _check_select(element: dict[str, Any], where: str) -> None:
    assert 0 < len(element["action_id"]) <= SLACK_MAX_ACTION_ID, f"{where}: action_id length"
    _check_text(element["placeholder"], SLACK_MAX_PLACEHOLDER_TEXT, f"{where}.placeholder", plain_only=True)
    options = element["options"]
    assert 0 < len(options) <= SLACK_MAX_OPTIONS, f"{where}: {len(options)} options"
    for i, option in enumerate(options):
        _check_text(option["text"], SLACK_MAX_OPTION_TEXT, f"{where}.options[{i}].text", plain_only=True)
        assert 0 < len(option["value"]) <= SLACK_MAX_OPTION_VALUE, f"{where}.options[{i}]: value length"


def _check_text(obj: dict[str, Any], limit: int, where: str, *, plain_only: bool = False) -> None:
    allowed = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    assert obj["type"] in allowed, f"{where}: text type {obj['type']!r}"
    text = obj["text"]
    assert isinstance(text, str), where
    assert text, f"{where}: empty text"  # Slack rejects "", and the kit writes " " for nothing
    assert len(text) <= limit, f"{where}: {len(text)} > {limit} characters"


def _text_strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _text_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_strings(item)


def rendered_strings(payload: dict[str, Any]) -> list[str]:
    """Every string Slack shows to people: block texts and the fallback text, not button values."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _UNRENDERED_KEYS:
                    continue
                if isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return [payload["text"], *walk(payload["blocks"])]


def assert_no_foreign_markup(payload: dict[str, Any], *, mention: str | None = None) -> None:
    """No rendered text may hold a ``<...>`` token the builder did not write from catalog data.

    ``mention`` is the one user the caller asked the builder to mention (who shared or asked).
    """
    for text in rendered_strings(payload):
        assert "<!" not in text, f"special mention in {text!r}"
        for url in _OWN_MARKUP.findall(text):
            assert not url or url in catalog_urls(), f"link to {url!r}, not a catalog docs URL, in {text!r}"
        for token in re.findall(r"<[^>]*>?", _OWN_MARKUP.sub("", text)):
            raise AssertionError(f"foreign markup {token!r} in {text!r}")
        for user in re.findall(r"<@([^>]*)>", text):
            assert user == mention, f"mention of {user!r} in {text!r}"
    # The payload as sent must not carry a channel-wide ping anywhere Slack could render it.
    rendered = json.dumps(rendered_strings(payload), ensure_ascii=False)
    assert "<!" not in rendered


@cache
def catalog_urls() -> frozenset[str]:
    """The only link targets the builder may write: the catalog's own docs URLs."""
    data = default_catalog().data
    return frozenset(
        entry.docs_url for group in (data.codes, data.sources, data.tables, data.platform_codes) for entry in group
    )
