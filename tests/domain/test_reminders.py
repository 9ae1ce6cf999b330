"""Reminder times: Alexa's time values read for a working parent, the next occurrence on the
device's wall clock (around the days the clocks change), and the Reminders API recurrence."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from skill.domain import reminders as R
from tests.clock import START

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17:30", time(17, 30)),
        ("05:30", time(17, 30)),  # "half past five": a workday ends in the afternoon
        ("04:00", time(16, 0)),
        ("06:59", time(18, 59)),
        ("07:00", time(7, 0)),
        ("00:15", time(0, 15)),
        ("12:00", time(12, 0)),
        ("23:59", time(23, 59)),
        ("EV", time(17, 30)),
        ("af", time(16, 0)),
        (" 9:05 ", time(9, 5)),
    ],
)
def test_alexa_time_values(value: str, expected: time) -> None:
    assert R.parse_time(value) == expected


def test_an_explicit_morning_time_is_kept() -> None:
    assert R.parse_time("05:30", said_am_pm=True) == time(5, 30)


@pytest.mark.parametrize("value", [None, "", "?", "24:00", "12:60", "half past five", "5", 530])
def test_unusable_time_values(value: object) -> None:
    assert R.parse_time(value) is None


def test_unknown_repeat_is_refused() -> None:
    with pytest.raises(ValueError, match="repeat"):
        R.Schedule(time(17, 30), "fortnightly")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_later_today_rings_today() -> None:
    now = local(NEW_YORK, 2026, 11, 25, 9, 0).astimezone(UTC)
    first = R.next_occurrence(R.Schedule(time(17, 30)), now, NEW_YORK)
    assert first == local(NEW_YORK, 2026, 11, 25, 17, 30)
    assert first.utcoffset() == timedelta(hours=-5)


def test_a_time_already_past_rings_tomorrow() -> None:
    now = local(LONDON, 2026, 11, 25, 17, 31)
    assert R.next_occurrence(R.Schedule(time(17, 30)), now, LONDON).date().day == 26


def test_weekdays_skip_the_weekend() -> None:
    friday_evening = local(LONDON, 2026, 11, 27, 18, 0)
    first = R.next_occurrence(R.Schedule(time(17, 30), R.WEEKDAYS), friday_evening, LONDON)
    assert first == local(LONDON, 2026, 11, 30, 17, 30) and first.weekday() == 0
    daily = R.next_occurrence(R.Schedule(time(17, 30), R.DAILY), friday_evening, LONDON)
    assert daily.weekday() == 5


def test_the_day_is_the_devices_day_not_utcs() -> None:
    # 20:00 UTC on Wednesday is already Thursday 01:30 in Kolkata: "four o'clock" is Thursday.
    now = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    first = R.next_occurrence(R.Schedule(time(16, 0)), now, KOLKATA)
    assert first == local(KOLKATA, 2026, 11, 26, 16, 0)
    # And in New York it is still Wednesday 15:00: four o'clock is in an hour.
    assert R.next_occurrence(R.Schedule(time(16, 0)), now, NEW_YORK).day == 25


def test_on_the_day_the_clocks_go_forward_the_wall_time_holds() -> None:
    # Sunday 8 March 2026, New York springs forward at 02:00: 17:30 is EDT (UTC-4) that day.
    morning = local(NEW_YORK, 2026, 3, 8, 1, 0)
    first = R.next_occurrence(R.Schedule(time(17, 30), R.DAILY), morning, NEW_YORK)
    assert first.replace(tzinfo=None) == datetime(2026, 3, 8, 17, 30)
    assert first.utcoffset() == timedelta(hours=-4)
    assert R.api_local_time(first) == "2026-03-08T17:30:00.000"


def test_on_the_day_the_clocks_go_back_the_wall_time_holds() -> None:
    # Sunday 25 October 2026, London falls back at 02:00: 17:30 is GMT that day.
    morning = local(LONDON, 2026, 10, 25, 0, 30)
    first = R.next_occurrence(R.Schedule(time(17, 30), R.DAILY), morning, LONDON)
    assert R.api_local_time(first) == "2026-10-25T17:30:00.000"
    assert first.utcoffset() == timedelta(0)


def test_a_time_the_clocks_skip_moves_on() -> None:
    before = local(NEW_YORK, 2026, 3, 8, 0, 0)
    first = R.next_occurrence(R.Schedule(time(2, 30)), before, NEW_YORK)
    assert first.replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)
    assert first > before


def test_recurrence_rules() -> None:
    assert R.recurrence_rule(R.Schedule(time(17, 30))) is None
    assert (
        R.recurrence_rule(R.Schedule(time(17, 30), R.WEEKDAYS))
        == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=17;BYMINUTE=30;BYSECOND=0;INTERVAL=1"
    )
    assert (
        R.recurrence_rule(R.Schedule(time(16, 0), R.DAILY))
        == "FREQ=DAILY;BYHOUR=16;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    )


def test_api_times_have_no_offset() -> None:
    in_london = START.astimezone(LONDON)
    assert R.api_local_time(in_london) == in_london.strftime("%Y-%m-%dT%H:%M:%S.000")
    assert R.parse_api_local_time("2026-11-25T17:30:00.000") == time(17, 30)
    assert R.parse_api_local_time("soon") is None
    assert R.parse_api_local_time(None) is None


def test_the_next_occurrence_is_always_ahead_within_a_week() -> None:
    for hours in range(0, 24 * 7, 5):
        now = START + timedelta(hours=hours)
        for repeat in R.REPEATS:
            first = R.next_occurrence(R.Schedule(time(17, 30), repeat), now, NEW_YORK)
            assert now < first <= now + timedelta(days=4)
            assert repeat != R.WEEKDAYS or first.weekday() < 5
