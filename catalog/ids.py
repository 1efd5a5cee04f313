"""Bird ids (workspaces, channels, messages) are UUIDs; this is the one place that reads them."""

from __future__ import annotations

import re
import uuid

_HEX_UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
# Only hex digits, hyphens optional, braces allowed: uuid.UUID alone also accepts "+", "_",
# non-ASCII digits and "urn:uuid:" prefixes, which would query ids nobody typed.
_UUID = re.compile(rf"{_HEX_UUID}|\{{{_HEX_UUID}\}}")


def canonical_uuid(value: object) -> str | None:
    """The lower-case hyphenated form of a UUID, or None; the only form that goes into a URL."""
    text = str(value).strip()
    if len(text) > 40 or not _UUID.fullmatch(text):
        return None
    return str(uuid.UUID(text))
