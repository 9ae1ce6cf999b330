"""The one pinned clock of the test suite.

Every date a test uses comes from ``START`` or is relative to it, certificate validity windows
included. ``START`` is a Wednesday (so "this week" has days on both sides) unless the
``MAMA_TEST_NOW`` environment variable moves it: ``make test-clocks`` re-runs the in-process
tests with ``START`` — and, through time-machine, the wall clock as well — moved to far-away
and awkward instants (years ahead, a leap day, the days the clocks change).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: The default pinned instant: Wednesday 25 November 2026, 09:00 UTC.
DEFAULT_START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _start_from_env() -> datetime:
    raw = os.environ.get("MAMA_TEST_NOW", "").strip()
    if not raw:
        return DEFAULT_START
    moved = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if moved.tzinfo is None:
        raise ValueError(f"MAMA_TEST_NOW needs a time zone, got {raw!r}")
    return moved.astimezone(UTC)


START = _start_from_env()
#: True when this run moved the pinned clock (and the wall clock) away from the default.
TRAVELLED = START != DEFAULT_START


@dataclass
class Clock:
    """A clock tests move by hand; it starts at ``START``."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def pinned_now() -> datetime:
    """``START`` itself, for code that wants a clock but never moves it."""
    return START


def first_weekday_at(weekday: int, hour: int = 9, after: datetime = START) -> datetime:
    """The first ``weekday`` (0 = Monday) at ``hour``:00 UTC at or after ``after``."""
    day = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return day if day >= after else day + timedelta(days=7)


#: A Wednesday 09:00 UTC at or after START, so "this week" has days on both sides. With the
#: default START it is START itself.
WEDNESDAY = first_weekday_at(2)
