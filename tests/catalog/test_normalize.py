"""catalog.normalize: what pasting does to a query is undone, and no input makes it raise."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.normalize import _FORMAT_CHARACTERS, clean_query, read_letter_o

ANY_TEXT = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=300)


def test_the_format_character_list_is_unicodes() -> None:
    listed = {cp for first, last in _FORMAT_CHARACTERS for cp in range(first, last + 1)}
    every = {cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"}
    assert listed == every


@pytest.mark.parametrize(
    ("pasted", "clean"),
    [
        ("１５０１１", "15011"),
        ("ｗｈａｔｓａｐｐ　１３１０４７", "whatsapp 131047"),
        ("150\u200b11", "15011"),
        ("\ufeff15011\u200e", "15011"),
        ("15\u00ad011", "15011"),
        ("“failure”: {‘code’: 1}", "\"failure\": {'code': 1}"),
        ("sms\u2013messagebird", "sms-messagebird"),
        ("15011\u00a0errors", "15011 errors"),
        ("¹²³ ١٥٠١١", "¹²³ ١٥٠١١"),
    ],
)
def test_clean_query(pasted: str, clean: str) -> None:
    assert clean_query(pasted) == clean


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_clean_query_never_raises_and_leaves_no_format_characters(text: str) -> None:
    cleaned = clean_query(text)
    assert not any(unicodedata.category(c) == "Cf" for c in cleaned)
    assert not any(0xFF01 <= ord(c) <= 0xFF5E for c in cleaned)
    assert len(cleaned) <= len(text)
    assert clean_query(cleaned) == cleaned


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec="ascii", exclude_characters="\u00a0"), max_size=200))
def test_clean_query_leaves_ascii_alone(text: str) -> None:
    assert clean_query(text) == text


@pytest.mark.parametrize(
    ("typed", "read", "changed"),
    [
        ("15O11", "15011", [("15O11", "15011")]),
        ("code 14oo5 again", "code 14005 again", [("14oo5", "14005")]),
        ("whatsapp 132OO1", "whatsapp 132001", [("132OO1", "132001")]),
        ("OOO 2O O2 1O Oslo", "OOO 2O O2 1O Oslo", []),
        ("FOO15O11", "FOO15O11", []),
    ],
)
def test_read_letter_o(typed: str, read: str, changed: list[tuple[str, str]]) -> None:
    assert read_letter_o(typed) == (read, changed)


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_read_letter_o_never_raises_and_changes_only_letter_o_to_zero(text: str) -> None:
    read, changed = read_letter_o(text)
    assert len(read) == len(text)
    for before, after in zip(text, read, strict=True):
        assert before == after or (before in "Oo" and after == "0")
    for typed, digits in changed:
        assert re.fullmatch("[0-9]+", digits)
        assert typed.replace("O", "0").replace("o", "0") == digits
    assert read_letter_o(read) == (read, [])
