"""Masks for customer identifiers: enough to recognise a number or address, never the middle of it."""

from __future__ import annotations

import re
import time
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog.message import Message
from catalog.redaction import MASK, Redactor, mask_email, mask_identifier, mask_other, mask_phone, scrub


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+31612345678", "+31 6•••• 5678"),
        ("+31 6 1234 5678", "+31 6•••• 5678"),  # spaced
        ("+31 (0)6-1234-5678", "+31 0•••• 5678"),  # punctuation is not a digit
        ("31612345678", "31 6•••• 5678"),  # without +
        ("0031612345678", "00 3•••• 5678"),
        ("+447700900123", "+44 7•••• 0123"),
        ("+6591234567", "+65 •••• 67"),  # ten digits: four of them shown
        ("+31612345", "+31 •••• 45"),  # eight digits
        ("1234567", "••••67"),  # short
        ("123456", "••••56"),
        ("12345", "••••"),  # too short to show any of it
        ("12", "••••"),
        ("", "••••"),
    ],
)
def test_phone_masks(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("jane@example.com", "j•••@example.com"),
        ("jane.doe+tag@mail.example.co.uk", "j•••@mail.example.co.uk"),
        ("jo@example.com", "j•••@example.com"),
        ("j@example.com", "•••@example.com"),  # a one-letter name is not shown whole
        ("@example.com", "•••@example.com"),
        ("a@b@example.com", "•••@b@example.com"),
        ("jane@", "•••••"),  # no domain: masked like any other identifier
    ],
)
def test_email_masks(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("whatsapp-user-0042-xyz", "wh••••yz"),
        ("1234567", "12••••67"),
        ("abcdef", "••••••"),
        ("abc", "•••"),
        ("", ""),
    ],
)
def test_other_masks(value: str, masked: str) -> None:
    assert mask_other(value) == masked


@pytest.mark.parametrize(
    ("value", "key", "masked"),
    [
        ("+31612345678", "phonenumber", "+31 6•••• 5678"),
        ("+31612345678", "PhoneNumber", "+31 6•••• 5678"),
        ("+31612345678", None, "+31 6•••• 5678"),  # recognised by its shape
        ("31 6 1234 5678", None, "31 6•••• 5678"),
        ("jane@example.com", "emailaddress", "j•••@example.com"),
        ("jane@example.com", None, "j•••@example.com"),
        ("jane@example.com", "phonenumber", "••••"),  # the key wins: a phone mask shows no letters
        ("not-an-address", "emailaddress", "no••••ss"),
        ("1234", None, "••••"),  # too short for a phone shape: masked as "other"
        ("psid-1234567890", "facebook_psid", "ps••••90"),
        ("tel:+31612345678", None, "te••••78"),
    ],
)
def test_mask_is_chosen_by_key_then_by_shape(value: str, key: str | None, masked: str) -> None:
    assert mask_identifier(value, key) == masked


# --- properties: nothing of the middle leaks -----------------------------------------------------

phone_text = st.lists(st.one_of(st.sampled_from("0123456789"), st.sampled_from(" ()-.")), min_size=1, max_size=24).map(
    "".join
)
phones = st.tuples(st.sampled_from(["", "+"]), phone_text).map("".join)
no_bullets = st.characters(blacklist_characters=MASK)


@settings(deadline=None)
@given(phones)
@example("+31612345")
@example("+6591234567")
@example("12")
def test_a_phone_mask_hides_at_least_four_digits_and_invents_none(value: str) -> None:
    masked = mask_phone(value)
    number, shown = digits(value), digits(masked)

    assert len(number) - len(shown) >= min(4, len(number))
    # What is shown is a start and an end of the number, in order: nothing from the middle.
    assert any(number.startswith(shown[:head]) and number.endswith(shown[head:]) for head in range(len(shown) + 1))
    assert MASK * 4 in masked


@settings(deadline=None)
@given(st.text(no_bullets, min_size=1, max_size=30).filter(lambda s: "@" not in s), st.text(no_bullets, max_size=30))
@example("j", "example.com")
def test_an_email_mask_shows_at_most_the_first_letter_and_the_domain(local: str, domain: str) -> None:
    masked = mask_email(f"{local}@{domain}")
    if not domain:
        assert masked == mask_other(f"{local}@")
        return
    assert masked.endswith("@" + domain)
    kept = masked.removesuffix(MASK * 3 + "@" + domain)
    # A quoted local part ("john doe"@…) shows nothing: its first character is only the quote.
    assert kept == (local[0] if len(local) > 1 and local[0] != '"' else "")


@settings(deadline=None)
@given(st.text(no_bullets, max_size=60))
@example("1234567")
def test_other_masks_keep_at_most_two_characters_at_each_end(value: str) -> None:
    masked = mask_other(value)
    if len(value) <= 6:
        assert masked == MASK * len(value)
    else:
        assert masked == value[:2] + MASK * 4 + value[-2:]
        assert value[2:-2] not in masked


@settings(deadline=None)
@given(
    st.text(no_bullets, min_size=1, max_size=60).filter(lambda v: not v.startswith("@")),  # "@x" is all domain
    st.sampled_from([None, "phonenumber", "emailaddress", "x"]),
)
def test_no_identifier_is_shown_whole(value: str, key: str | None) -> None:
    masked = mask_identifier(value, key)
    assert MASK in masked
    assert value not in masked


# --- the receiver's own identifiers, in any written form -------------------------------------------

RECEIVER_FORMS = [
    (
        "+31612345678",
        [
            "+31612345678",
            "+31 6 1234 5678",
            "0031612345678",
            "06 1234 5678",
            "06-12345678",
            "+31 (0)6-1234-5678",
            "612345678",
            "06.1234.5678",
            "０６１２３４５６７８",
            "06\u200b1234\u200b5678",
        ],
    ),
    ("+14155552671", ["(415) 555-2671", "415.555.2671", "+1 (415) 555 2671", "1-415-555-2671", "4155552671"]),
    ("+390612345678", ["+39 06 1234 5678", "06 1234 5678", "0039 0612345678"]),
    ("12345", ["12345", "1 2 3 4 5", "012345"]),  # a short or invalid number
    ('"john doe"@example.com', ['"john doe"@example.com', '"JOHN DOE"@EXAMPLE.COM', "john doe@example.com"]),
    ("用户@例子.广告", ["用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"]),
    (
        "josé@exämple.com",
        ["josé@exämple.com", "JOSÉ@EXÄMPLE.COM", "jose\u0301@exa\u0308mple.com", "josé@xn--exmple-cua.com"],
    ),
    (
        "U4af4980629e2c1b2e1a4f8b5e6a1c2d3",
        ["U4af4980629e2c1b2e1a4f8b5e6a1c2d3", "U4AF4980629E2C1B2E1A4F8B5E6A1C2D3", "4af4980629e2c1b2e1a4f8b5e6a1c2d3"],
    ),  # LINE user id
    ("1254459154682919", ["1254459154682919", "1254 4591 5468 2919"]),  # Messenger PSID
    ("urn:mbid:AQAAY2Hh5Zx7q0fV", ["urn:mbid:AQAAY2Hh5Zx7q0fV", "AQAAY2Hh5Zx7q0fV", "aqaay2hh5zx7q0fv"]),  # Apple
]


@pytest.mark.parametrize(("receiver", "forms"), RECEIVER_FORMS, ids=[r for r, _ in RECEIVER_FORMS])
def test_every_written_form_of_the_receiver_is_masked(receiver: str, forms: list[str]) -> None:
    redact = Redactor([receiver])
    for form in forms:
        text = f"550 rejected <{form}>: unknown (code 1)"
        masked = redact(text)
        assert form not in masked, (form, masked)
        assert unicodedata.normalize("NFC", form) not in masked, (form, masked)
        assert masked.endswith(": unknown (code 1)"), masked  # nothing else is touched


def test_the_receiver_is_found_in_every_field_of_the_message() -> None:
    message = Message.model_validate(
        {
            "id": "m1",
            "receiver": {
                "contacts": [
                    {
                        "id": "c-7781",
                        "identifierKey": "phonenumber",
                        "identifierValue": "+31612345678",
                        "platformAddress": "31612345678",
                        "annotations": {"name": "Jane Q Public"},
                    }
                ]
            },
            "sender": {"contact": {"identifierValue": "jane@example.com"}},
        }
    )
    redact = Redactor.for_message(message)

    masked = redact("Jane Q Public (06 1234 5678, c-7781) wrote from JANE@example.com")

    for secret in ("Jane Q Public", "1234 5678", "c-7781", "JANE@example.com"):
        assert secret not in masked


def test_identifiers_that_name_a_kind_are_not_masked() -> None:
    message = Message.model_validate(
        {
            "id": "m1",
            "receiver": {
                "contacts": [{"identifierKey": "phonenumber", "type": "contact", "identifierValue": "+31612345678"}]
            },
        }
    )
    assert Redactor.for_message(message).known("phonenumber contact") == "phonenumber contact"


@pytest.mark.parametrize(
    "text",
    [
        "06 1234 5678",
        "(415) 555-2671",
        "415.555.2671",
        "020-7946-0958",
        "+31 (0)6-1234-5678",
        "用户@例子.广告",
        '"john doe"@example.com',
        "josé@exämple.com",
    ],
)
def test_free_text_detection_covers_national_formats_and_international_addresses(text: str) -> None:
    masked = scrub(f"bounce: {text}.")
    assert text not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text", ["2024-01-15", "10.1.2.3:15011", "version 10.12.345", "codes 15011 15012", "run 14021 line 404", "12:30:45"]
)
def test_free_text_detection_leaves_dates_addresses_and_codes_alone(text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize("text", ["0 " * 5000, "0(0)" * 2500, "1" * 20000, "a" * 20000, "a@" * 5000, "+1 " * 5000])
def test_redaction_stays_linear_on_hostile_text(text: str) -> None:
    redact = Redactor(["+31612345678", "jane@example.com", "U" + "a" * 32])
    started = time.perf_counter()
    redact(text)
    # Not a timing benchmark: catastrophic backtracking takes minutes, this takes milliseconds.
    assert time.perf_counter() - started < 5


country_codes = st.integers(min_value=1, max_value=999).map(str)
national_numbers = st.from_regex(r"[1-9][0-9]{5,11}", fullmatch=True)


def phone_forms(cc: str, nsn: str) -> list[str]:
    groups = " ".join(nsn[i : i + 3] for i in range(0, len(nsn), 3))
    return [
        f"+{cc}{nsn}",
        f"+{cc} {groups}",
        f"00{cc}{nsn}",
        f"0{nsn}",
        f"0{groups}",
        f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}",
        ".".join(nsn[i : i + 2] for i in range(0, len(nsn), 2)),
        nsn,
    ]


@settings(max_examples=200, deadline=None)
@given(
    cc=country_codes,
    nsn=national_numbers,
    form=st.integers(min_value=0, max_value=7),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
)
def test_any_written_form_of_a_receivers_number_is_masked_in_any_text(
    cc: str, nsn: str, form: int, before: str, after: str
) -> None:
    written = phone_forms(cc, nsn)[form]
    masked = Redactor([f"+{cc}{nsn}"])(f"{before} {written} {after}")
    assert written not in masked
    assert not any(nsn in re.sub(r"\D", "", run) for run in re.findall(r"\d(?:[\s().\-]{0,4}\d)*", masked))
