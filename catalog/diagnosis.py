"""Put a failed message's raw fields together with what the catalog knows about them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from .loader import Catalog, normalize_name
from .models import CodeTable, FailureCode, FailureSource, Family, PlatformCode, Status
from .reason import ParsedReason, parse_reason

if TYPE_CHECKING:
    from .message import Message  # the Bird message models are loaded by whoever fetched one

# The structured reason shape is the SMS platform's; a code in it follows the SMS table.
_REASON_SHAPE_TABLE = "sms-extended"


class Diagnosis(BaseModel):
    """Everything known about one failure: raw values beside the catalog entries they resolve to."""

    # The validator is built on first use, not when ``birdwatch explain 15011`` merely imports this.
    model_config = ConfigDict(defer_build=True)

    status_raw: str | None = None
    status: Status | None = None
    code_raw: int | None = None
    code: FailureCode | None = None
    family: Family | None = None
    source_raw: str | None = None
    source: FailureSource | None = None
    platform_code_raw: str | None = None
    platform_code: PlatformCode | None = None
    table: CodeTable | None = None
    reason: ParsedReason | None = None
    details: str | None = None

    @property
    def failed(self) -> bool:
        if self.status is not None:
            return self.status.failed
        return self.code_raw is not None

    @property
    def unknown_parts(self) -> list[str]:
        """Raw values the catalog could not explain, for an honest "not in the catalog" line."""
        unknown = []
        if self.code_raw is not None and self.code is None:
            unknown.append(f"failure code {self.code_raw}")
        if self.source_raw and self.source is None:
            unknown.append(f"source {self.source_raw}")
        if self.platform_code_raw and self.platform_code is None and self.source is not None:
            unknown.append(f"{self.source.name} code {self.platform_code_raw}")
        elif (
            self.platform_code_raw
            and self.platform_code
            and self.source
            and self.platform_code.code != self.platform_code_raw
        ):
            # Read as the bare code: the subcode itself is not in the catalog.
            subcode = self.platform_code_raw.partition("-")[2]
            unknown.append(f"{self.source.name} subcode {subcode} of code {self.platform_code.code}")
        if self.status_raw and self.status is None:
            unknown.append(f"status {self.status_raw}")
        return unknown


def diagnose(
    catalog: Catalog,
    *,
    status: str | None = None,
    code: int | None = None,
    source: str | None = None,
    source_code: str | None = None,
    reason: str | None = None,
    details: str | None = None,
) -> Diagnosis:
    """Resolve each raw field against the catalog; nothing raw is dropped."""
    parsed = parse_reason(reason) if reason and reason.strip() else None
    code_entry = catalog.codes.get(code) if code is not None else None
    if code_entry is None and code is None and parsed is not None:
        code_entry = _code_from_reason(catalog, parsed)
    source_entry = catalog.sources_by_alias.get(source.strip().lower()) if source else None
    platform_raw = _platform_code(source_code)
    table_id = source_entry.code_table if source_entry else None
    reason_code = parsed.code.strip() if parsed is not None and parsed.code else None
    if platform_raw is None and reason_code:
        platform_raw = reason_code
    if table_id is None and source_entry is None and reason_code and platform_raw == reason_code:
        # No known source says otherwise, and the code is the one the SMS-shaped reason carries
        # (also when failure.source.code repeats it, as in a shared diagnosis read back).
        table_id = _REASON_SHAPE_TABLE
    platform_entry = None
    if source_entry is not None and platform_raw:
        # As the text lookup does: Meta's "code-subcode" with a subcode the catalog lacks falls back
        # to the bare code's entry (10-2534099 -> 10); the unknown subcode is listed as unknown.
        lookup = catalog.platform_codes_for(source_entry, platform_raw)
        if lookup.how in ("exact", "without_subcode") and lookup.entries:
            platform_entry = lookup.entries[0]
        if platform_entry is not None:
            table_id = platform_entry.table
    elif table_id and platform_raw:
        platform_entry = catalog.platform_codes.get((table_id, platform_raw))
    effective_code = code if code is not None else (code_entry.code if code_entry else None)
    family = catalog.families.get(effective_code // 1000) if effective_code is not None else None
    return Diagnosis(
        status_raw=status,
        status=catalog.statuses.get(status) if status else None,
        code_raw=effective_code,
        code=code_entry,
        family=family,
        source_raw=source,
        source=source_entry,
        platform_code_raw=platform_raw,
        platform_code=platform_entry,
        table=catalog.tables.get(table_id) if table_id else None,
        reason=parsed,
        details=details,
    )


def diagnose_message(catalog: Catalog, message: Message) -> Diagnosis:
    failure = message.failure
    source = failure.source if failure else None
    return diagnose(
        catalog,
        status=message.status,
        code=failure.code if failure else None,
        source=source.name if source else None,
        source_code=source.code if source else None,
        reason=message.reason,
        details=message.details,
    )


def time_to_failure(message: Message) -> timedelta | None:
    """How long the message lived before its last status, when Bird gave both times."""
    start: datetime | None = message.created_at
    end: datetime | None = message.last_status_at or message.updated_at
    if start is None or end is None:
        return None
    if (start.tzinfo is None) != (end.tzinfo is None):
        return None  # one time without an offset: no honest difference between them
    if end < start:
        return None
    return end - start


def _platform_code(text: str | None) -> str | None:
    """A platform's code as pasted or passed on, read as the text lookup reads it: Meta writes its
    codes as ``#131047`` in messages, and the sign is no part of the code."""
    code = text.strip().lstrip("#").strip() if text else ""
    return code or None


def _code_from_reason(catalog: Catalog, parsed: ParsedReason) -> FailureCode | None:
    # SMS status reasons such as "unknown_subscriber" often name the Bird code itself.
    for text in (parsed.reason, parsed.details):
        if text:
            entry = catalog.codes_by_name.get(normalize_name(text))
            if entry is not None:
                return entry
    return None
