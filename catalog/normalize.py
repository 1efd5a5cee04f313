"""Undo what copying and pasting does to a query before it is searched.

Text pasted from consoles, PDFs, chat clients and phones picks up characters nobody typed on purpose:
zero-width spaces and joiners, byte-order marks, direction marks (all Unicode format characters,
category Cf), full-width forms from East Asian input methods (``１５０１１``), typographic quotes
and dashes (``“failure”``, ``–``), and no-break spaces. ``clean_query`` maps each to its plain ASCII
twin or removes it, character by character, so it costs one ``str.translate`` and never raises.

Other non-ASCII digits (``¹²³``, ``١٥٠١١``) are left alone: nobody types a failure code that way, and
reading them as numbers would answer questions nobody asked.

``read_letter_o`` handles one typing slip: the letter O for a zero inside a number (``15O11``).
"""

from __future__ import annotations

import re

_FULLWIDTH_FIRST, _FULLWIDTH_LAST = 0xFF01, 0xFF5E  # "！" .. "～", ASCII "!" .. "~" shifted by 0xFEE0
_PUNCTUATION = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u3000": " ",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2007": " ",
}


# Unicode's format characters (category Cf, Unicode 14 as in Python 3.11), as inclusive ranges:
# listed rather than found by scanning every code point, which costs ~0.2 s at import. A test
# checks the list against unicodedata.
_FORMAT_CHARACTERS = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)  # fmt: skip


def _table() -> dict[int, str | None]:
    table: dict[int, str | None] = {cp: None for first, last in _FORMAT_CHARACTERS for cp in range(first, last + 1)}
    table.update({cp: chr(cp - 0xFEE0) for cp in range(_FULLWIDTH_FIRST, _FULLWIDTH_LAST + 1)})
    table.update({ord(char): plain for char, plain in _PUNCTUATION.items()})
    return table


_TRANSLATION = _table()
# A run of digits and at least one letter O, as a whole word: "15O11", "14OO5", "132OO1". At least
# three characters and two digits, so "O2", "2O" and words stay as they are.
_LETTER_O = re.compile(r"(?<![A-Za-z0-9])(?=(?:[0-9Oo]*[0-9]){2})(?=[0-9]*[Oo])[0-9Oo]{3,}(?![A-Za-z0-9])")


def clean_query(text: str) -> str:
    """``text`` with format characters removed and full-width forms, typographic quotes, dashes and
    spaces made ASCII. Lone surrogates and any other character pass through unchanged."""
    return text.translate(_TRANSLATION)


def read_letter_o(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with the letter O read as zero inside numbers, and each (as typed, as read) pair."""
    changed: list[tuple[str, str]] = []

    def as_digits(match: re.Match[str]) -> str:
        digits = match.group().replace("O", "0").replace("o", "0")
        changed.append((match.group(), digits))
        return digits

    return _LETTER_O.sub(as_digits, text), changed
