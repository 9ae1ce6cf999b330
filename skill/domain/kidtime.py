"""Pure kid-time rules: durations, recorded lengths, weekly summaries and day streaks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal

DEFAULT_MINUTES = 15
MIN_MINUTES = 5
MAX_MINUTES = 60
#: Finished sessions older than this are dropped, so a user's record stays small.
KEEP_DAYS = 60

# AMAZON.DURATION resolves to ISO-8601 durations such as PT20M, PT1H30M or P1D.
_ISO_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


@dataclass(frozen=True)
class Plan:
    """How long a kid-time stretch will be, and why if it is not what was asked."""

    minutes: int
    adjusted: Literal["low", "high", "unclear"] | None = None


@dataclass(frozen=True)
class WeekSummary:
    """Kid time in the current week (Monday to Sunday) and the current run of days."""

    sessions: int
    minutes: int
    streak_days: int


def parse_duration_minutes(value: object) -> int | None:
    """Minutes in an ISO-8601 duration slot value, or ``None`` when it is not one."""
    if not isinstance(value, str) or len(value) > 32:
        return None
    match = _ISO_DURATION.match(value.strip().upper())
    if not match or value.strip().upper() in {"P", "PT"}:
        return None
    parts = {k: int(v) for k, v in match.groupdict(default="0").items()}
    seconds = ((parts["days"] * 24 + parts["hours"]) * 60 + parts["minutes"]) * 60 + parts[
        "seconds"
    ]
    return round(seconds / 60)


def plan(slot_value: object) -> Plan:
    """The planned length for a spoken duration: default 15, clamped to 5–60 minutes."""
    if slot_value is None or slot_value == "":
        return Plan(DEFAULT_MINUTES)
    minutes = parse_duration_minutes(slot_value)
    if minutes is None:
        return Plan(DEFAULT_MINUTES, "unclear")
    if minutes < MIN_MINUTES:
        return Plan(MIN_MINUTES, "low")
    if minutes > MAX_MINUTES:
        return Plan(MAX_MINUTES, "high")
    return Plan(minutes)


def elapsed_minutes(started_at: datetime, now: datetime) -> int:
    """Whole minutes between two moments, never negative (clocks do drift)."""
    return max(0, round((now - started_at).total_seconds() / 60))


def recorded_minutes(planned: int, elapsed: int) -> int:
    """What to record when kid time ends.

    A parent who forgets to say "we're done" should not be credited with an afternoon, nor
    punished with zero: past twice the plan we record the plan.
    """
    return elapsed if elapsed <= 2 * planned else planned


def is_stale(planned: int, started_at: datetime, now: datetime) -> bool:
    """True when a running stretch is too old to still be going on."""
    return elapsed_minutes(started_at, now) > 2 * planned


def week_start(day: date) -> date:
    """Monday of the week that holds ``day``."""
    return day - timedelta(days=day.weekday())


def _session_day(session: object, zone: tzinfo | None = None) -> date | None:
    """The day a stored session started, or ``None`` for an entry that cannot be read.

    With a ``zone``, an aware start is read as a date on the wall clock there, so a stretch at
    23:30 UTC lands on the next day in Tokyo. Naive starts are taken as they are.
    """
    if not isinstance(session, Mapping):
        return None
    try:
        started = datetime.fromisoformat(str(session["started_at"]))
    except (KeyError, ValueError):
        return None
    if zone is not None and started.tzinfo is not None:
        started = started.astimezone(zone)
    return started.date()


def day_streak(days: Iterable[date], today: date) -> int:
    """Consecutive days with kid time, ending today or (if today has none yet) yesterday."""
    have = set(days)
    day = today if today in have else today - timedelta(days=1)
    streak = 0
    while day in have:
        streak += 1
        day -= timedelta(days=1)
    return streak


def summarize_week(sessions: Iterable[object], now: datetime) -> WeekSummary:
    """Sessions and minutes since Monday, plus the current day streak.

    Days and weeks follow ``now``'s time zone (pass the device's local time).
    """
    monday = week_start(now.date())
    count = minutes = 0
    days: list[date] = []
    for session in sessions:
        day = _session_day(session, now.tzinfo)
        if day is None or not isinstance(session, Mapping):
            continue
        days.append(day)
        if monday <= day <= now.date():
            count += 1
            recorded = session.get("minutes")
            minutes += recorded if isinstance(recorded, int) and recorded > 0 else 0
    return WeekSummary(count, minutes, day_streak(days, now.date()))


def prune(sessions: Iterable[object], now: datetime) -> list[dict[str, Any]]:
    """Drop sessions older than :data:`KEEP_DAYS`, and entries that cannot be read."""
    cutoff = (now - timedelta(days=KEEP_DAYS)).date()
    return [s for s in sessions if isinstance(s, dict) and (_session_day(s) or cutoff) > cutoff]
