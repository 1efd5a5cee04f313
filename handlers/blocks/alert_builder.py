"""Block Kit for alerts built from Bird's webhooks: the alert itself, its thread notes, the daily digest.

Pure functions of a group's state (``catalog.failure_groups``) and the catalog's entry: what fails,
how much and since when, the rate and its trend, the most common reasons (already redacted; escaped
here), a few sample message ids, the explanation and first steps, and the controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from catalog.failure_groups import Digest, GroupState, rounded_rate
from catalog.models import FailureCode

from .failure_builder import ACTION_MORE
from .kit import (
    Block,
    actions,
    button,
    context,
    escape,
    fields,
    header,
    link,
    link_button,
    message,
    section,
    static_select,
)

ACTION_SNOOZE = "alert_snooze"
ACTION_RESOLVE = "alert_resolve"
ACTION_OPEN_IN_BIRD = "alert_open_in_bird"
SNOOZE_HOURS = (1, 4, 24, 168)
MAX_REASONS_SHOWN = 3
MAX_FIRST_STEPS = 2


@dataclass(frozen=True)
class AlertView:
    """Everything an alert shows; ``group`` is a snapshot of the group's state."""

    group: GroupState
    now: float
    workspace: str
    threshold: int
    window_minutes: int
    quiet_minutes: int
    code: FailureCode | None = None
    bird_url: str | None = None
    previous_url: str | None = None
    snoozed_by: str | None = None
    snoozed_until: float | None = None
    resolved: bool = False


def clock_time(at: float, *, day: bool = False) -> str:
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%H:%M UTC on %b %d" if day else "%H:%M UTC")


def title(group: GroupState, code: FailureCode | None) -> str:
    where = group.platform
    if code is not None:
        return f"{code.code} {code.name} on {where}"
    if group.code is not None:
        return f"Failure code {group.code} on {where}"
    return f"Failures without a code on {where}"


def explain_query(group: GroupState) -> str | None:
    """What the Explain button asks the catalog."""
    if group.code is not None:
        return str(group.code)
    codes = group.top_platform_codes(1)
    if group.source and codes:
        return f"{group.source} {codes[0][0]}"
    return group.source


def alert_message(view: AlertView) -> dict[str, Any]:
    group = view.group
    resolved = view.resolved
    name = title(group, view.code)
    blocks: list[Block] = [header((":white_check_mark: Resolved: " if resolved else ":rotating_light: ") + name)]
    blocks.append(fields(_facts(view, resolved=resolved)))
    reasons = group.top_reasons(MAX_REASONS_SHOWN)
    if reasons:
        lines = "\n".join(f"• {escape(reason)} (×{count:,})" for reason, count in reasons)
        blocks.append(section(f"*Most common reasons*\n{lines}"))
    if group.samples:
        blocks.append(context("Sample messages: " + ", ".join(f"`{escape(s)}`" for s in group.samples)))
    if view.code is not None:
        steps = "\n".join(f"{i}. {escape(step)}" for i, step in enumerate(view.code.actions[:MAX_FIRST_STEPS], 1))
        blocks.append(section(f"*What it means:* {escape(view.code.meaning)}\n*First steps:*\n{steps}"))
    notes = []
    if view.previous_url is not None:
        notes.append(f"Follows an earlier alert for this problem: {link(view.previous_url, 'previous alert')}")
    if resolved and group.resolved_by:
        notes.append(f"Resolved by <@{escape(group.resolved_by)}> at {clock_time(group.resolved_at or view.now)}.")
    elif resolved:
        notes.append(f"Resolved: no failures for {view.quiet_minutes} minutes.")
    elif view.snoozed_until is not None and view.snoozed_until > view.now:
        who = f" by <@{escape(view.snoozed_by)}>" if view.snoozed_by else ""
        notes.append(f":no_bell: Snoozed{who} until {clock_time(view.snoozed_until, day=True)}.")
    if notes:
        blocks.append(context(*notes))
    blocks.append(actions(*_controls(view, resolved=resolved)))
    counted = f"{group.total:,} failure{'s' if group.total != 1 else ''}"
    return message(blocks, f"{'Resolved: ' if resolved else ''}{name}: {counted}")


def _facts(view: AlertView, *, resolved: bool) -> list[str]:
    group = view.group
    since = clock_time(group.episode_start, day=True)
    until = f" to {clock_time(group.last_failure)}" if resolved else ""
    codes = ", ".join(f"`{escape(code)}` ×{count:,}" for code, count in group.top_platform_codes())
    source = f"`{escape(group.source)}`" if group.source else "unknown source"
    facts = [
        f"*Failures*\n{group.total:,} since {since}{until}",
        f"*Threshold*\n{view.threshold} in {view.window_minutes} min",
        f"*Bird channel*\n`{escape(group.bird_channel)}` ({escape(group.platform)}) in {escape(view.workspace)}",
        f"*Source and platform codes*\n{source}" + (f": {codes}" if codes else ""),
    ]
    if not resolved:
        rate = group.rate_per_minute(view.now)
        facts.insert(1, f"*Rate*\n{rounded_rate(rate)}/min over 5 min, {group.trend(view.now)}")
    return facts


def _controls(view: AlertView, *, resolved: bool) -> list[Block]:
    group = view.group
    controls: list[Block] = []
    query = explain_query(group)
    if query is not None:
        controls.append(button("Explain", ACTION_MORE, query))
    if not resolved:
        options = [(f"for {_hours(h)}", f"{group.id}|{h}") for h in SNOOZE_HOURS]
        controls.append(static_select("Snooze…", ACTION_SNOOZE, options))
        controls.append(button("Resolve", ACTION_RESOLVE, group.id))
    if view.bird_url is not None:
        controls.append(link_button("Open in Bird", ACTION_OPEN_IN_BIRD, view.bird_url))
    return controls


def _hours(hours: int) -> str:
    return "1 week" if hours == 168 else f"{hours} h"


def milestone_message(
    group: GroupState, *, threshold: int, factor: int | None, platform_code: str | None
) -> dict[str, Any]:
    if factor is not None:
        text = f":chart_with_upwards_trend: {group.total:,} failures now: {factor}× the threshold of {threshold}."
    else:
        text = f":new: A new platform code in this problem: `{escape(platform_code)}` from `{escape(group.source)}`."
    return message([section(text)], text)


def resolved_note(group: GroupState, *, quiet_minutes: int) -> dict[str, Any]:
    if group.resolved_by:
        text = f":white_check_mark: Resolved by <@{escape(group.resolved_by)}> after {group.total:,} failures."
    else:
        text = f":white_check_mark: Resolved: no failures for {quiet_minutes} minutes; {group.total:,} in all."
    return message([section(text)], text)


def digest_message(digest: Digest, names: dict[str, str]) -> dict[str, Any]:
    """The daily digest; ``names`` gives the catalog names of the codes it knows."""
    blocks: list[Block] = [header(f"Bird failures on {digest.day}: {digest.total:,}")]
    lines = []
    for line in digest.codes[:15]:
        change = line.change
        versus = "new" if change is None else f"{change:+.0%} against the 7-day average of {rounded_rate(line.average)}"
        name = names.get(line.code, "")
        lines.append(f"• `{escape(line.code)}` {escape(name)}: {line.count:,} ({versus})")
    blocks.append(section("*Failures per code*\n" + ("\n".join(lines) or "none")))
    if digest.new_codes:
        blocks.append(section("*Seen for the first time:* " + ", ".join(f"`{escape(c)}`" for c in digest.new_codes)))
    if digest.top_channels:
        top = ", ".join(f"`{escape(channel)}` ({count:,})" for channel, count in digest.top_channels)
        blocks.append(section(f"*Bird channels with the most failures:* {top}"))
    return message(blocks, f"Bird failures on {digest.day}: {digest.total:,}")
