"""Masks for customer identifiers: enough to recognise a number or address, never the middle of it."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog.redaction import MASK, mask_email, mask_identifier, mask_other, mask_phone


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
