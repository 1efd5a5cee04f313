"""answer_message: what a user must see for each answer kind, and buttons that lead back to it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from catalog import Explainer, default_catalog
from catalog.answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    Match,
    MatchesAnswer,
    NotFoundAnswer,
    PlatformCodeAnswer,
    SourceAnswer,
    UsageAnswer,
)
from catalog.diagnosis import Diagnosis
from catalog.labels import OWNER_LABELS, RETRY_LABELS, STAGE_LABELS
from handlers.blocks.failure_builder import (
    ACTION_EXPLAIN,
    ACTION_SHARE,
    answer_message,
    asked_by,
    diagnosis_query,
    shareable_query,
    shared_by,
)
from handlers.blocks.kit import escape

from .limits import assert_no_foreign_markup, assert_within_slack_limits, rendered_strings

REASON = "details: unknown subscriber; reason: unknown_subscriber; code: 1"
CODES_DOCS = "https://docs.bird.com/api/channels-api/message-status-and-interactions/message-failure-codes"
SOURCES_DOCS = "https://docs.bird.com/api/channels-api/message-status-and-interactions/message-failure-sources"


@pytest.fixture(scope="module")
def explainer() -> Explainer:
    return Explainer(default_catalog())


def reply(explainer: Explainer, query: str, *, sharer: str | None = None) -> dict[str, Any]:
    """The private reply, or with ``sharer`` the copy that user shared in the channel."""
    footer = shared_by(sharer) if sharer is not None else None
    payload = answer_message(explainer.explain(query), footer=footer)
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload, mention=sharer)
    return payload


def headers(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "header"]


def sections(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section" and "text" in b]


def contexts(payload: dict[str, Any]) -> list[list[str]]:
    return [[e["text"] for e in b["elements"]] for b in payload["blocks"] if b["type"] == "context"]


def buttons(payload: dict[str, Any], action_id: str | None = None) -> list[dict[str, Any]]:
    found = [b["accessory"] for b in payload["blocks"] if "accessory" in b]
    found += [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    return [b for b in found if action_id is None or b["action_id"] == action_id]


def all_text(payload: dict[str, Any]) -> str:
    return "\n".join(rendered_strings(payload))


def share_button(payload: dict[str, Any]) -> dict[str, Any]:
    (share,) = buttons(payload, ACTION_SHARE)
    assert share["text"]["text"] == "Share in channel"
    assert share["style"] == "primary"
    # It comes last, after everything it shares.
    assert payload["blocks"][-1]["type"] == "actions"
    return share


def assert_share_recreates(explainer: Explainer, payload: dict[str, Any], answer: Answer) -> None:
    value = share_button(payload)["value"]
    assert value == shareable_query(answer)
    assert explainer.explain(value) == answer


# -- a Bird failure code ---------------------------------------------------------------------------


def test_code_answer_shows_everything_a_user_needs(explainer: Explainer) -> None:
    answer = explainer.explain("15011")
    assert isinstance(answer, CodeAnswer)
    code = answer.code
    payload = reply(explainer, "15011")
    assert headers(payload) == ["15011 INVALID_SPAM"]
    text = all_text(payload)
    assert escape(code.title) in text
    assert escape(code.meaning) in text
    causes = next(s for s in sections(payload) if s.startswith("*Likely causes*"))
    assert causes.splitlines()[1:] == [f"• {escape(c)}" for c in code.causes]
    steps = next(s for s in sections(payload) if s.startswith("*What to do now*"))
    assert steps.splitlines()[1:] == [f"{i}. {escape(a)}" for i, a in enumerate(code.actions, 1)]
    assert [
        "15XXX Platform errors",
        f"*{RETRY_LABELS[code.retry]}*: {escape(code.retry_note)}",
        "Who acts: " + ", ".join(OWNER_LABELS[o] for o in code.owners),
    ] in contexts(payload)
    assert [f"<{CODES_DOCS}|Bird docs: message failure codes>"] in contexts(payload)
    related = next(c[0] for c in contexts(payload) if c[0].startswith("Related: "))
    assert "`15016`" in related
    assert "`whatsapp`" in related
    assert payload["text"] == "15011 INVALID_SPAM: Flagged as spam or policy abuse"
    assert_share_recreates(explainer, payload, answer)


@pytest.mark.parametrize("code", sorted(default_catalog().codes))
def test_every_code_renders_its_name_steps_and_share(explainer: Explainer, code: int) -> None:
    answer = explainer.explain(str(code))
    assert isinstance(answer, CodeAnswer)
    payload = reply(explainer, str(code))
    assert headers(payload) == [f"{code} {answer.code.name}"]
    assert f"{len(answer.code.actions)}. " in all_text(payload)
    assert_share_recreates(explainer, payload, answer)


def test_catalog_text_is_escaped(explainer: Explainer) -> None:
    answer = explainer.explain("15011")
    assert isinstance(answer, CodeAnswer)
    risky = answer.code.model_copy(update={"meaning": "A <!channel> & <@U999> ping", "causes": ["x > y"]})
    payload = answer_message(answer.model_copy(update={"code": risky}))
    assert "A &lt;!channel&gt; &amp; &lt;@U999&gt; ping" in all_text(payload)
    assert "• x &gt; y" in all_text(payload)
    assert_no_foreign_markup(payload)


# -- source, platform code, family -----------------------------------------------------------------


def test_source_answer(explainer: Explainer) -> None:
    answer = explainer.explain("whatsapp")
    assert isinstance(answer, SourceAnswer)
    payload = reply(explainer, "whatsapp")
    assert headers(payload) == ["Failure source: whatsapp"]
    text = all_text(payload)
    assert escape(answer.source.what_failed) in text
    assert STAGE_LABELS[answer.source.stage] in text
    assert (
        "<https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes|WhatsApp Cloud API error codes>"
        in text
    )
    assert [f"<{SOURCES_DOCS}|Bird docs: message failure sources>"] in contexts(payload)
    assert "`14005`" in text
    assert_share_recreates(explainer, payload, answer)


def test_source_without_a_code_table(explainer: Explainer) -> None:
    answer = explainer.explain("email-messagebird")
    payload = reply(explainer, "email-messagebird")
    assert "No platform code table applies." in all_text(payload)
    assert_share_recreates(explainer, payload, answer)


def test_platform_code_answer(explainer: Explainer) -> None:
    answer = explainer.explain("whatsapp 131047")
    assert isinstance(answer, PlatformCodeAnswer)
    payload = reply(explainer, "whatsapp 131047")
    assert headers(payload) == ["whatsapp 131047: Re-engagement required"]
    text = all_text(payload)
    assert escape(answer.entry.meaning) in text
    steps = next(s for s in sections(payload) if s.startswith("*What to do now*"))
    assert steps.splitlines()[1:] == [f"{i}. {escape(a)}" for i, a in enumerate(answer.entry.fix, 1)]
    assert f"*{RETRY_LABELS[answer.entry.retry]}*" in text
    assert "Source of this entry: Documented by Meta" in text
    assert "Usually comes with Bird codes: `14005` INVALID_SESSION_WINDOW" in text
    causes = next(s for s in sections(payload) if s.startswith("*Likely causes*"))
    assert causes.splitlines()[1:] == [f"• {escape(c)}" for c in answer.entry.causes]
    assert f": {escape(answer.entry.retry_note or '')}" in text
    assert "Who acts: your team" in text
    assert f"<{answer.entry.docs_url}|" in text
    assert_share_recreates(explainer, payload, answer)


def test_platform_code_wording_follows_its_confidence_label(explainer: Explainer) -> None:
    industry = all_text(reply(explainer, "instagram 10-2534022"))
    assert "Source of this entry: Typical industry meaning, not documented by Bird" in industry
    meta = all_text(reply(explainer, "whatsapp 131050"))
    assert "Source of this entry: Documented by Meta" in meta
    assert "not confirmed by Bird" not in meta


def test_platform_code_shared_from_an_alias_reopens_under_the_source_name(explainer: Explainer) -> None:
    answer = explainer.explain("sms 1")
    payload = reply(explainer, "sms 1")
    assert share_button(payload)["value"] == "sms-messagebird 1"
    assert_share_recreates(explainer, payload, answer)


def test_family_answer(explainer: Explainer) -> None:
    answer = explainer.explain("14xxx")
    payload = reply(explainer, "14xxx")
    assert headers(payload) == ["14XXX: Customer errors"]
    listing = next(s for s in sections(payload) if s.startswith("`14001`"))
    assert listing.splitlines() == [
        "`14001` *INVALID_BALANCE*: Workspace is out of balance",
        "`14002` *INVALID_DESTINATION*: Number can't receive this kind of message",
        "`14003` *INVALID_TEMPLATE*: Template is invalid",
        "`14004` *UNSUPPORTED_MEDIA_TYPE*: Media type not supported by the platform",
        "`14005` *INVALID_SESSION_WINDOW*: Outside the 24-hour session window",
    ]
    assert ["Usually acted on by: your team, the end user"] in contexts(payload)
    assert_share_recreates(explainer, payload, answer)


# -- diagnosis -------------------------------------------------------------------------------------


def test_diagnosis_from_a_reason(explainer: Explainer) -> None:
    answer = explainer.explain(REASON)
    assert isinstance(answer, DiagnosisAnswer)
    payload = reply(explainer, REASON)
    assert headers(payload) == ["15005 UNKNOWN_SUBSCRIBER"]
    text = all_text(payload)
    assert "*What to do now*\n1. " in text
    assert "*Platform code 1* (SMS Platform Extended Error Codes): *EC_UNKNOWN_SUBSCRIBER" in text
    assert (
        "*Reason from the platform*\n• details: `unknown subscriber`\n• reason: `unknown_subscriber`\n• code: `1`"
        in text
    )
    assert payload["text"].startswith("Failure 15005 UNKNOWN_SUBSCRIBER")
    assert_share_recreates(explainer, payload, answer)


def test_diagnosis_from_pasted_json_with_unknown_parts(explainer: Explainer) -> None:
    query = json.dumps(
        {
            "status": "delivery_failed",
            "reason": "Re-engagement <!channel> ```x``` & more",
            "failure": {"code": 15009, "source": {"name": "whatsapp", "code": "999999"}},
        }
    )
    answer = explainer.explain(query)
    payload = reply(explainer, query)
    assert headers(payload) == ["Failure explained"]
    text = all_text(payload)
    assert "*Status:* `delivery_failed`: Failed after the platform took it" in text
    assert "*Failure code 15009* is not in the catalog. Its digits place it in 15XXX Platform errors." in text
    assert "*Platform code:* `999999`" in text
    assert "```Re-engagement &lt;!channel&gt; ʼʼʼxʼʼʼ &amp; more```" in text
    assert ["Not in the catalog: failure code 15009, whatsapp code 999999"] in contexts(payload)
    assert payload["text"] == "Failure code 15009 (not in the catalog)"
    assert_share_recreates(explainer, payload, answer)


def test_diagnosis_with_only_a_status(explainer: Explainer) -> None:
    payload = reply(explainer, '{"status": "delivered"}')
    assert "*Status:* `delivered`: Delivered" in all_text(payload)


def test_empty_diagnosis_says_so() -> None:
    payload = answer_message(DiagnosisAnswer(diagnosis=Diagnosis()))
    assert_within_slack_limits(payload)
    assert "There is no failure to explain" in all_text(payload)


def test_reason_fallback_text_is_escaped(explainer: Explainer) -> None:
    payload = reply(explainer, "details: <!here> now; reason: x <https://evil|click>")
    assert payload["text"].startswith("Failure reason: details: &lt;!here&gt; now")


@pytest.mark.parametrize(
    "reason",
    [
        "details: " + '"' * 1500 + "; reason: unknown_subscriber; code: 1",  # every quote doubles in JSON
        "details: " + "\x01" * 1500 + "; reason: x; code: 1",  # every control character becomes \\u0001
        "details: " + "é" * 3000,
    ],
)
def test_share_value_of_a_long_reason_is_whole_json(explainer: Explainer, reason: str) -> None:
    answer = explainer.explain(reason)
    assert isinstance(answer, DiagnosisAnswer)
    value = share_button(reply(explainer, reason))["value"]
    assert len(value) <= 2000
    shared = json.loads(value)  # cut JSON would be a different (or no) diagnosis
    again = explainer.explain(value)
    assert isinstance(again, DiagnosisAnswer)
    assert again.diagnosis.code_raw == answer.diagnosis.code_raw
    assert again.diagnosis.platform_code_raw == answer.diagnosis.platform_code_raw
    assert again.diagnosis.reason is not None
    assert answer.diagnosis.reason is not None
    assert answer.diagnosis.reason.raw.startswith(again.diagnosis.reason.raw.removesuffix("…"))
    assert shared["reason"] == again.diagnosis.reason.raw


def test_share_value_of_huge_raw_fields_still_fits(explainer: Explainer) -> None:
    query = json.dumps({"status": "x" * 1500, "failure": {"code": 15005, "source": {"name": "y" * 1500, "code": "1"}}})
    value = share_button(reply(explainer, query))["value"]
    assert len(value) <= 2000
    again = explainer.explain(value)
    assert isinstance(again, DiagnosisAnswer)
    assert again.diagnosis.code is not None
    assert again.diagnosis.code.code == 15005


def test_no_share_button_when_the_diagnosis_cannot_fit_a_button() -> None:
    diagnosis = Diagnosis(code_raw=int("9" * 2100))
    assert diagnosis_query(diagnosis) is None
    payload = answer_message(DiagnosisAnswer(diagnosis=diagnosis))
    assert_within_slack_limits(payload)
    assert buttons(payload, ACTION_SHARE) == []


# -- lists of matches, not found, usage ------------------------------------------------------------


def test_matches_rows_each_explain_their_entry(explainer: Explainer) -> None:
    answer = explainer.explain("24 hour window")
    assert isinstance(answer, MatchesAnswer)
    payload = reply(explainer, "24 hour window")
    assert sections(payload)[0] == f"*{len(answer.matches)} entries match “24 hour window”*"
    rows = [b for b in payload["blocks"] if "accessory" in b]
    assert len(rows) == len(answer.matches)
    for row, match in zip(rows, answer.matches, strict=True):
        assert row["text"]["text"] == f"*{escape(match.label)}*\n{escape(match.summary)}"
        assert row["accessory"]["action_id"] == ACTION_EXPLAIN
        assert row["accessory"]["text"]["text"] == "Explain"
        opened = explainer.explain(row["accessory"]["value"])
        assert opened.kind == match.kind
    assert buttons(payload, ACTION_SHARE) == []
    first = explainer.explain(rows[0]["accessory"]["value"])
    assert isinstance(first, CodeAnswer)
    assert first.code.code == 14005


def test_matches_query_is_escaped(explainer: Explainer) -> None:
    payload = answer_message(
        MatchesAnswer(query="<!channel> & co", matches=[Match(kind="code", query="15011", label="15011", summary="s")])
    )
    assert sections(payload)[0] == "*1 entry matches “&lt;!channel&gt; &amp; co”*"
    assert payload["text"] == "1 entry matches “&lt;!channel&gt; &amp; co”"
    assert_no_foreign_markup(payload)


def test_not_found_with_family_and_nearest(explainer: Explainer) -> None:
    payload = reply(explainer, "15009")
    text = all_text(payload)
    assert ":mag: 15009 is not in the catalog." in text
    assert any(c[0].startswith("15XXX Platform errors: ") for c in contexts(payload))
    explains = buttons(payload, ACTION_EXPLAIN)
    assert [b["value"] for b in explains] == ["15008", "15010", "15007"]
    for button in explains:
        answer = explainer.explain(button["value"])
        assert isinstance(answer, CodeAnswer)
        assert str(answer.code.code) == button["value"]
    assert buttons(payload, ACTION_SHARE) == []


def test_did_you_mean_button(explainer: Explainer) -> None:
    payload = reply(explainer, "INVALID_SPMA")
    (row,) = [b for b in payload["blocks"] if b["type"] == "section" and "Did you mean" in b["text"]["text"]]
    assert row["text"]["text"] == "Did you mean *15011 INVALID_SPAM*?"
    assert row["accessory"]["action_id"] == ACTION_EXPLAIN
    answer = explainer.explain(row["accessory"]["value"])
    assert isinstance(answer, CodeAnswer)
    assert answer.code.code == 15011


def test_not_found_without_anything_close_points_at_help(explainer: Explainer) -> None:
    payload = reply(explainer, "qwxzv plmkj")
    assert ["Try `/failure help` for the forms it understands."] in contexts(payload)
    assert buttons(payload) == []


def test_not_found_for_a_source_shows_the_source(explainer: Explainer) -> None:
    payload = reply(explainer, "email-messagebird 5")
    assert any(s.startswith("*Source email-messagebird*: ") for s in sections(payload))


def test_usage(explainer: Explainer) -> None:
    answer = explainer.explain("help")
    assert isinstance(answer, UsageAnswer)
    payload = reply(explainer, "help")
    text = all_text(payload)
    for example in answer.examples:
        assert f"• `/failure {escape(example)}`" in text
    assert payload["text"] == "How to use /failure"
    assert buttons(payload) == []
    assert ":warning:" not in text


def test_usage_with_a_problem(explainer: Explainer) -> None:
    payload = reply(explainer, '{"foo": 1}')
    assert sections(payload)[0].startswith(":warning: That looks like JSON")


def test_not_found_fallback_text_is_escaped() -> None:
    payload = answer_message(NotFoundAnswer(query="q", message="Nothing matches “<!channel>”."))
    assert payload["text"] == "Nothing matches “&lt;!channel&gt;”."
    assert_no_foreign_markup(payload)


# -- shared copies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["15011", "whatsapp", "whatsapp 131047", "14xxx", REASON])
def test_shared_copy_has_no_share_button_and_says_who_shared(explainer: Explainer, query: str) -> None:
    private = reply(explainer, query)
    shared = reply(explainer, query, sharer="U0123ABC")
    assert buttons(private, ACTION_SHARE) != []
    assert buttons(shared, ACTION_SHARE) == []
    assert shared["blocks"][-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "Shared by <@U0123ABC> · via /failure"}],
    }
    # Everything else is the same answer.
    assert shared["blocks"][:-1] == private["blocks"][:-1]
    assert shared["text"] == private["text"]


def test_shared_by_and_asked_by_footers() -> None:
    assert shared_by("U1") == "Shared by <@U1> · via /failure"
    assert shared_by("U1", via="/message") == "Shared by <@U1> · via /message"
    assert asked_by("U1") == "Asked by <@U1>"


@pytest.mark.parametrize("footer", [shared_by, asked_by])
def test_footer_user_cannot_inject_markup(explainer: Explainer, footer: Callable[[str], str]) -> None:
    payload = answer_message(explainer.explain("15011"), footer=footer("U1> <!channel"))
    assert "<!channel" not in json.dumps(payload)
    assert "<@U1&gt; &lt;!channel>" in payload["blocks"][-1]["elements"][0]["text"]


def test_asked_by_copy_has_no_share_button(explainer: Explainer) -> None:
    payload = answer_message(explainer.explain("15011"), footer=asked_by("U0123ABC"))
    assert_within_slack_limits(payload)
    assert_no_foreign_markup(payload, mention="U0123ABC")
    assert buttons(payload, ACTION_SHARE) == []
    assert contexts(payload)[-1] == ["Asked by <@U0123ABC>"]


@pytest.mark.parametrize("query", ["opted out", "15009", "INVALID_SPMA", "help"])
def test_answers_without_a_share_button_still_say_who_shared(explainer: Explainer, query: str) -> None:
    shared = reply(explainer, query, sharer="U0123ABC")
    assert contexts(shared)[-1] == ["Shared by <@U0123ABC> · via /failure"]
