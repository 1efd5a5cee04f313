"""Mask customer identifiers before they reach a Slack channel."""

from __future__ import annotations

import re

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
    local, _, domain = value.partition("@")
    first = local[:1] if len(local) > 1 else ""  # a one-letter name would be shown whole
    return f"{first}{MASK * 3}@{domain}" if domain else mask_other(value)


def mask_other(value: str) -> str:
    """Any other identifier: the first two and last two characters at most."""
    if len(value) <= 6:
        return MASK * len(value)
    return f"{value[:2]}{MASK * 4}{value[-2:]}"


_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# An international number ("+31 6 1234 5678") or a long bare digit run; dates, codes and ids
# (short groups, or digits glued to hyphens) are left alone.
_PHONE_IN_TEXT = re.compile(r"\+[0-9](?:[ ()-]?[0-9]){7,16}|(?<![0-9A-Za-z-])[0-9]{9,15}(?![0-9A-Za-z-])")


def scrub(text: str) -> str:
    """Mask e-mail addresses and phone numbers inside free text, such as a platform's reason."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group()), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
