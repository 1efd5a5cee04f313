"""Parse Bird's ``reason`` strings.

SMS failures carry a reason like ``details: unknown subscriber; reason: unknown_subscriber; code: 1``.
Other platforms put free text there, so anything that is not ``key: value`` pairs is kept whole.
Only the first ``MAX_PARSED`` characters are parsed (``raw`` keeps all of it): Bird's structured
reasons are far shorter, and parsing runs on the event loop.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

MAX_PARSED = 2000
# Matched against a stripped part, so the value needs no trailing ``\s*``: a lazy value followed by
# ``\s*$`` backtracked quadratically on long whitespace runs.
_PAIR = re.compile(r"([A-Za-z][A-Za-z _-]{0,30}?)\s*[:=]\s*(.*)", re.DOTALL)
_KNOWN_KEYS = ("details", "reason", "code")


class ParsedReason(BaseModel):
    """A reason split into its parts; ``raw`` is always the original text."""

    raw: str
    details: str | None = None
    reason: str | None = None
    code: str | None = None
    extra: dict[str, str] = {}

    @property
    def structured(self) -> bool:
        return any((self.details, self.reason, self.code)) or bool(self.extra)


def parse_reason(text: str) -> ParsedReason:
    """Split ``key: value; key: value`` text; unstructured text comes back with only ``raw`` set."""
    parts = [stripped for part in text[:MAX_PARSED].split(";") if (stripped := part.strip())]
    pairs: dict[str, str] = {}
    for part in parts:
        match = _PAIR.fullmatch(part)
        if match is None:
            return ParsedReason(raw=text)
        key = match.group(1).strip().lower().replace(" ", "_").replace("-", "_")
        pairs.setdefault(key, match.group(2))
    if not pairs:
        return ParsedReason(raw=text)
    known = {key: pairs.pop(key) or None for key in _KNOWN_KEYS if key in pairs}
    return ParsedReason(raw=text, extra=pairs, **known)


def looks_like_reason(text: str) -> bool:
    """True for text in the structured reason shape, e.g. pasted from a message object."""
    parsed = parse_reason(text)
    return parsed.details is not None or parsed.reason is not None or (parsed.code is not None and ";" in text)
