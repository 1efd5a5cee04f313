"""parse_reason / looks_like_reason: Bird's ``details: ...; reason: ...; code: ...`` strings."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog.reason import MAX_PARSED, ParsedReason, looks_like_reason, parse_reason

DOCUMENTED = "details: unknown subscriber; reason: unknown_subscriber; code: 1"

# -- examples --------------------------------------------------------------------------------------


def test_documented_sms_reason() -> None:
    parsed = parse_reason(DOCUMENTED)
    assert parsed == ParsedReason(
        raw=DOCUMENTED, details="unknown subscriber", reason="unknown_subscriber", code="1", extra={}
    )
    assert parsed.structured
    assert looks_like_reason(DOCUMENTED)


def test_second_documented_sms_reason() -> None:
    parsed = parse_reason("details: system failure; reason: received_network_error; code: 34")
    assert (parsed.details, parsed.reason, parsed.code) == ("system failure", "received_network_error", "34")


def test_extra_keys_are_kept_normalised() -> None:
    parsed = parse_reason("details: x; reason: y; code: 1; Network Name: Vodafone NL; error-class: perm")
    assert (parsed.details, parsed.reason, parsed.code) == ("x", "y", "1")
    assert parsed.extra == {"network_name": "Vodafone NL", "error_class": "perm"}


def test_keys_are_case_insensitive_and_equals_works_too() -> None:
    parsed = parse_reason("DETAILS= absent subscriber ; Reason = absent_subscriber")
    assert (parsed.details, parsed.reason, parsed.code) == ("absent subscriber", "absent_subscriber", None)


@pytest.mark.parametrize(
    "text",
    [
        "Message failed to send because more than 24 hours have passed since the customer last replied",
        "(#131047) Re-engagement message",
        "Recipient phone number not in allowed list",
        "",
        "   ",
        ";;;",
        "details: a; but then plain words",
    ],
)
def test_unstructured_text_is_kept_whole(text: str) -> None:
    parsed = parse_reason(text)
    assert parsed == ParsedReason(raw=text)
    assert not parsed.structured
    assert not looks_like_reason(text)


def test_empty_parts_are_skipped() -> None:
    parsed = parse_reason(";; details: a ;;  ; reason: b ;")
    assert (parsed.details, parsed.reason, parsed.code, parsed.extra) == ("a", "b", None, {})


def test_empty_values_become_none() -> None:
    parsed = parse_reason("details: ; reason: unknown_subscriber; code:")
    assert (parsed.details, parsed.reason, parsed.code) == (None, "unknown_subscriber", None)


def test_values_may_contain_colons_and_equals() -> None:
    parsed = parse_reason("details: error: 0x45: bad=route; reason: see https://example.com:8443/x?a=1")
    assert parsed.details == "error: 0x45: bad=route"
    assert parsed.reason == "see https://example.com:8443/x?a=1"


def test_first_of_a_repeated_key_wins() -> None:
    assert parse_reason("reason: first; reason: second").reason == "first"


def test_a_lone_code_is_structured_but_not_reason_shaped() -> None:
    # "code: 1" alone is too little to call it a pasted reason; with a separator it is one.
    assert parse_reason("code: 1").code == "1"
    assert not looks_like_reason("code: 1")
    assert looks_like_reason("code: 1;")
    assert not looks_like_reason("note: the message failed")


def test_long_whitespace_runs_parse_quickly() -> None:
    started = time.process_time()
    parsed = parse_reason("a: x" + " " * 20000 + "y")
    assert time.process_time() - started < 0.05
    assert parsed.extra == {"a": "x"}  # only the first MAX_PARSED characters are parsed
    assert len(parsed.raw) == 20005


def test_whitespace_runs_within_the_parsed_length_do_not_backtrack() -> None:
    text = "a: x" + " " * (MAX_PARSED - 10) + "y"
    started = time.process_time()
    for _ in range(10):
        parsed = parse_reason(text)
    assert time.process_time() - started < 0.05
    assert parsed.extra == {"a": "x" + " " * (MAX_PARSED - 10) + "y"}


def test_text_past_the_parsed_length_is_kept_in_raw_only() -> None:
    text = "reason: a;" + " " * MAX_PARSED + "; code: 1"
    parsed = parse_reason(text)
    assert (parsed.reason, parsed.code, parsed.raw) == ("a", None, text)


# -- properties ------------------------------------------------------------------------------------

KEY = st.from_regex(r"[a-z][a-z_]{0,20}", fullmatch=True).filter(lambda k: k not in {"details", "reason", "code"})
# Values as Bird writes them: no ";" (it separates pairs) and no outer whitespace (it is trimmed).
VALUE = (
    st.text(st.characters(exclude_characters=";", exclude_categories=["Cs"]), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool)
)
SEPARATOR = st.sampled_from(["; ", ";", " ; ", ";  ;  "])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
@example("details:")
@example(":;:=;")
@example("a:" + " " * 500 + "x" + " " * 500)
def test_parse_reason_never_raises_and_keeps_the_raw_text(text: str) -> None:
    parsed = parse_reason(text)
    assert parsed.raw == text
    if looks_like_reason(text):
        assert parsed.structured
    if not parsed.structured:
        assert parsed == ParsedReason(raw=text)


@settings(max_examples=200, deadline=None)
@given(
    details=st.one_of(st.none(), VALUE),
    reason=st.one_of(st.none(), VALUE),
    code=st.one_of(st.none(), st.from_regex(r"[0-9]{1,6}", fullmatch=True)),
    extra=st.dictionaries(KEY, VALUE, max_size=4),
    separator=SEPARATOR,
    key_case=st.sampled_from([str.lower, str.upper, str.title]),
)
def test_documented_shape_round_trips(
    details: str | None,
    reason: str | None,
    code: str | None,
    extra: dict[str, str],
    separator: str,
    key_case: Callable[[str], str],
) -> None:
    known = {"details": details, "reason": reason, "code": code}
    pairs = [(k, v) for k, v in known.items() if v is not None] + list(extra.items())
    text = separator.join(f"{key_case(k)}: {v}" for k, v in pairs)
    parsed = parse_reason(text)
    assert parsed.raw == text
    assert (parsed.details, parsed.reason, parsed.code) == (details, reason, code)
    assert parsed.extra == extra
    assert parsed.structured == bool(pairs)
    if details is not None or reason is not None:
        assert looks_like_reason(text)


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(exclude_characters=":=", exclude_categories=["Cs"]), max_size=300))
def test_text_without_a_separator_is_never_structured(text: str) -> None:
    assert parse_reason(text) == ParsedReason(raw=text)
    assert not looks_like_reason(text)
