"""Explainer.explain: every query form a user can type or paste, and what it resolves to."""

from __future__ import annotations

import json

import pytest

from catalog import Catalog, Explainer
from catalog.answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    FamilyAnswer,
    MatchesAnswer,
    NotFoundAnswer,
    PlatformCodeAnswer,
    SourceAnswer,
    UsageAnswer,
)
from catalog.loader import normalize_name
from catalog.search import EXAMPLES, MAX_QUERY_LENGTH
from evaluation.score_queries import load_queries

DOCS_FRAGMENT = """"status": "delivery_failed",
 "reason": "details: unknown subscriber; reason: unknown_subscriber; code: 1",
 "direction": "outgoing",
 "details": "unknown_subscriber",
 "failure": {
   "code": 15005,
   "source": {
     "name": "sms-messagebird",
     "code": "1\""""

FAILED_MESSAGE = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "channelId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "status": "delivery_failed",
    "reason": "details: system failure; reason: received_network_error; code: 34",
    "direction": "outgoing",
    "details": "received_network_error",
    "failure": {"code": 15001, "source": {"name": "sms-messagebird", "code": "34"}},
}


def code_of(answer: Answer) -> int:
    assert isinstance(answer, CodeAnswer), answer
    return answer.code.code


# -- exact forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("15011", 15011),
        ("  15011  ", 15011),
        ("INVALID_SPAM", 15011),
        ("invalid_spam", 15011),
        ("invalid spam", 15011),
        ("Invalid-Spam", 15011),
        ("  INVALID   SPAM ", 15011),
        ("OPTEDOUT_RECEIVER", 15016),
        ("BILLING_FALIURE", 12007),
        ("BILLING_FAILURE", 12007),
        ("billing failure", 12007),
    ],
)
def test_code_and_name_forms(explainer: Explainer, query: str, code: int) -> None:
    answer = explainer.explain(query)
    assert code_of(answer) == code
    assert isinstance(answer, CodeAnswer)
    assert answer.family.prefix == code // 1000


def test_code_answer_carries_the_documented_name(explainer: Explainer) -> None:
    answer = explainer.explain("15011")
    assert isinstance(answer, CodeAnswer)
    assert answer.code.name == "INVALID_SPAM"
    assert answer.family.name == "Platform errors"


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("whatsapp", "whatsapp"),
        ("WhatsApp", "whatsapp"),
        ("sms", "sms-messagebird"),
        ("sms-messagebird", "sms-messagebird"),
        ("email", "email-messagebird"),
        ("pre-processing", "pre-processing"),
        ("instagram", "instagram"),
    ],
)
def test_source_forms(explainer: Explainer, query: str, source: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, SourceAnswer)
    assert answer.source.name == source


def test_source_answer_includes_its_code_table(explainer: Explainer) -> None:
    with_table = explainer.explain("whatsapp")
    without_table = explainer.explain("email-messagebird")
    assert isinstance(with_table, SourceAnswer)
    assert isinstance(without_table, SourceAnswer)
    assert with_table.table is not None
    assert with_table.table.id == "whatsapp-cloud"
    assert without_table.table is None


@pytest.mark.parametrize(
    ("query", "source", "table", "code"),
    [
        ("whatsapp 131047", "whatsapp", "whatsapp-cloud", "131047"),
        ("WHATSAPP 131047", "whatsapp", "whatsapp-cloud", "131047"),
        ("whatsapp:131047", "whatsapp", "whatsapp-cloud", "131047"),
        ("131047 whatsapp", "whatsapp", "whatsapp-cloud", "131047"),
        ("sms-messagebird 34", "sms-messagebird", "sms-extended", "34"),
        ("sms 1", "sms-messagebird", "sms-extended", "1"),
        ("instagram 4", "instagram", "messenger", "4"),
        ("facebook 4", "facebook", "messenger", "4"),
    ],
)
def test_source_and_platform_code(explainer: Explainer, query: str, source: str, table: str, code: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, PlatformCodeAnswer)
    assert (answer.source.name, answer.entry.table, answer.entry.code) == (source, table, code)
    assert answer.table.id == table


def test_platform_code_answer_lists_the_usual_bird_codes(explainer: Explainer) -> None:
    answer = explainer.explain("sms 1")
    assert isinstance(answer, PlatformCodeAnswer)
    assert [c.code for c in answer.usual_codes] == [15005]
    whatsapp = explainer.explain("whatsapp 131047")
    assert isinstance(whatsapp, PlatformCodeAnswer)
    assert 14005 in [c.code for c in whatsapp.usual_codes]


@pytest.mark.parametrize("query", ["14xxx", "14XXX", "14***", "14...", "14 xxx", "14 XXX", " 14  xxx "])
def test_family_forms(explainer: Explainer, query: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, FamilyAnswer)
    assert answer.family.prefix == 14
    assert [c.code for c in answer.codes] == [14001, 14002, 14003, 14004, 14005]


def test_unknown_family(explainer: Explainer) -> None:
    answer = explainer.explain("13xxx")
    assert isinstance(answer, NotFoundAnswer)
    assert "13XXX" in answer.message
    assert "11XXX, 12XXX, 14XXX, 15XXX" in answer.message


# -- codes amid other words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "code 15011",
        "error 15011 on whatsapp",
        "why 15011",
        "15011 please",
        "INVALID_SPAM 15011",
        "15011 INVALID_SPAM",
        "got INVALID_SPAM again",
        "what does 15011 mean?",
    ],
)
def test_a_code_among_other_words_is_answered_directly(explainer: Explainer, query: str) -> None:
    assert code_of(explainer.explain(query)) == 15011


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("whatsapp 131047 again", "whatsapp"),
        ("why did whatsapp 131047 happen", "whatsapp"),
        ("error: whatsapp code 131047", "whatsapp"),
        ("what is instagram 4 about", "instagram"),
    ],
)
def test_a_source_and_platform_code_among_other_words_is_answered_directly(
    explainer: Explainer, query: str, source: str
) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, PlatformCodeAnswer), answer
    # The source the user named, not the first one sharing its code table.
    assert answer.source.name == source


def test_a_message_id_among_other_words_is_not_a_second_hit(explainer: Explainer) -> None:
    answer = explainer.explain("message id 3fa85f64-5717-4562-b3fc-2c963f66afa6 failed with 15011")
    assert code_of(answer) == 15011


def test_several_codes_among_other_words_are_listed_first_in_order(explainer: Explainer) -> None:
    answer = explainer.explain("we got 15016 and whatsapp 131047, then 15011 and 15016 again")
    assert isinstance(answer, MatchesAnswer)
    assert answer.query == "we got 15016 and whatsapp 131047, then 15011 and 15016 again"
    queries = [m.query for m in answer.matches]
    assert queries[:3] == ["15016", "whatsapp 131047", "15011"]
    assert [m.kind for m in answer.matches[:3]] == ["code", "platform_code", "code"]
    assert len(queries) == len(set(queries))
    assert len(queries) <= 5
    for match in answer.matches:
        assert explainer.explain(match.query).kind == match.kind, match


def test_several_hits_keep_the_source_the_user_named(explainer: Explainer) -> None:
    answer = explainer.explain("instagram 4 and 15011")
    assert isinstance(answer, MatchesAnswer)
    first = answer.matches[0]
    assert (first.kind, first.query, first.label) == ("platform_code", "instagram 4", "instagram 4")
    opened = explainer.explain(first.query)
    assert isinstance(opened, PlatformCodeAnswer)
    assert opened.source.name == "instagram"


def test_words_only_queries_still_go_to_word_search(explainer: Explainer) -> None:
    # No code, name or source + code pair: the scanner finds nothing and word ranking decides.
    answer = explainer.explain("opted out")
    assert isinstance(answer, MatchesAnswer)
    assert answer.matches[0].query == "15016"


# -- free words ranked -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("opted out", "15016"),
        ("24 hour window", "14005"),
        ("24-hour window", "14005"),
        ("balance", "14001"),
    ],
)
def test_word_ranking_puts_the_best_entry_first(explainer: Explainer, query: str, first: str) -> None:
    answer = explainer.explain(query)
    if isinstance(answer, MatchesAnswer):
        queries = [m.query for m in answer.matches]
        assert queries[0] == first, queries
        assert len(queries) == len(set(queries))
        assert len(queries) <= 5
    else:
        assert code_of(answer) == int(first)


def test_opted_out_lists_the_whatsapp_marketing_opt_out_after_the_bird_code(explainer: Explainer) -> None:
    answer = explainer.explain("opted out")
    assert isinstance(answer, MatchesAnswer)
    assert answer.query == "opted out"
    assert answer.matches[0].kind == "code"
    assert "whatsapp 131050" in [m.query for m in answer.matches]


def test_every_match_opens_its_own_entry(explainer: Explainer) -> None:
    answer = explainer.explain("24 hour window")
    assert isinstance(answer, MatchesAnswer)
    for match in answer.matches:
        opened = explainer.explain(match.query)
        assert opened.kind == match.kind, match
        if isinstance(opened, CodeAnswer):
            assert match.label == f"{opened.code.code} {opened.code.name}"


def test_a_word_that_names_one_entry_clearly_answers_it_directly(explainer: Explainer) -> None:
    answer = explainer.explain("unknown subscriber")
    assert code_of(answer) == 15005


@pytest.mark.parametrize(
    ("query", "opens"),
    [
        ("customer sent stop", "15016"),
        ("media download error", "whatsapp 131052"),
        ("whatsapp media download failed", "whatsapp 131052"),
        ("scheduled too far ahead", "11002"),
    ],
)
def test_a_single_match_is_the_answer_not_a_list_of_one(explainer: Explainer, query: str, opens: str) -> None:
    answer = explainer.explain(query)
    assert not isinstance(answer, MatchesAnswer)
    assert answer == explainer.explain(opens)


def test_a_single_match_reached_through_a_typo_says_how_it_was_read(explainer: Explainer) -> None:
    answer = explainer.explain("media downlaod error")
    assert isinstance(answer, PlatformCodeAnswer)
    assert answer.entry.code == "131052"
    assert answer.note == "Read “downlaod” as download."


def test_no_labelled_query_is_answered_with_a_list_of_one(explainer: Explainer) -> None:
    lists_of_one = [
        q.query
        for q in load_queries()
        if isinstance(answer := explainer.explain(q.query), MatchesAnswer) and len(answer.matches) == 1
    ]
    assert lists_of_one == []


# -- not found -------------------------------------------------------------------------------------


def test_unknown_code_in_a_family(explainer: Explainer) -> None:
    answer = explainer.explain("15009")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.family is not None
    assert answer.family.prefix == 15
    assert "15XXX" in answer.message
    assert [m.query for m in answer.nearest] == ["15008", "15010", "15007"]


def test_unknown_code_outside_any_family(explainer: Explainer) -> None:
    answer = explainer.explain("13001")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.family is None
    assert "no 13XXX family" in answer.message
    # Codes of another family mean something else: no neighbours rather than misleading ones.
    assert answer.nearest == []


def test_known_source_with_unknown_platform_code(explainer: Explainer) -> None:
    answer = explainer.explain("whatsapp 999999")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.source is not None
    assert answer.source.name == "whatsapp"
    assert "999999" in answer.message
    assert "WhatsApp Cloud API error codes" in answer.message


def test_source_without_a_code_table(explainer: Explainer) -> None:
    answer = explainer.explain("touchpoint 5")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.source is not None
    assert answer.source.name == "touchpoint"
    assert "no code table" in answer.message


def test_digits_only_platform_code_in_exactly_one_table(explainer: Explainer) -> None:
    answer = explainer.explain("131047")
    assert isinstance(answer, PlatformCodeAnswer)
    assert (answer.source.name, answer.entry.code) == ("whatsapp", "131047")


def test_digits_only_platform_code_in_several_tables(explainer: Explainer) -> None:
    answer = explainer.explain("4")
    assert isinstance(answer, MatchesAnswer)
    queries = [m.query for m in answer.matches]
    assert sorted(queries) == ["facebook 4", "whatsapp 4"]
    assert all(m.kind == "platform_code" for m in answer.matches)
    for query in queries:
        assert isinstance(explainer.explain(query), PlatformCodeAnswer)


def test_digits_only_code_in_no_table(explainer: Explainer) -> None:
    answer = explainer.explain("987654")
    assert isinstance(answer, NotFoundAnswer)
    assert "987654" in answer.message
    assert "whatsapp 131047" in answer.message


@pytest.mark.parametrize(
    ("query", "code"), [("INVALID_SPMA", "15011"), ("invalid spma", "15011"), ("OPTEDOUT_RECIEVER", "15016")]
)
def test_typo_suggests_the_close_name(explainer: Explainer, query: str, code: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, NotFoundAnswer)
    assert answer.did_you_mean is not None
    assert answer.did_you_mean.query == code


@pytest.mark.parametrize(
    ("query", "code", "name"),
    [
        ("unkown subscriber", 15005, "UNKNOWN_SUBSCRIBER"),
        ("UNKOWN_SUBSCRIBER", 15005, "UNKNOWN_SUBSCRIBER"),
        ("unknown subscribr", 15005, "UNKNOWN_SUBSCRIBER"),
        ("invalid spamm", 15011, "INVALID_SPAM"),
        ("UNSUPORTED_MEDIA_TYPE", 14004, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_one_letter_slip_in_a_full_name_is_answered_as_that_code(
    explainer: Explainer, query: str, code: int, name: str
) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, CodeAnswer)
    assert answer.code.code == code
    assert answer.note == f"Read “{query}” as {name}."


def test_a_slip_as_close_to_two_names_is_only_a_suggestion(catalog: Catalog) -> None:
    subscriber = catalog.codes[15005]
    # A second name one letter from "UNKOWN_SUBSCRIBER" as well: which one was meant is not clear.
    twin = subscriber.model_copy(update={"code": 15098, "name": "UNKOWN_SUBSCRIBERS", "aliases": []})
    ambiguous = Explainer(Catalog(catalog.data.model_copy(update={"codes": [*catalog.data.codes, twin]})))
    answer = ambiguous.explain("unkown subscriber")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.did_you_mean is not None
    assert answer.did_you_mean.query in {"15005", "15098"}


def test_gibberish_is_not_found_without_a_suggestion(explainer: Explainer) -> None:
    answer = explainer.explain("qwxzv plmkj")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.did_you_mean is None
    assert answer.nearest == []
    assert "qwxzv plmkj" in answer.message


# -- usage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "help", "HELP", "?", "--help", "usage"])
def test_empty_or_help_gives_usage(explainer: Explainer, query: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, UsageAnswer)
    assert answer.problem is None
    assert answer.examples == EXAMPLES


def test_every_usage_example_gives_a_definite_answer(explainer: Explainer) -> None:
    for example in EXAMPLES:
        answer = explainer.explain(example)
        assert not isinstance(answer, NotFoundAnswer | UsageAnswer), (example, answer)


# -- pasted reason and JSON ------------------------------------------------------------------------


def test_structured_reason_is_diagnosed_with_the_sms_table(explainer: Explainer) -> None:
    answer = explainer.explain("details: unknown subscriber; reason: unknown_subscriber; code: 1")
    assert isinstance(answer, DiagnosisAnswer)
    diagnosis = answer.diagnosis
    assert diagnosis.code is not None
    assert diagnosis.code.code == 15005
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "1"
    assert diagnosis.table is not None
    assert diagnosis.table.id == "sms-extended"
    assert diagnosis.reason is not None
    assert diagnosis.reason.reason == "unknown_subscriber"


def test_full_message_json(explainer: Explainer) -> None:
    answer = explainer.explain(json.dumps(FAILED_MESSAGE, indent=2))
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert (d.status_raw, d.code_raw, d.source_raw, d.platform_code_raw) == (
        "delivery_failed",
        15001,
        "sms-messagebird",
        "34",
    )
    assert d.details == "received_network_error"
    assert d.reason is not None
    assert d.reason.details == "system failure"
    assert d.platform_code is not None
    assert d.platform_code.table == "sms-extended"
    assert d.unknown_parts == []


def test_webhook_envelope_json(explainer: Explainer) -> None:
    envelope = {"service": "channels", "event": "sms.outbound", "payload": FAILED_MESSAGE}
    answer = explainer.explain(json.dumps(envelope))
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert (d.status_raw, d.code_raw, d.source_raw, d.platform_code_raw) == (
        "delivery_failed",
        15001,
        "sms-messagebird",
        "34",
    )


def test_bare_failure_object(explainer: Explainer) -> None:
    answer = explainer.explain('{"code": 15011, "source": {"name": "whatsapp", "code": "131047"}}')
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert d.code is not None
    assert d.code.code == 15011
    assert d.source is not None
    assert d.source.name == "whatsapp"
    assert d.platform_code is not None
    assert d.platform_code.code == "131047"
    assert d.status_raw is None


@pytest.mark.parametrize(
    "pasted",
    [
        '{"failure": {"code": 15014, "source": {"name": "whatsapp", "code": "#131047"}}}',
        # A fragment that is not JSON on its own goes through the field patterns instead.
        '"failure": {"code": 15014, "source": {"name": "whatsapp", "code": "#131047"}}, "reason": "x',
    ],
)
def test_pasted_platform_code_with_a_hash_sign(explainer: Explainer, pasted: str) -> None:
    answer = explainer.explain(pasted)
    assert isinstance(answer, DiagnosisAnswer)
    assert answer.diagnosis.platform_code is not None
    assert answer.diagnosis.platform_code.code == "131047"
    assert answer.diagnosis.unknown_parts == []


def test_failure_member_with_numbers_as_numbers(explainer: Explainer) -> None:
    answer = explainer.explain('{"failure": {"code": "15005", "source": {"name": "sms-messagebird", "code": 1}}}')
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert (d.code_raw, d.platform_code_raw) == (15005, "1")
    assert d.platform_code is not None


def test_bird_docs_fragment_is_diagnosed(explainer: Explainer) -> None:
    answer = explainer.explain(DOCS_FRAGMENT)
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert d.code is not None
    assert d.code.code == 15005
    assert d.platform_code is not None
    assert d.platform_code.code == "1"
    assert d.status is not None
    assert d.status.name == "delivery_failed"
    assert d.source is not None
    assert d.source.name == "sms-messagebird"
    assert d.details == "unknown_subscriber"
    assert d.reason is not None
    assert d.reason.reason == "unknown_subscriber"


def test_balanced_fragment_without_braces_is_diagnosed(explainer: Explainer) -> None:
    answer = explainer.explain(
        '"status": "sending_failed", "failure": {"code": 14001, "source": {"name": "accounting"}},'
    )
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert d.code is not None
    assert d.code.code == 14001
    assert d.source is not None
    assert d.source.name == "accounting"
    assert d.status is not None
    assert d.status.failed


def test_fragment_with_escaped_quotes_in_the_reason(explainer: Explainer) -> None:
    answer = explainer.explain('"reason": "(#131047) \\"Re-engagement message\\"", "failure": {"code": 14005')
    assert isinstance(answer, DiagnosisAnswer)
    d = answer.diagnosis
    assert d.reason is not None
    assert d.reason.raw == '(#131047) "Re-engagement message"'
    assert d.code is not None
    assert d.code.code == 14005


@pytest.mark.parametrize("query", ['{"foo": 1}', "[1, 2, 3]", '{"status": "", "failure": null}', '{"hello": "x"}'])
def test_json_with_nothing_useful_gives_usage_with_a_problem(explainer: Explainer, query: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, UsageAnswer)
    assert answer.problem is not None
    assert "JSON" in answer.problem


def test_deeply_nested_json_does_not_crash(explainer: Explainer) -> None:
    answer = explainer.explain("[" * 3000 + "]" * 3000)
    assert isinstance(answer, UsageAnswer)


# -- limits and normalisation ----------------------------------------------------------------------


def test_query_is_capped_at_max_length(explainer: Explainer) -> None:
    # Everything past the cap is ignored: the visible part alone decides the answer.
    answer = explainer.explain("15011" + " " * MAX_QUERY_LENGTH + "and then INVALID_BALANCE")
    assert code_of(answer) == 15011
    long = explainer.explain("x" * (MAX_QUERY_LENGTH * 3))
    assert isinstance(long, NotFoundAnswer)
    assert len(long.query) <= MAX_QUERY_LENGTH
    assert len(long.message) < 300


def test_long_reason_is_cut_at_max_length(explainer: Explainer) -> None:
    answer = explainer.explain("details: " + "a" * (MAX_QUERY_LENGTH * 2))
    assert isinstance(answer, DiagnosisAnswer)
    assert answer.diagnosis.reason is not None
    assert len(answer.diagnosis.reason.raw) == MAX_QUERY_LENGTH


@pytest.mark.parametrize(
    ("text", "name"),
    [("invalid spam", "INVALID_SPAM"), ("  Invalid-Spam!! ", "INVALID_SPAM"), ("a.b/c", "A_B_C"), ("", "")],
)
def test_normalize_name(text: str, name: str) -> None:
    assert normalize_name(text) == name


@pytest.mark.parametrize(
    "query",
    ['"status": " ", "failure": {"code": 15005', '{"status": " ", "failure": {"code": 15005}}'],
)
def test_blank_json_values_are_no_values_in_json_and_in_fragments(explainer: Explainer, query: str) -> None:
    answer = explainer.explain(query)
    assert isinstance(answer, DiagnosisAnswer)
    assert answer.diagnosis.status_raw is None
    assert answer.diagnosis.unknown_parts == []


def test_fragment_with_only_a_blank_status_gives_usage(explainer: Explainer) -> None:
    assert isinstance(explainer.explain('"status": "  ", "failure": {'), UsageAnswer)


@pytest.mark.parametrize("source_code", ["10-2534099", "10-42"])
def test_pasted_json_with_an_unknown_messenger_subcode_falls_back_to_the_bare_code(
    explainer: Explainer, source_code: str
) -> None:
    pasted = (
        '{"status": "delivery_failed", "failure": {"code": 15006,'
        f' "source": {{"name": "facebook", "code": "{source_code}"}}}}}}'
    )
    answer = explainer.explain(pasted)
    assert isinstance(answer, DiagnosisAnswer)
    assert answer.diagnosis.platform_code is not None
    assert answer.diagnosis.platform_code.code == "10"
    assert answer.diagnosis.platform_code_raw == source_code
