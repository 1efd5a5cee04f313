"""Plain words for the catalog's enums, shared by every renderer."""

from __future__ import annotations

from .models import Confidence, Owner, Retry, Stage

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
CONFIDENCE_LABELS = {
    Confidence.BIRD: "documented by Bird",
    Confidence.PLATFORM: "documented by the platform",
    Confidence.STANDARD: "documented by a published standard (RFC, ITU-T)",
    Confidence.INDUSTRY: "typical industry meaning, not confirmed by Bird",
}
