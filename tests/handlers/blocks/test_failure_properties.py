"""Whatever anyone types or pastes, /failure answers within Slack's limits and never relays markup."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog import Explainer, default_catalog
from catalog.answers import Answer, DiagnosisAnswer
from catalog.diagnosis import Diagnosis
from handlers.blocks.failure_builder import ACTION_SHARE, answer_message, asked_by, shareable_query, shared_by

from .limits import assert_no_foreign_markup, assert_within_slack_limits, rendered_strings

EXPLAINER = Explainer(default_catalog())
SHARER = "U0123ABCD"
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MRKDWN_SPECIALS = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<!subteam^S123>",
    "<@U123>",
    "<#C123>",
    "<https://evil|click>",
    "<http://evil>",
    "&",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "```",
    "`",
    "*_~`",
    "|",
]
# Pieces that steer the explainer into each of its paths: codes, names, sources, reasons, JSON.
QUERY_PIECES = [
    "15011",
    "15009",
    "14xxx",
    "INVALID_SPAM",
    "whatsapp",
    "whatsapp 131047",
    "sms",
    " 1",
    "opted out",
    "details: ",
    "reason: ",
    "code: ",
    "; ",
    '"status": "delivery_failed", ',
    '"reason": "',
    '"details": "',
    '"failure": {"code": 15005, ',
    '"source": {"name": "sms-messagebird", "code": "',
    "{",
    "}",
    '"',
    "\\",
    "\n",
    "\x00",
    "é",
    "💥",
    "\u202e",
]
mixed_text = st.lists(
    st.one_of(st.sampled_from(MRKDWN_SPECIALS), st.sampled_from(QUERY_PIECES), st.text(max_size=12)),
    max_size=80,
).map("".join)


def reason_json(reason: str, status: str, source: str) -> str:
    return json.dumps(
        {
            "status": status,
            "reason": reason,
            "details": reason[:50],
            "failure": {"code": 15005, "source": {"name": source, "code": reason[:5]}},
        },
        ensure_ascii=False,
    )


pasted_json = st.builds(reason_json, mixed_text, st.sampled_from(["delivery_failed", "<!here>"]), mixed_text)


def check(query: str) -> None:
    answer = EXPLAINER.explain(query)
    private = answer_message(answer)
    assert_within_slack_limits(private)
    assert_no_foreign_markup(private)
    for footer in (shared_by(SHARER), asked_by(SHARER)):
        public = answer_message(answer, footer=footer)
        assert_within_slack_limits(public)
        assert_no_foreign_markup(public, mention=SHARER)
    for special in ("<!channel>", "<!here", "<@U123>", "<https://evil", "<http://evil", "<#C123>"):
        if special in query:
            assert special not in json.dumps(rendered_strings(private), ensure_ascii=False)


@PROPERTY
@given(st.text(max_size=10_000))
@example("")
@example("<!channel>")
@example("x" * 10_000)
@example("details: " + "<!here|here>" * 600)
def test_any_text_gives_a_valid_inert_reply(query: str) -> None:
    check(query)


@PROPERTY
@given(mixed_text)
@example("<!channel> 15011")
@example("```<!here|here>``` & <@U123> <https://evil|click>")
@example('"reason": "<!channel> *_~`", "failure": {"code": 15011')
@example("details: <!channel>; reason: <https://evil|click>; code: 1")
def test_markup_and_query_forms_mixed(query: str) -> None:
    check(query)


@PROPERTY
@given(pasted_json)
def test_pasted_failure_json(query: str) -> None:
    check(query)


@PROPERTY
@given(st.one_of(mixed_text, pasted_json, st.text(max_size=3000)))
@example("details: unknown subscriber; reason: unknown_subscriber; code: 1")
@example('"status":"\r"0')
@example('"details":"","failure":{"code":00000')
@example("details: " + '"' * 1500 + "; reason: unknown_subscriber; code: 1")
@example(json.dumps({"status": "s" * 1500, "failure": {"code": 15005, "source": {"name": "n" * 1500, "code": "1"}}}))
@example(json.dumps({"failure": {"code": int("9" * 2100)}}))
def test_share_button_recreates_the_answer(query: str) -> None:
    answer = EXPLAINER.explain(query)
    value = shareable_query(answer)
    payload = answer_message(answer)
    shares = [
        element
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == ACTION_SHARE
    ]
    if value is None:
        assert shares == []
        return
    assert [s["value"] for s in shares] == [value]
    again = EXPLAINER.explain(value)
    if isinstance(answer, DiagnosisAnswer) and not carries_whole(value, answer.diagnosis):
        # Text too long for a button is shared cut short; the failure itself still comes back.
        assert isinstance(again, DiagnosisAnswer)
        assert again.diagnosis.code_raw == answer.diagnosis.code_raw
    else:
        # A note says how the typed query was read ("15O11" as 15011); the shared value is the
        # canonical query, which needs none.
        assert without_note(again) == without_note(answer)


def without_note(answer: Answer) -> Answer:
    return answer.model_copy(update={"note": None}) if "note" in type(answer).model_fields else answer


def carries_whole(value: str, diagnosis: Diagnosis) -> bool:
    """True when the shared JSON holds every raw field of the diagnosis uncut."""
    shared = json.loads(value)
    source = shared["failure"]["source"]
    return (shared["status"], shared["reason"], shared["details"], source["name"], source["code"]) == (
        diagnosis.status_raw,
        diagnosis.reason.raw if diagnosis.reason else None,
        diagnosis.details,
        diagnosis.source_raw,
        diagnosis.platform_code_raw,
    )
