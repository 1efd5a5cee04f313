"""handlers.alert_text: flattening real alert payloads, and classifying message events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.scanner import scan
from handlers.alert_text import (
    MAX_TEXT_CHARS,
    alert_text,
    decode_markup,
    is_integration_post,
    is_resolved_notification,
    is_thread_reply,
    message_content,
)
from tests.catalog.test_scanner import ANY_CHAR, make_catalog

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
CATALOG = make_catalog()


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return event


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("alertmanager.json", ["15011"]),  # attachment field value
        ("grafana.json", ["15011", "whatsapp:131047"]),  # attachment title (by name) and text
        ("blockkit.json", ["14001", "0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f"]),  # section field, rich_text
        ("webhook_bot_message.json", ["14001", "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"]),  # text, link target
        ("edited_alert.json", ["15011"]),  # the new content, not previous_message
        ("attachment_blocks.json", ["sms-messagebird:34"]),  # blocks inside an attachment
    ],
)
def test_real_alert_shapes(fixture: str, expected: list[str]) -> None:
    event = load(fixture)
    content = message_content(event)
    assert content is not None
    assert is_integration_post(content)
    assert not is_thread_reply(content)
    hits = scan(CATALOG, alert_text(content), from_integration=is_integration_post(content))
    assert [hit.key for hit in hits] == expected


def test_alertmanager_hit_is_not_in_top_level_text() -> None:
    event = load("alertmanager.json")
    assert "text" not in event
    text = alert_text(event)
    assert "failure_code\n15011" in text
    assert "runbook https://runbooks.example.com/bird" in text
    assert "&gt;" not in text
    assert "> 5%" in text


def test_grafana_parts_in_reading_order() -> None:
    text = alert_text(load("grafana.json"))
    lines = text.split("\n")
    assert lines[0] == "here"  # pretext <!here|here>
    assert lines[1].startswith("[FIRING:1] Bird INVALID_SPAM")
    assert text.count("[FIRING:1]") == 1  # fallback repeats the title: kept once
    assert "alertmanager=grafana&matcher" in text
    assert lines[-1] == "Grafana v11.3.0"


def test_blockkit_rich_text_runs_form_one_line() -> None:
    text = alert_text(load("blockkit.json"))
    assert "Latest failed message: 0D7B6C1E-5F3A-4C2B-9E8D-7A6B5C4D3E2F" in text.split("\n")
    assert "status page https://status.example.com" in text
    assert ":red_circle: Delivery monitor" in text
    assert "*Failure code*\n14001" in text
    assert "trace_id 9f0c1d2e" in text
    assert "Acknowledge" in text


def test_edited_alert_uses_new_content() -> None:
    event = load("edited_alert.json")
    content = message_content(event)
    assert content is event["message"]
    assert "14001" not in alert_text(content)


class TestDecodeMarkup:
    @pytest.mark.parametrize(
        ("markup", "plain"),
        [
            ("<https://x.example/a|the label>", "the label https://x.example/a"),
            ("<https://x.example/a>", "https://x.example/a"),
            ("<mailto:a@b.c|a@b.c>", "a@b.c mailto:a@b.c"),
            ("hi <@U123> and <@U456|alice>", "hi  and alice"),
            ("in <#C123|oncall> and <#C456>", "in oncall and "),
            ("<!here> <!channel|channel> <!subteam^S1|@oncall>", " channel @oncall"),
            ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
            ("a &lt;b&gt; &amp; c", "a <b> & c"),
            ("&amp;lt; stays literal", "&lt; stays literal"),  # &amp; decoded last
            ("&lt;https://x.example|not a link&gt;", "<https://x.example|not a link>"),
            ("unclosed < and > alone", "unclosed < and > alone"),
        ],
    )
    def test_decode(self, markup: str, plain: str) -> None:
        assert decode_markup(markup) == plain


class TestAlertText:
    def test_attachment_fields_in_reading_order(self) -> None:
        message = {
            "text": "top",
            "attachments": [
                {
                    "fallback": "fb",
                    "footer": "foot",
                    "text": "body",
                    "title": "title",
                    "author_name": "author",
                    "pretext": "pre",
                    "fields": [{"title": "k", "value": "v"}],
                }
            ],
        }
        assert alert_text(message).split("\n") == ["top", "pre", "author", "title", "body", "k", "v", "foot", "fb"]

    def test_rich_text_containers(self) -> None:
        block = {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted 15011"}]},
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "pre\nformatted"}]},
                {
                    "type": "rich_text_list",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "item one"}]},
                        {"type": "rich_text_section", "elements": [{"type": "link", "url": "https://u.example"}]},
                    ],
                },
            ],
        }
        assert alert_text({"blocks": [block]}).split("\n") == [
            "quoted 15011",
            "pre",
            "formatted",
            "item one",
            "https://u.example",
        ]

    def test_markdown_and_unknown_blocks_with_text(self) -> None:
        blocks = [{"type": "markdown", "text": "**failure** 15011"}, {"type": "future_block", "text": {"text": "x"}}]
        assert alert_text({"blocks": blocks}) == "**failure** 15011\nx"

    @pytest.mark.parametrize(
        "message",
        [
            {},
            {"text": None, "attachments": None, "blocks": None},
            {"text": 15011, "attachments": "nope", "blocks": {"type": "section"}},
            {"attachments": [None, 1, "x", [], {"fields": [None, {"title": 1, "value": ["15011"]}]}]},
            {"blocks": [{"type": "section", "text": {"text": None}, "fields": "x"}, {"elements": [[[{}]]]}]},
            {"blocks": [{"type": "rich_text_section", "elements": [{"text": 5, "url": None}, "x", None]}]},
            {"blocks": {"type": [], "elements": [{"type": {}}]}},
        ],
    )
    def test_wrong_types_are_skipped(self, message: dict[str, Any]) -> None:
        assert alert_text(message) == ""

    def test_not_a_mapping(self) -> None:
        assert alert_text(None) == ""  # type: ignore[arg-type]
        assert alert_text(["text"]) == ""  # type: ignore[arg-type]

    def test_deep_nesting_is_cut_off(self) -> None:
        node: dict[str, Any] = {"type": "section", "text": "deep 15011"}
        for _ in range(10_000):
            node = {"type": "context", "elements": [node]}
        assert alert_text({"text": "shallow", "blocks": [node]}) == "shallow"

    def test_output_is_capped(self) -> None:
        message = {"text": "a" * 80_000, "attachments": [{"text": "b" * 80_000}, {"text": "never reached"}]}
        text = alert_text(message)
        assert len(text) <= MAX_TEXT_CHARS
        assert text.startswith("a" * 80_000 + "\n" + "b")
        assert "never reached" not in text

    def test_many_tiny_nodes_are_bounded(self) -> None:
        message = {"blocks": [{"type": "context", "elements": [{"text": "x"}] * 1_000}] * 1_000}
        assert alert_text(message) == "x"  # duplicates collapse; the node budget ends the walk


class TestMessageContent:
    @pytest.mark.parametrize("subtype", [None, "bot_message", "thread_broadcast", "file_share"])
    def test_content_carrying_subtypes(self, subtype: str | None) -> None:
        event = {"type": "message", "subtype": subtype, "text": "x", "ts": "1.0"}
        assert message_content(event) is event

    @pytest.mark.parametrize("subtype", ["message_deleted", "channel_join", "message_replied", "channel_topic"])
    def test_other_subtypes(self, subtype: str) -> None:
        assert message_content({"type": "message", "subtype": subtype, "ts": "1.0"}) is None

    def test_unhashable_subtype(self) -> None:
        assert message_content({"subtype": ["bot_message"]}) is None

    @pytest.mark.parametrize("inner", [None, "text", ["x"]])
    def test_message_changed_without_a_message(self, inner: Any) -> None:
        assert message_content({"subtype": "message_changed", "message": inner}) is None


class TestClassification:
    @pytest.mark.parametrize(
        "message",
        [
            {"bot_id": "B1", "user": "U1"},
            {"subtype": "bot_message"},
            {"bot_profile": {"id": "B1"}},
        ],
    )
    def test_integration_posts(self, message: dict[str, Any]) -> None:
        assert is_integration_post(message)

    @pytest.mark.parametrize("message", [{"user": "U1", "text": "hi"}, {"bot_id": None, "bot_profile": None}, {}])
    def test_human_posts(self, message: dict[str, Any]) -> None:
        assert not is_integration_post(message)

    @pytest.mark.parametrize(
        ("message", "reply"),
        [
            ({"ts": "2.0"}, False),
            ({"ts": "2.0", "thread_ts": "2.0"}, False),  # a thread's parent
            ({"ts": "2.0", "thread_ts": "1.0"}, True),
            ({"ts": "2.0", "thread_ts": "1.0", "subtype": "thread_broadcast"}, True),
            ({"ts": "2.0", "subtype": "thread_broadcast"}, True),
        ],
    )
    def test_thread_replies(self, message: dict[str, Any], reply: bool) -> None:
        assert is_thread_reply(message) is reply


_SLACK_KEYS = st.sampled_from(
    ["text", "attachments", "blocks", "elements", "fields", "type", "subtype", "message", "title", "value", "url"]
)
_SLACK_TYPES = st.sampled_from(
    ["section", "rich_text", "rich_text_section", "rich_text_list", "link", "context", "message_changed", "bot_message"]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHAR, max_size=50) | _SLACK_TYPES,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(_SLACK_KEYS | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=60,
)


@settings(max_examples=100, deadline=None)
@given(message=_JSON)
def test_never_raises_on_arbitrary_json(message: Any) -> None:
    text = alert_text(message)
    assert isinstance(text, str)
    assert len(text) <= MAX_TEXT_CHARS
    scan(CATALOG, text, from_integration=True)
    content = message_content(message)
    if content is not None:
        is_integration_post(content)
        is_thread_reply(content)


# --- resolved notifications -----------------------------------------------------------------------


def _attachment_post(title: str, text: str = "") -> dict[str, Any]:
    return {
        "subtype": "bot_message",
        "bot_id": "B0X",
        "attachments": [{"title": title, "fallback": title, "text": text}],
    }


def _block_post(*lines: str) -> dict[str, Any]:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": line}} for line in lines]
    return {"bot_id": "B0X", "user": "U0X", "text": "", "blocks": blocks}


@pytest.mark.parametrize(
    "message",
    [
        _attachment_post("[RESOLVED] BirdSendFailures (prod messaging)", "failure.code 15011"),  # Alertmanager
        _attachment_post("[RESOLVED] Bird INVALID_SPAM rate (messaging)", "**Resolved**"),  # Grafana
        _attachment_post("[OK] Bird failures alert", "failure code 15011"),  # Grafana legacy
        _block_post("*Recovered: [P2] Bird message failures*", "failure code 15011"),  # Datadog
        _block_post("*[P1] [Recovered on {host:web-1}] Bird failures*"),  # Datadog, per host
        {"bot_id": "B0PD", "text": ":white_check_mark: Resolved: #4021 Bird failure.code 15011 spike"},  # PagerDuty
        {
            "bot_id": "B0PD",
            "text": "Bird failure.code 15011 spike",
            "blocks": [_block_post("Resolved by Dave")["blocks"][0]],
        },
        {"bot_id": "B0OG", "text": "Alert closed by Erin: MessageBird INVALID_SPAM above threshold"},  # Opsgenie
        _block_post("CloudWatch Alarm | bird-failures | eu-west-1", "State changed from ALARM to OK"),  # AWS Chatbot
        {"bot_id": "B0SNS", "text": 'OK: "bird-failures-15011" in EU (Ireland)'},  # SNS subject
        {"bot_id": "B0X", "text": ":large_green_circle: *RESOLVED* BirdSendFailures failure.code 15011"},
        {"bot_id": "B0OG", "text": "Opsgenie: Alert #123 closed: Bird failure code 15011"},
        {"bot_id": "B0DD", "text": "Datadog: Recovered: Bird failures on checkout-api"},
        {"bot_id": "B0X", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "✅ Resolved: Bird"}}]},
    ],
)
def test_resolved_notifications(message: dict[str, Any]) -> None:
    assert is_resolved_notification(message)


@pytest.mark.parametrize(
    "message",
    [
        _attachment_post("[FIRING:1] BirdSendFailures (prod messaging)", "failure.code 15011"),
        _attachment_post("[FIRING:1, RESOLVED:1] BirdSendFailures", "*Alerts Resolved:*\n- Resolved: 5m ago"),
        _block_post("*Triggered: [P2] Bird message failures*", "resolved automatically once the balance is topped up"),
        _block_post("CloudWatch Alarm | bird-failures | eu-west-1", "State changed from OK to ALARM"),
        {"user": "U0HUMAN", "text": "how do we get INVALID_SPAM resolved? 15011 again"},
        {"user": "U0HUMAN", "text": "ok so Bird failure code 15011 is back"},
        {"bot_id": "B0X", "text": "Bird failure code 15011; closed loop retry disabled"},
        {"bot_id": "B0X", "text": "*Triggered:* Bird failure.code 15011 (was resolved yesterday)"},
        {"bot_id": "B0X", "text": "Bird failure code 15011 — not resolved since 09:00"},
        {"user": "U0HUMAN", "text": "Closed the ticket but Bird failure code 15011 again"},
        {"bot_id": "B0X", "text": "Note: resolved by restarting the pod last time. Bird failure code 15011"},
    ],
)
def test_firing_alerts_and_chatter_are_not_resolved_notifications(message: dict[str, Any]) -> None:
    assert not is_resolved_notification(message)


@settings(max_examples=100, deadline=None)
@given(st.text(ANY_CHAR, max_size=400))
def test_resolved_check_never_raises(text: str) -> None:
    is_resolved_notification({"text": text, "attachments": [{"title": text}]})


# --- alert_ts and alert_identity (handlers.alert_events) ---


def test_an_edit_replies_in_the_thread_of_the_alert_it_changed() -> None:
    from handlers.alert_events import alert_ts

    changed: dict[str, Any] = {"subtype": "message_changed", "ts": "2.0", "previous_message": {"ts": "1.0"}}
    assert alert_ts(changed, {"ts": "1.0"}) == "1.0"
    assert alert_ts(changed, {}) == "1.0"
    assert alert_ts({"subtype": "message_changed", "ts": "2.0"}, {}) == ""  # never the edit's own ts
    plain = {"ts": "3.0"}
    assert alert_ts(plain, plain) == "3.0"


def test_a_lone_surrogate_does_not_stop_an_alerts_identity() -> None:
    from handlers.alert_events import alert_identity

    assert alert_identity("\ud800 firing 15011") == alert_identity("\ud800 firing 15012")
