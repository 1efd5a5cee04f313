"""The sourced platform tables: SMS, LINE, Apple, email (SparkPost, SMTP) and voice (SIP, Q.850).

Every entry is complete and sourced, codes have the shape their table allows, lookups through a
source reach the right table, the confidence names the real authority, and the corrections made
against the platforms' own documentation hold.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from catalog import Explainer, default_catalog
from catalog.answers import NotFoundAnswer, PlatformCodeAnswer
from catalog.models import CodeTable, Confidence, PlatformCode, Retry

CATALOG = default_catalog()
TABLES = (
    "sms-extended",
    "line",
    "apple-messages",
    "email-bounce-classes",
    "smtp-status",
    "voice-sip",
    "voice-q850",
)
ENTRIES = [entry for entry in CATALOG.data.platform_codes if entry.table in TABLES]
IDS = [f"{entry.table}/{entry.code}" for entry in ENTRIES]
COUNTS = {
    "sms-extended": 35,
    "line": 10,
    "apple-messages": 7,
    "email-bounce-classes": 21,
    "smtp-status": 24,
    "voice-sip": 17,
    "voice-q850": 28,
}

# SparkPost's bounce classes and their categories, from its "Bounce Classification Codes" page;
# 26 (Smart Send Suppression, admin) appears in later copies of the table such as Airship's.
SPARKPOST_CLASSES = {
    1: "undetermined",
    10: "hard",
    20: "soft",
    21: "soft",
    22: "soft",
    23: "soft",
    24: "soft",
    25: "admin",
    26: "admin",
    30: "hard",
    40: "soft",
    50: "block",
    51: "block",
    52: "block",
    53: "block",
    54: "block",
    60: "soft",
    70: "soft",
    80: "admin",
    90: "hard",
    100: "soft",
}
# The SMS codes Bird's extended-codes page names under a status reason or in its example.
BIRD_DOCUMENTED_SMS = {"1", "2", "3", "5", "8", "9", "10", "11", "12", "27", "31", "34"}
# Who documents the meaning, per table (SMS and LINE vary per entry and are checked on their own).
AUTHORITIES = {
    "email-bounce-classes": (Confidence.PLATFORM, {"SparkPost"}),
    "smtp-status": (Confidence.STANDARD, {"RFC 3463", "RFC 7372", "RFC 7505"}),
    "voice-sip": (Confidence.STANDARD, {"RFC 3261"}),
    "voice-q850": (Confidence.STANDARD, {"ITU-T Q.850"}),
    "apple-messages": (Confidence.INDUSTRY, {"RFC 9110"}),
}


def entry(table: str, code: str) -> PlatformCode:
    return CATALOG.platform_codes[(table, code)]


def is_https_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme == "https" and bool(parts.netloc) and " " not in text


# -- every entry complete and sourced ---------------------------------------------------------------


def test_each_table_has_its_entries() -> None:
    counts = {table: sum(1 for e in ENTRIES if e.table == table) for table in TABLES}
    assert counts == COUNTS


@pytest.mark.parametrize("item", ENTRIES, ids=IDS)
def test_every_field_is_filled(item: PlatformCode) -> None:
    missing = [
        name
        for name in ("causes", "fix", "retry_note", "owners", "usual_codes", "authority", "docs_url", "sources")
        if not getattr(item, name)
    ]
    assert not missing, f"{item.table}/{item.code} lacks {missing}"
    assert item.checked is not None
    assert item.keywords


@pytest.mark.parametrize("item", ENTRIES, ids=IDS)
def test_links_are_https_and_checked_dates_are_not_in_the_future(item: PlatformCode) -> None:
    assert item.docs_url is not None
    for url in (item.docs_url, *item.sources):
        assert is_https_url(url), f"{item.table}/{item.code}: {url!r}"
    assert item.checked is not None
    assert item.checked <= date.today()


@pytest.mark.parametrize("table", [CATALOG.tables[t] for t in TABLES], ids=TABLES)
def test_tables_are_sourced_and_checked(table: CodeTable) -> None:
    assert table.sources
    assert all(is_https_url(url) for url in (table.docs_url, *table.sources))
    assert table.checked is not None
    assert table.checked <= date.today()


@pytest.mark.parametrize("item", ENTRIES, ids=IDS)
def test_usual_codes_exist_and_are_not_repeated(item: PlatformCode) -> None:
    assert all(code in CATALOG.codes for code in item.usual_codes)
    assert len(set(item.usual_codes)) == len(item.usual_codes)


# -- shapes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("item", [e for e in ENTRIES if e.table == "voice-sip"], ids=str)
def test_sip_codes_are_final_responses(item: PlatformCode) -> None:
    assert re.fullmatch(r"[3-6][0-9]{2}", item.code)
    assert 300 <= int(item.code) <= 699


@pytest.mark.parametrize("item", [e for e in ENTRIES if e.table == "voice-q850"], ids=str)
def test_q850_codes_are_cause_values(item: PlatformCode) -> None:
    assert re.fullmatch(r"[1-9][0-9]{0,2}", item.code)
    assert 1 <= int(item.code) <= 127


@pytest.mark.parametrize("item", [e for e in ENTRIES if e.table == "smtp-status"], ids=str)
def test_smtp_codes_are_enhanced_status_codes(item: PlatformCode) -> None:
    # RFC 3463: class 2, 4 or 5; subject and detail up to three digits each, no leading zeros.
    assert re.fullmatch(r"[245]\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})", item.code)
    assert item.code.startswith(("4.", "5.")), "a success status is no failure"


def test_bounce_classes_are_sparkposts_and_all_of_them() -> None:
    codes = {int(e.code) for e in ENTRIES if e.table == "email-bounce-classes"}
    assert codes == set(SPARKPOST_CLASSES)


@pytest.mark.parametrize("item", [e for e in ENTRIES if e.table == "email-bounce-classes"], ids=str)
def test_bounce_classes_name_their_sparkpost_group(item: PlatformCode) -> None:
    group = SPARKPOST_CLASSES[int(item.code)]
    assert item.name.endswith(f"({group} bounce)" if group != "undetermined" else "(undetermined group)")


# -- authority and honesty --------------------------------------------------------------------------


@pytest.mark.parametrize("item", [e for e in ENTRIES if e.table in AUTHORITIES], ids=str)
def test_confidence_names_the_real_authority(item: PlatformCode) -> None:
    confidence, authorities = AUTHORITIES[item.table]
    assert item.confidence == confidence
    assert item.authority in authorities


@pytest.mark.parametrize("table", ["email-bounce-classes", "smtp-status", "voice-sip", "voice-q850"])
def test_email_and_voice_tables_say_bird_does_not_document_them(table: str) -> None:
    assert "Bird does not document" in CATALOG.tables[table].name
    assert CATALOG.tables[table].used_by == ["voice" if table.startswith("voice") else "email-messagebird"]


def test_sms_confidence_follows_birds_page_and_gsm_map() -> None:
    sms = [e for e in ENTRIES if e.table == "sms-extended"]
    assert {e.code for e in sms if e.confidence == Confidence.BIRD} == BIRD_DOCUMENTED_SMS
    for item in sms:
        if item.confidence == Confidence.BIRD:
            assert item.authority == "Bird"
        else:
            assert item.confidence == Confidence.INDUSTRY, f"sms {item.code} is not documented by a platform"
            assert item.authority in {"GSM 09.02 MAP", "SMS aggregator error lists"}
    assert entry("sms-extended", "6").authority == "GSM 09.02 MAP"


def test_sms_12_carries_birds_label_and_the_gsm_map_reading() -> None:
    item = entry("sms-extended", "12")
    assert "EC_CALL_BARRED" in item.name
    assert {"EC_CALL_BARRED", "EC_ILLEGAL_EQUIPMENT"} <= set(item.keywords)
    assert item.retry == Retry.NEVER


# -- lookups ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "code", "table", "name"),
    [
        ("email", "5.1.1", "smtp-status", "Bad destination mailbox address"),
        ("email-messagebird", "10", "email-bounce-classes", "Invalid Recipient (hard bounce)"),
        ("email", "4.2.2", "smtp-status", "Mailbox full (temporary)"),
        ("voice", "486", "voice-sip", "Busy Here"),
        ("voice", "16", "voice-q850", "Normal call clearing"),
        ("call", "17", "voice-q850", "User busy"),
    ],
)
def test_platform_code_for_finds_the_entry_in_the_sources_tables(source: str, code: str, table: str, name: str) -> None:
    found = CATALOG.platform_code_for(CATALOG.sources_by_alias[source], code)
    assert found is not None
    assert (found.table, found.name) == (table, name)


def test_codes_of_another_source_are_not_found_through_email_or_voice() -> None:
    assert CATALOG.platform_code_for(CATALOG.sources["email-messagebird"], "486") is None
    assert CATALOG.platform_code_for(CATALOG.sources["voice"], "5.1.1") is None
    assert CATALOG.platform_code_for(CATALOG.sources["line"], "10") is None


@pytest.mark.parametrize(
    ("query", "table", "code"),
    [
        ("email 5.1.1", "smtp-status", "5.1.1"),
        ("email-messagebird 10", "email-bounce-classes", "10"),
        ("5.7.26 email", "smtp-status", "5.7.26"),
        ("voice 486", "voice-sip", "486"),
        ("voice 16", "voice-q850", "16"),
        ("dmarc", "smtp-status", "5.7.26"),
    ],
)
def test_typed_lookups_answer_with_the_entry(query: str, table: str, code: str) -> None:
    answer = Explainer(CATALOG).explain(query)
    assert isinstance(answer, PlatformCodeAnswer), query
    assert (answer.entry.table, answer.entry.code) == (table, code)


@given(
    status=st.tuples(st.sampled_from("245"), st.integers(0, 999), st.integers(0, 999)).map(
        lambda parts: ".".join(map(str, parts))
    ),
    reversed_order=st.booleans(),
)
@example(status="5.1.1", reversed_order=False)
@example(status="4.9.999", reversed_order=True)
def test_any_smtp_shaped_code_is_read_as_an_email_code(status: str, reversed_order: bool) -> None:
    query = f"{status} email" if reversed_order else f"email {status}"
    answer = Explainer(CATALOG).explain(query)
    if ("smtp-status", status) in CATALOG.platform_codes:
        assert isinstance(answer, PlatformCodeAnswer)
        assert answer.entry.code == status
    else:
        assert isinstance(answer, NotFoundAnswer)
        assert answer.source is not None
        assert answer.source.name == "email-messagebird"
        assert status in answer.message


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("mailbox full", {("smtp-status", "4.2.2"), ("smtp-status", "5.2.2"), ("email-bounce-classes", "22")}),
        ("user unknown", {("smtp-status", "5.1.1"), ("email-bounce-classes", "10")}),
        ("blocked by spam filter", {("smtp-status", "5.7.1"), ("email-bounce-classes", "52")}),
        ("dmarc", {("smtp-status", "5.7.26")}),
    ],
)
def test_reply_texts_are_keywords_of_their_entries(words: str, expected: set[tuple[str, str]]) -> None:
    having = {(e.table, e.code) for e in ENTRIES if words in (k.lower() for k in e.keywords)}
    assert expected <= having


# -- corrections against the platforms' documentation ----------------------------------------------


def test_line_500_warns_that_a_blind_resend_can_arrive_twice() -> None:
    item = entry("line", "500")
    assert item.retry != Retry.BACKOFF
    assert item.retry_note is not None
    assert "X-Line-Retry-Key" in item.retry_note
    assert "twice" in item.retry_note
    assert "timeout" in item.keywords


def test_line_404_is_not_presented_as_a_documented_send_answer() -> None:
    item = entry("line", "404")
    assert "declares no 404" in item.meaning
    assert 'Failed to send messages"' in item.meaning
    assert item.retry != Retry.NEVER
    assert "failed to send messages" in entry("line", "400").keywords


def test_line_429_does_not_promise_that_backoff_helps() -> None:
    item = entry("line", "429")
    assert item.retry != Retry.BACKOFF
    assert item.retry_note is not None
    assert "monthly quota" in item.retry_note
    assert "you have reached your monthly limit" in item.keywords


def test_line_409_is_documented_by_line() -> None:
    item = entry("line", "409")
    assert item.confidence == Confidence.PLATFORM
    assert item.authority == "LINE"


@pytest.mark.parametrize("code", ["1", "2", "3", "5", "9", "10", "11", "12", "255"])
def test_permanent_sms_codes_are_never_retried(code: str) -> None:
    assert entry("sms-extended", code).retry == Retry.NEVER


@pytest.mark.parametrize("code", ["8", "27", "31"])
def test_birds_unavailable_subscriber_codes_keep_the_number(code: str) -> None:
    item = entry("sms-extended", code)
    assert item.retry == Retry.BACKOFF
    assert "unavailable subscriber" in item.meaning
