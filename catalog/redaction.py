"""Mask customer identifiers before they reach a Slack channel.

Two layers. ``scrub`` finds what looks like an e-mail address or a phone number in free text
(a platform's bounce, say), international or national. A ``Redactor`` also knows the message's
own receiver and masks every identifier of it in whatever form a platform wrote it: a number with
or without its country code, trunk prefix, spaces, dots, hyphens or parentheses, in any script's
digits; an e-mail address in any case, with its domain in Unicode or punycode, quoted or not;
platform user ids (WhatsApp, Messenger, LINE, Apple) and names, literally and case-insensitively.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .message import Message

MASK = "•"
_PHONE = re.compile(r"^\+?[\d\s().-]{6,}$")


def mask_identifier(value: str, key: str | None = None) -> str:
    """Pick the mask by the identifier's kind: phone numbers, e-mail addresses, anything else."""
    kind = (key or "").lower()
    if "email" in kind or ("@" in value and "phone" not in kind):
        return mask_email(value)
    if "phone" in kind or _PHONE.match(value):
        return mask_phone(value)
    return mask_other(value)


def mask_phone(value: str) -> str:
    """``+31612345678`` -> ``+31 6•••• 5678``: country code and first digit, then the last four.

    At least four digits stay hidden (all of them, in a number that short): a shorter number shows
    less, ``+6591234567`` -> ``+65 •••• 67``.
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) < 8:
        return MASK * 4 + (digits[-2:] if len(digits) >= 6 else "")
    plus = "+" if value.strip().startswith("+") else ""
    if len(digits) < 11:
        return f"{plus}{digits[:2]} {MASK * 4} {digits[-2:]}"
    return f"{plus}{digits[:2]} {digits[2]}{MASK * 4} {digits[-4:]}"


def mask_email(value: str) -> str:
    """``jane@example.com`` -> ``j•••@example.com``; the domain helps spot routing problems."""
    local, _, domain = value.rpartition("@") if value.count("@") > 1 and value.startswith('"') else value.partition("@")
    first = local[:1] if len(local) > 1 and local[:1] != '"' else ""  # a one-letter name would be shown whole
    return f"{first}{MASK * 3}@{domain}" if domain else mask_other(value)


def mask_other(value: str) -> str:
    """Any other identifier: the first two and last two characters at most."""
    if len(value) <= 6:
        return MASK * len(value)
    return f"{value[:2]}{MASK * 4}{value[-2:]}"


# --- free text ----------------------------------------------------------------------------------

# Internationalised local parts and domains (用户@例子.广告, josé@exämple.com) and quoted local
# parts ("john doe"@example.com) are addresses too.
_EMAIL_IN_TEXT = re.compile(r'(?:"[^"\n]{1,64}"|(?<![\w.%+\'-])[\w.%+\'-]++)@[\w-]++(?:\.[\w-]++)++')
# An international number ("+31 6 1234 5678", "+31 (0)6-1234-5678") or a long bare digit run.
_INTERNATIONAL = r"\+[0-9](?:[ ().-]{0,2}[0-9]){7,16}"
_BARE_RUN = r"(?<![0-9A-Za-z-])[0-9]{9,15}(?![0-9A-Za-z-])"
# National formats: a trunk prefix ("06 1234 5678", "020-7946-0958"), an area code in
# parentheses ("(415) 555-2671") or the North American 3-3-4 grouping ("415.555.2671").
_NATIONAL = (
    r"(?<![\w+.-])(?:\(0?[0-9]{1,5}\)[ .-]?[0-9]|0[0-9])(?:[ .-]?[0-9]){6,13}(?![\w-])"
    r"|(?<![\w+.-])[0-9]{3}[ .-][0-9]{3}[ .-][0-9]{4}(?![\w-])"
)
_PHONE_IN_TEXT = re.compile(f"{_INTERNATIONAL}|{_BARE_RUN}|{_NATIONAL}")
_NATIONAL_DIGITS = range(9, 16)  # fewer digits is a date or a code, more is not a phone number


def scrub(text: str) -> str:
    """Mask e-mail addresses and phone numbers inside free text, such as a platform's reason."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), text)
    return _PHONE_IN_TEXT.sub(_mask_phone_match, text)


def _mask_phone_match(match: re.Match[str]) -> str:
    found = match.group()
    digit_count = sum(char.isdigit() for char in found)
    return mask_phone(found) if found.startswith("+") or digit_count in _NATIONAL_DIGITS else found


# --- the receiver's own identifiers ---------------------------------------------------------------

# What may stand between the digits of one written number: spaces of every kind, dots, dashes,
# slashes, parentheses, and invisible characters pasted along with it.
_SEPARATORS = "(?:\\(0\\)|[\\s.\\-\u2010-\u2015\u2212()/\u00ad\u200b-\u200d\u2060\ufeff]){0,4}+"
# E.164 country codes have one to three digits: a number written without its country code (in
# national format) still ends with at least the receiver's digits but three.
_MAX_COUNTRY_CODE = 3
_MIN_DIGITS = 3
_MIN_PARTIAL_DIGITS = 4
_NUMBER_LIKE = re.compile(r"^[\s+().\-/0-9]*$")
_EMAIL_LIKE = re.compile(r"^(?P<local>.+)@(?P<domain>[^@\s]+\.[^@\s]+)$")
_LINE_USER = re.compile(r"^U[0-9a-f]{32}$", re.IGNORECASE)
_KNOWN_PREFIXES = ("urn:mbid:", "tel:", "mailto:", "whatsapp:", "sms:")
# Receiver fields that name a kind, not the person.
_NOT_IDENTIFIERS = frozenset({"identifierKey", "type", "platformAddressSelector", "status"})
_MIN_OPAQUE_CHARS = 3
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # a decimal digit of another script
_NOT_ASCII_DIGIT = re.compile(r"[^0-9]+")
_MAX_IDENTIFIER_CHARS = 254
_MAX_IDENTIFIERS = 50


class Redactor:
    """Masks one message's receiver identifiers in any written form, then ``scrub``s the rest.

    Build it with ``Redactor.for_message``; call it on every outside text before it is shown.
    """

    def __init__(self, identifiers: Iterable[str] = ()) -> None:
        # No identifier is longer than an e-mail address may be; a receiver has a few of them.
        unique = dict.fromkeys(value for value in identifiers if len(value) <= _MAX_IDENTIFIER_CHARS)
        self._alternatives = _alternatives(tuple(unique)[:_MAX_IDENTIFIERS])

    @classmethod
    def for_message(cls, message: Message | None) -> Redactor:
        """A redactor for ``message``'s receiver (and, on an incoming message, its sender contact)."""
        if message is None:
            return cls()
        found: list[str] = []
        if message.receiver is not None:
            found += _strings(message.receiver.model_dump(by_alias=True))
        if message.sender is not None and message.sender.contact is not None:
            found += _strings(message.sender.contact.model_dump(by_alias=True))
        return cls(found)

    def __call__(self, text: str) -> str:
        """``text`` with the receiver's identifiers and anything that looks like one masked."""
        return scrub(self.known(text))

    def known(self, text: str) -> str:
        """``text`` with the receiver's identifiers masked, other text untouched."""
        if not self._alternatives or not text:
            return text
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        # Matching runs on ASCII digits; the mapping keeps every index, so masks land on the original.
        searched = _ascii_digits(text) if not text.isascii() and _OTHER_DIGIT.search(text) else text
        pieces: list[str] = []
        last = 0
        patterns = _possible(self._alternatives, searched)
        if not patterns:
            return text
        for match in _matches(patterns, searched):
            original = text[match.start() : match.end()]
            pieces += [text[last : match.start()], _mask_found(original, match.group())]
            last = match.end()
        return "".join(pieces) + text[last:] if pieces else text


@dataclass(frozen=True)
class _Alternative:
    """One pattern of a receiver's identifiers, compiled only for a text it might match.

    ``digits``: for a written number, the last digits every match of it contains, in order, with at
    most the zeros of ``(0)`` separators between them; a text whose digits lack them cannot match.
    """

    pattern: str
    digits: str | None = None


@functools.lru_cache(maxsize=256)
def _alternatives(identifiers: tuple[str, ...]) -> tuple[_Alternative, ...]:
    found = [alternative for value in identifiers for alternative in _patterns_for(value)]
    # Longest first, so a whole address is masked before any part of it.
    found.sort(key=lambda alternative: len(alternative.pattern), reverse=True)
    return tuple(found)


def _possible(alternatives: tuple[_Alternative, ...], text: str) -> tuple[re.Pattern[str], ...]:
    """The compiled patterns, in order, of the alternatives that may match ``text``.

    Each is compiled once: a receiver's number recurs across messages while its contact id changes,
    and compiling the number patterns of ids that never appear cost more than all the matching.
    """
    text_digits: str | None = None
    possible: list[re.Pattern[str]] = []
    for alternative in alternatives:
        if alternative.digits is not None:
            if text_digits is None:
                text_digits = _NOT_ASCII_DIGIT.sub("", text)
            if not _digits_precheck(alternative.digits).search(text_digits):
                continue
        possible.append(_compiled_one(alternative.pattern))
    return tuple(possible)


@functools.lru_cache(maxsize=1024)
def _digits_precheck(digits: str) -> re.Pattern[str]:
    # Between two digits of a written number a separator may put up to four "(0)".
    return re.compile("0{0,4}".join(digits))


@functools.lru_cache(maxsize=1024)
def _compiled_one(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _matches(patterns: tuple[re.Pattern[str], ...], text: str) -> Iterator[re.Match[str]]:
    """What ``re.compile("|".join(patterns)).finditer(text)`` finds, without compiling the join.

    The alternation matches at the leftmost position where any alternative does, and there takes the
    first alternative in order that matches; so does this, from each pattern's own next match.
    """
    upcoming: list[re.Match[str] | None] = [pattern.search(text) for pattern in patterns]
    while True:
        best: re.Match[str] | None = None
        for found in upcoming:
            if found is not None and (best is None or found.start() < best.start()):
                best = found
        if best is None:
            return
        yield best
        end = best.end()
        for index, found in enumerate(upcoming):
            if found is not None and found.start() < end:
                upcoming[index] = patterns[index].search(text, end)


def _mask_found(original: str, searched: str) -> str:
    if "@" in original:
        return mask_email(original)
    if _NUMBER_LIKE.match(searched):
        return mask_phone(searched)
    return mask_other(original)


def _strings(data: Any, key: str = "") -> Iterator[str]:
    if isinstance(data, str) and key not in _NOT_IDENTIFIERS:
        yield data
    elif isinstance(data, dict):
        for child_key, value in data.items():
            yield from _strings(value, str(child_key))
    elif isinstance(data, list):
        for value in data:
            yield from _strings(value, key)


def _patterns_for(raw: str) -> list[_Alternative]:
    value = unicodedata.normalize("NFC", raw.strip())
    for prefix in _KNOWN_PREFIXES:
        if value.lower().startswith(prefix) and len(value) > len(prefix):
            return [_Alternative(re.escape(value)), *_patterns_for(value[len(prefix) :])]
    email = _EMAIL_LIKE.match(value)
    if email:
        return [_Alternative(_email_pattern(email["local"], email["domain"]))]
    ascii_value = _ascii_digits(value)
    if _NUMBER_LIKE.match(ascii_value):
        return _number_patterns(re.sub(r"\D", "", ascii_value))
    if len(value) < _MIN_OPAQUE_CHARS:
        return []
    patterns = [_Alternative(re.escape(value))]
    if _LINE_USER.match(value):
        patterns.append(_Alternative(f"(?<![0-9a-z]){re.escape(value[1:])}(?![0-9a-z])"))  # the hex without its "U"
    digits = re.sub(r"\D", "", ascii_value)
    if len(digits) >= 6 and len(digits) * 2 >= len(value):  # a number with a few letters around it
        patterns += _number_patterns(digits)
    return patterns


def _number_patterns(digits: str) -> list[_Alternative]:
    core = digits.lstrip("0")
    if len(core) < _MIN_DIGITS:
        return []
    shortest = max(_MIN_PARTIAL_DIGITS, len(core) - _MAX_COUNTRY_CODE) if len(core) > _MIN_PARTIAL_DIGITS else len(core)
    tails = [core[start:] for start in range(0, len(core) - shortest + 1)]
    # A trunk prefix is taken whole below, so a tail's own leading zeros may be part of it.
    tails += [bare for tail in tails if (bare := tail.lstrip("0")) != tail and len(bare) >= _MIN_PARTIAL_DIGITS]
    written = "|".join(_SEPARATORS.join(tail) for tail in tails)
    # An international prefix ("+", "00") or trunk prefix ("0", "(0)") may come before it.
    pattern = f"(?<![0-9])(?:\\+{_SEPARATORS})?+(?:0{_SEPARATORS}){{0,3}}+\\(?(?:{written})(?![0-9])"
    # Every tail, with or without its leading zeros, ends with the last four digits (or all of a shorter core).
    return [_Alternative(pattern, core[-_MIN_PARTIAL_DIGITS:])]


def _email_pattern(local: str, domain: str) -> str:
    bare_local = local[1:-1] if len(local) > 1 and local.startswith('"') and local.endswith('"') else local
    domains = {domain}
    # The same domain in Unicode and in punycode (exämple.com, xn--exmple-cua.com).
    with contextlib.suppress(UnicodeError):
        domains.add(domain.encode("idna").decode("ascii"))
    with contextlib.suppress(UnicodeError):
        domains.add(domain.encode("ascii").decode("idna"))
    written_domain = "|".join(re.escape(d) for d in sorted(domains, key=len, reverse=True))
    return f'"?{re.escape(bare_local)}"?\\s?@\\s?(?:{written_domain})(?![\\w-])'


def _ascii_digits(text: str) -> str:
    """Every decimal digit of any script as its ASCII digit, one character for one."""
    return "".join(str(unicodedata.digit(char)) if char.isdecimal() and not char.isascii() else char for char in text)
