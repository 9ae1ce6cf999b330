"""When a reminder rings: Alexa's spoken time values read for a working parent, the next
occurrence on the device's wall clock, and the recurrence rule the Reminders API takes.

Pure: no ask-sdk, no I/O. Times are wall-clock times in the device's time zone, so a reminder at
half past five stays at half past five when the clocks change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

#: How often a reminder rings: once, every weekday (Monday to Friday) or every day.
ONCE, WEEKDAYS, DAILY = "once", "weekdays", "daily"
REPEATS = (ONCE, WEEKDAYS, DAILY)
#: Alexa's AMAZON.TIME values for parts of the day, read as the time a parent most likely means.
PARTS_OF_DAY = {"MO": time(9, 0), "AF": time(16, 0), "EV": time(17, 30), "NI": time(20, 0)}
#: An hour said without "am" or "pm" that is this early means the afternoon: nobody stops work
#: or starts kid time at half past five in the morning.
AFTERNOON_BEFORE_HOUR = 7
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_WEEKDAY_CODES = "MO,TU,WE,TH,FR"


@dataclass(frozen=True)
class Schedule:
    """A wall-clock time and how often it repeats."""

    at: time
    repeat: str = ONCE

    def __post_init__(self) -> None:
        if self.repeat not in REPEATS:
            raise ValueError(f"unknown repeat {self.repeat!r}")


def parse_time(value: object, *, said_am_pm: bool = False) -> time | None:
    """An AMAZON.TIME value ("17:30", "05:30", "EV") as a time, or ``None`` if unusable.

    Alexa sends "05:30" for "half past five": unless ``said_am_pm``, an hour before
    :data:`AFTERNOON_BEFORE_HOUR` is read as the afternoon.
    """
    if not isinstance(value, str):
        return None
    value = value.strip().upper()
    if value in PARTS_OF_DAY:
        return PARTS_OF_DAY[value]
    match = _CLOCK.match(value)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    if not said_am_pm and 1 <= hour < AFTERNOON_BEFORE_HOUR:
        hour += 12
    return time(hour, minute)


def _rings_on(day: date, repeat: str) -> bool:
    return repeat != WEEKDAYS or day.weekday() < 5


def _wall(day: date, at: time, zone: tzinfo) -> datetime:
    """``at`` on ``day`` in ``zone``; a time the clocks skip is moved on by the gap (as Alexa
    does), and an hour that happens twice is its first occurrence."""
    local = datetime.combine(day, at, tzinfo=zone)
    if isinstance(zone, ZoneInfo):
        # Round trip through UTC: a nonexistent wall time comes back shifted forward.
        local = local.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return local


def next_occurrence(schedule: Schedule, now: datetime, zone: tzinfo) -> datetime:
    """The first time after ``now`` the reminder rings, aware, in ``zone``."""
    local_now = now.astimezone(zone)
    day = local_now.date()
    for _ in range(8):
        candidate = _wall(day, schedule.at, zone)
        if candidate > local_now and _rings_on(day, schedule.repeat):
            return candidate
        day += timedelta(days=1)
    raise AssertionError("a weekday comes within a week")  # pragma: no cover


def recurrence_rule(schedule: Schedule) -> str | None:
    """The RFC 5545 rule the Reminders API takes for a repeating reminder (``None`` for once)."""
    if schedule.repeat == ONCE:
        return None
    at = f"BYHOUR={schedule.at.hour};BYMINUTE={schedule.at.minute};BYSECOND=0"
    if schedule.repeat == WEEKDAYS:
        return f"FREQ=WEEKLY;BYDAY={_WEEKDAY_CODES};{at};INTERVAL=1"
    return f"FREQ=DAILY;{at};INTERVAL=1"


def api_local_time(moment: datetime) -> str:
    """A wall-clock time as the Reminders API writes it: no offset, milliseconds."""
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")


def parse_api_local_time(value: object) -> time | None:
    """The time of day of a Reminders API ``scheduledTime``, or ``None``."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).time().replace(second=0, microsecond=0)
    except ValueError:
        return None
