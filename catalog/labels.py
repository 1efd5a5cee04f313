"""Plain words for the catalog's enums, shared by every renderer."""

from __future__ import annotations

from .models import Confidence, Owner, PlatformCode, Retry, Stage

OWNER_LABELS = {
    Owner.YOUR_TEAM: "your team",
    Owner.END_USER: "the end user",
    Owner.BIRD_SUPPORT: "Bird support",
    Owner.PLATFORM: "the platform or carrier",
}
RETRY_LABELS = {
    Retry.NEVER: "Don't retry",
    Retry.AFTER_FIX: "Retry only after fixing the cause",
    Retry.BACKOFF: "Retry with backoff",
}
STAGE_LABELS = {
    Stage.BEFORE_HANDOFF: "inside Bird, before the hand-off to the platform",
    Stage.AFTER_HANDOFF: "at the platform, after Bird handed the message over",
}
# Said when an entry names no authority; confidence_label names it when it does.
CONFIDENCE_LABELS = {
    Confidence.BIRD: "Documented by Bird",
    Confidence.PLATFORM: "Documented by the platform",
    Confidence.STANDARD: "Per a published standard",
    Confidence.INDUSTRY: "Typical industry meaning, not documented by Bird",
}


def confidence_label(entry: PlatformCode) -> str:
    """Who stands behind a platform code's meaning: "Documented by Meta", "Per RFC 3463", ..."""
    if entry.confidence in (Confidence.BIRD, Confidence.INDUSTRY):
        return CONFIDENCE_LABELS[entry.confidence]
    if entry.confidence == Confidence.STANDARD:
        return f"Per {entry.authority}"
    return f"Documented by {entry.authority}"
