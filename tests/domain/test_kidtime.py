"""Unit tests for the pure kid-time rules in :mod:`skill.domain.kidtime`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.domain import kidtime
from skill.domain.kidtime import (
    DEFAULT_MINUTES,
    KEEP_DAYS,
    MAX_MINUTES,
    MIN_MINUTES,
    Plan,
    WeekSummary,
    day_streak,
    elapsed_minutes,
    is_stale,
    parse_duration_minutes,
    plan,
    prune,
    recorded_minutes,
    summarize_week,
    week_start,
)
from tests.clock import WEDNESDAY

# A Wednesday from the pinned clock: its week runs from MONDAY to MONDAY + 6 days.
MONDAY = WEDNESDAY.date() - timedelta(days=2)
TUESDAY = MONDAY + timedelta(days=1)


def at(day: date, hour: int, minute: int = 0, second: int = 0, tz: Any = UTC) -> datetime:
    """``day`` at a time of day (aware in UTC unless ``tz`` says otherwise)."""
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)


def session(day: date | datetime, minutes: object = 10, hour: int = 10) -> dict[str, Any]:
    """A stored session as the kid-time handler writes it."""
    started = day if isinstance(day, datetime) else datetime(day.year, day.month, day.day, hour)
    return {"started_at": started.isoformat(), "minutes": minutes, "planned_minutes": 15}


# --- parse_duration_minutes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT20M", 20),
        ("PT1H", 60),
        ("PT1H30M", 90),
        ("PT2H5M", 125),
        ("P1D", 24 * 60),
        ("P1DT1H", 25 * 60),
        ("PT0M", 0),
        ("P0D", 0),
        ("PT120S", 2),
        ("PT10M60S", 11),
        ("PT45M", 45),
    ],
)
def test_parse_duration_valid(value: str, expected: int) -> None:
    assert parse_duration_minutes(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Seconds are rounded with Python's round(): 1.5 → 2, 0.5 → 0, 2.5 → 2 (half to even).
        ("PT90S", 2),
        ("PT30S", 0),
        ("PT89S", 1),
        ("PT91S", 2),
        ("PT29S", 0),
        ("PT31S", 1),
        ("PT1M30S", 2),
        ("PT150S", 2),
        ("PT20M29S", 20),
        ("PT20M31S", 21),
    ],
)
def test_parse_duration_rounds_seconds_as_implemented(value: str, expected: int) -> None:
    assert parse_duration_minutes(value) == expected


@pytest.mark.parametrize("value", ["pt20m", "Pt20M", "pT20m", " PT20M ", "\tpt20m\n"])
def test_parse_duration_is_case_and_space_insensitive(value: str) -> None:
    assert parse_duration_minutes(value) == 20


@pytest.mark.parametrize(
    "value",
    [
        "",
        "?",
        "P",
        "PT",
        "p",
        "pt",
        " PT ",
        "twenty minutes",
        "20",
        "20M",
        "T20M",
        "PT20",
        "PT-5M",
        "PT1.5H",
        "PT20M10H",  # out of order
        "P1W",
        "PT20MX",
        "XPT20M",
        "PT 20M",
    ],
)
def test_parse_duration_rejects_non_durations(value: str) -> None:
    assert parse_duration_minutes(value) is None


@pytest.mark.parametrize("value", [None, 20, 20.0, b"PT20M", ["PT20M"], {"value": "PT20M"}, True])
def test_parse_duration_rejects_non_strings(value: object) -> None:
    assert parse_duration_minutes(value) is None


def test_parse_duration_rejects_very_long_strings() -> None:
    assert parse_duration_minutes("PT" + "1" * 10_000 + "M") is None
    # The length limit applies to the raw value, padding included.
    padded = " " * 40 + "PT20M"
    assert padded.strip() == "PT20M"
    assert parse_duration_minutes(padded) is None


def test_parse_duration_longest_accepted_value_does_not_overflow() -> None:
    value = "P" + "9" * 30 + "D"
    assert len(value) == 32
    result = parse_duration_minutes(value)
    assert isinstance(result, int)
    # Seconds are divided as floats, so only the leading digits are exact at this size.
    assert result == pytest.approx(int("9" * 30) * 24 * 60, rel=1e-12)
    assert plan(value) == Plan(MAX_MINUTES, "high")


@given(
    days=st.integers(0, 400),
    hours=st.integers(0, 48),
    minutes=st.integers(0, 200),
)
def test_parse_duration_property_whole_minutes(days: int, hours: int, minutes: int) -> None:
    value = f"P{days}DT{hours}H{minutes}M"
    assert parse_duration_minutes(value) == (days * 24 + hours) * 60 + minutes
    assert parse_duration_minutes(value.lower()) == (days * 24 + hours) * 60 + minutes


@given(seconds=st.integers(0, 100_000))
def test_parse_duration_property_seconds_within_half_a_minute(seconds: int) -> None:
    result = parse_duration_minutes(f"PT{seconds}S")
    assert result is not None
    assert abs(result * 60 - seconds) <= 30


# --- plan -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
def test_plan_defaults_when_nothing_was_said(value: object) -> None:
    assert plan(value) == Plan(DEFAULT_MINUTES, None)
    assert plan(value).minutes == 15


@pytest.mark.parametrize("value", ["?", "soon", "PT", "P", "  ", 20, ["PT20M"], object()])
def test_plan_unclear_values_use_the_default_and_say_so(value: object) -> None:
    assert plan(value) == Plan(DEFAULT_MINUTES, "unclear")


@pytest.mark.parametrize("minutes", [MIN_MINUTES, 12, 15, 30, MAX_MINUTES])
def test_plan_keeps_a_length_in_range(minutes: int) -> None:
    assert plan(f"PT{minutes}M") == Plan(minutes, None)


@pytest.mark.parametrize("value", ["PT0M", "PT1M", f"PT{MIN_MINUTES - 1}M", "PT90S", "PT30S"])
def test_plan_raises_a_short_length_to_the_minimum(value: str) -> None:
    assert plan(value) == Plan(MIN_MINUTES, "low")


@pytest.mark.parametrize("value", [f"PT{MAX_MINUTES + 1}M", "PT1H30M", "PT2H", "P1D"])
def test_plan_lowers_a_long_length_to_the_maximum(value: str) -> None:
    assert plan(value) == Plan(MAX_MINUTES, "high")


def test_plan_hour_is_exactly_the_maximum() -> None:
    assert plan("PT1H") == Plan(60, None)


@given(st.one_of(st.text(), st.none(), st.integers(), st.binary()))
def test_plan_property_minutes_always_in_range(value: object) -> None:
    result = plan(value)
    assert MIN_MINUTES <= result.minutes <= MAX_MINUTES
    assert result.adjusted in (None, "low", "high", "unclear")
    if result.adjusted == "unclear":
        assert result.minutes == DEFAULT_MINUTES


@given(st.integers(0, 10_000))
def test_plan_property_adjustment_matches_the_request(minutes: int) -> None:
    result = plan(f"PT{minutes}M")
    if minutes < MIN_MINUTES:
        assert result == Plan(MIN_MINUTES, "low")
    elif minutes > MAX_MINUTES:
        assert result == Plan(MAX_MINUTES, "high")
    else:
        assert result == Plan(minutes, None)


# --- elapsed, recorded, stale --------------------------------------------------------------


def test_elapsed_minutes_counts_whole_minutes() -> None:
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY) == 0
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY + timedelta(minutes=17)) == 17
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY + timedelta(minutes=17, seconds=20)) == 17
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY + timedelta(minutes=17, seconds=40)) == 18
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY + timedelta(hours=3)) == 180


def test_elapsed_minutes_is_never_negative_when_the_clock_went_back() -> None:
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY - timedelta(minutes=5)) == 0
    assert elapsed_minutes(WEDNESDAY, WEDNESDAY - timedelta(days=3)) == 0


@given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
def test_elapsed_minutes_property(delta: timedelta) -> None:
    result = elapsed_minutes(WEDNESDAY, WEDNESDAY + delta)
    assert result >= 0
    if delta >= timedelta(0):
        assert abs(result * 60 - delta.total_seconds()) <= 30
    else:
        assert result == 0


@pytest.mark.parametrize(
    ("planned", "elapsed", "expected"),
    [
        (15, 0, 0),
        (15, 10, 10),
        (15, 15, 15),
        (15, 29, 29),
        (15, 30, 30),  # exactly twice the plan still counts as said
        (15, 31, 15),  # past twice the plan: the plan is recorded
        (15, 500, 15),
        (5, 11, 5),
        (60, 120, 120),
        (60, 121, 60),
    ],
)
def test_recorded_minutes_cap_rule(planned: int, elapsed: int, expected: int) -> None:
    assert recorded_minutes(planned, elapsed) == expected


@given(st.integers(MIN_MINUTES, MAX_MINUTES), st.integers(0, 100_000))
def test_recorded_minutes_property(planned: int, elapsed: int) -> None:
    result = recorded_minutes(planned, elapsed)
    assert 0 <= result <= 2 * planned
    if elapsed <= 2 * planned:
        assert result == elapsed  # an honest stretch is recorded as it was
    else:
        assert result == planned  # a forgotten one is credited with the plan, never more


def test_is_stale_only_past_twice_the_plan() -> None:
    assert not is_stale(15, WEDNESDAY, WEDNESDAY)
    assert not is_stale(15, WEDNESDAY, WEDNESDAY + timedelta(minutes=30))
    assert is_stale(15, WEDNESDAY, WEDNESDAY + timedelta(minutes=31))
    assert is_stale(15, WEDNESDAY, WEDNESDAY + timedelta(days=2))
    assert not is_stale(15, WEDNESDAY, WEDNESDAY - timedelta(hours=5))


@given(st.integers(MIN_MINUTES, MAX_MINUTES), st.integers(0, 10_000))
def test_is_stale_agrees_with_the_recording_cap(planned: int, minutes: int) -> None:
    now = WEDNESDAY + timedelta(minutes=minutes)
    elapsed = elapsed_minutes(WEDNESDAY, now)
    # Stale exactly when the elapsed time would no longer be recorded as said.
    assert is_stale(planned, WEDNESDAY, now) == (elapsed > 2 * planned)


# --- week_start and day_streak --------------------------------------------------------------


@pytest.mark.parametrize("offset", range(7))
def test_week_start_is_the_monday_of_the_week(offset: int) -> None:
    assert week_start(MONDAY + timedelta(days=offset)) == MONDAY


def test_week_start_sunday_belongs_to_the_week_before_the_next_monday() -> None:
    sunday = MONDAY + timedelta(days=6)
    assert week_start(sunday) == MONDAY
    assert week_start(sunday + timedelta(days=1)) == MONDAY + timedelta(days=7)


@given(st.dates())
def test_week_start_property(day: date) -> None:
    monday = week_start(day)
    assert monday.weekday() == 0
    assert timedelta(0) <= day - monday < timedelta(days=7)


def test_day_streak_empty() -> None:
    assert day_streak([], MONDAY) == 0


def test_day_streak_today_only() -> None:
    assert day_streak([MONDAY], MONDAY) == 1


def test_day_streak_yesterday_only_still_counts() -> None:
    assert day_streak([MONDAY - timedelta(days=1)], MONDAY) == 1


def test_day_streak_two_days_ago_only_is_broken() -> None:
    assert day_streak([MONDAY - timedelta(days=2)], MONDAY) == 0


def test_day_streak_counts_back_from_today() -> None:
    days = [MONDAY - timedelta(days=i) for i in range(5)]
    assert day_streak(days, MONDAY) == 5


def test_day_streak_counts_back_from_yesterday_when_today_is_empty() -> None:
    days = [MONDAY - timedelta(days=i) for i in range(1, 4)]
    assert day_streak(days, MONDAY) == 3


def test_day_streak_stops_at_a_gap() -> None:
    days = [MONDAY, MONDAY - timedelta(days=1), MONDAY - timedelta(days=3)]
    assert day_streak(days, MONDAY) == 2


def test_day_streak_ignores_duplicates_and_future_days() -> None:
    days = [MONDAY, MONDAY, MONDAY - timedelta(days=1), MONDAY + timedelta(days=1)]
    assert day_streak(days, MONDAY) == 2


def test_day_streak_accepts_any_iterable_once() -> None:
    assert day_streak(iter([MONDAY, MONDAY - timedelta(days=1)]), MONDAY) == 2


@given(st.integers(0, 60), st.integers(1, 30), st.booleans())
def test_day_streak_property_run_then_gap(run: int, gap: int, today_included: bool) -> None:
    today = MONDAY
    end = today if today_included else today - timedelta(days=1)
    days = [end - timedelta(days=i) for i in range(run)]
    # More days past a gap never lengthen the streak (yesterday counts when today is empty).
    before_gap = min(end, today - timedelta(days=1)) - timedelta(days=run + gap)
    days += [before_gap - timedelta(days=i) for i in range(5)]
    assert day_streak(days, today) == run


# --- summarize_week ---------------------------------------------------------------------------


def test_summarize_week_empty() -> None:
    assert summarize_week([], WEDNESDAY) == WeekSummary(0, 0, 0)


def test_summarize_week_counts_sessions_and_minutes_since_monday() -> None:
    sessions = [
        session(MONDAY, 10),
        session(MONDAY, 5, hour=18),
        session(WEDNESDAY.date(), 20),
    ]
    assert summarize_week(sessions, WEDNESDAY) == WeekSummary(3, 35, 1)


def test_summarize_week_leaves_out_last_week_but_streak_spans_it() -> None:
    sunday_before = MONDAY - timedelta(days=1)
    sessions = [
        session(sunday_before - timedelta(days=1), 30),
        session(sunday_before, 40),
        session(MONDAY, 10),
        session(MONDAY + timedelta(days=1), 7),
    ]
    tuesday_evening = at(TUESDAY, 21)
    summary = summarize_week(sessions, tuesday_evening)
    assert summary.sessions == 2
    assert summary.minutes == 17
    assert summary.streak_days == 4


def test_summarize_week_monday_midnight_boundary() -> None:
    sessions = [
        session(at(MONDAY - timedelta(days=1), 23, 59, 59, tz=None)),
        session(at(MONDAY, 0, tz=None), minutes=3),
    ]
    summary = summarize_week(sessions, WEDNESDAY)
    assert (summary.sessions, summary.minutes) == (1, 3)


def test_summarize_week_on_monday_starts_a_new_week() -> None:
    sessions = [session(MONDAY - timedelta(days=i), 10) for i in range(1, 4)]
    monday_morning = at(MONDAY, 8)
    summary = summarize_week(sessions, monday_morning)
    assert (summary.sessions, summary.minutes) == (0, 0)
    assert summary.streak_days == 3  # yesterday, and the two days before


def test_summarize_week_ignores_sessions_after_now() -> None:
    sessions = [session(WEDNESDAY.date(), 10), session(MONDAY + timedelta(days=4), 50)]
    assert summarize_week(sessions, WEDNESDAY) == WeekSummary(1, 10, 1)


def test_summarize_week_reads_aware_timestamps() -> None:
    sessions = [session(at(TUESDAY, 10), 12)]
    assert summarize_week(sessions, WEDNESDAY) == WeekSummary(1, 12, 1)


def test_summarize_week_missing_minutes_count_as_zero() -> None:
    entry = session(MONDAY)
    del entry["minutes"]
    assert summarize_week([entry, session(MONDAY, 4)], WEDNESDAY) == WeekSummary(2, 4, 0)


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"minutes": 10},
        {"started_at": None, "minutes": 10},
        {"started_at": "", "minutes": 10},
        {"started_at": "yesterday", "minutes": 10},
        {"started_at": 123, "minutes": 10},
        {"started_at": [TUESDAY.isoformat()], "minutes": 10},
        {"started_at": "2026-13-45T10:00:00", "minutes": 10},
    ],
)
def test_summarize_week_skips_entries_without_a_readable_start(bad: dict[str, Any]) -> None:
    sessions = [bad, session(TUESDAY, 6), bad]
    assert summarize_week(sessions, WEDNESDAY) == WeekSummary(1, 6, 1)


@pytest.mark.parametrize("minutes", [None, "ten", "10", [10], -5, 2.5, {"n": 1}])
def test_summarize_week_unreadable_minutes_count_the_session_but_no_minutes(
    minutes: object,
) -> None:
    sessions = [session(TUESDAY, minutes), session(TUESDAY, 6)]
    assert summarize_week(sessions, WEDNESDAY) == WeekSummary(2, 6, 1)


@pytest.mark.parametrize(
    "junk", [None, f"{TUESDAY.isoformat()}T10:00:00", 5, ["started_at"], ("started_at", "x"), b"{}"]
)
def test_summarize_week_and_prune_skip_non_mapping_entries(junk: object) -> None:
    good = session(TUESDAY, 6)
    sessions: list[Any] = [junk, good, junk]
    assert summarize_week(sessions, WEDNESDAY) == WeekSummary(1, 6, 1)
    assert prune(sessions, WEDNESDAY) == [good]


@given(
    st.lists(
        st.tuples(st.integers(-30, 30), st.integers(0, 120)),
        max_size=30,
    )
)
def test_summarize_week_property_matches_a_direct_count(entries: list[tuple[int, int]]) -> None:
    today = WEDNESDAY.date()
    sessions = [session(today + timedelta(days=offset), minutes) for offset, minutes in entries]
    in_week = [
        (offset, minutes)
        for offset, minutes in entries
        if MONDAY <= today + timedelta(days=offset) <= today
    ]
    summary = summarize_week(sessions, WEDNESDAY)
    assert summary.sessions == len(in_week)
    assert summary.minutes == sum(m for _, m in in_week)
    days = {today + timedelta(days=o) for o, _ in entries}
    assert summary.streak_days == day_streak(days, today)


# --- prune ------------------------------------------------------------------------------------


def test_prune_keeps_recent_sessions_and_drops_old_ones() -> None:
    today = WEDNESDAY.date()
    recent = [session(today - timedelta(days=i)) for i in (0, 1, 30, KEEP_DAYS - 1)]
    old = [session(today - timedelta(days=i)) for i in (KEEP_DAYS, KEEP_DAYS + 1, 365)]
    assert prune([*old[:1], *recent, *old[1:]], WEDNESDAY) == recent


def test_prune_keep_days_boundary() -> None:
    today = WEDNESDAY.date()
    assert prune([session(today - timedelta(days=KEEP_DAYS - 1))], WEDNESDAY) != []
    assert prune([session(today - timedelta(days=KEEP_DAYS))], WEDNESDAY) == []


def test_prune_drops_unreadable_entries_and_keeps_order() -> None:
    today = WEDNESDAY.date()
    a, b = session(today, 1), session(today - timedelta(days=2), 2)
    sessions = [b, {"started_at": "garbage"}, {}, a]
    assert prune(sessions, WEDNESDAY) == [b, a]


def test_prune_does_not_change_its_input() -> None:
    today = WEDNESDAY.date()
    sessions = [session(today - timedelta(days=KEEP_DAYS + 5)), session(today)]
    before = [dict(s) for s in sessions]
    prune(sessions, WEDNESDAY)
    assert sessions == before


@given(st.lists(st.integers(-5, 3 * KEEP_DAYS), max_size=40))
def test_prune_property(ages: list[int]) -> None:
    today = WEDNESDAY.date()
    sessions = [session(today - timedelta(days=age), age) for age in ages]
    kept = prune(sessions, WEDNESDAY)
    assert [s["minutes"] for s in kept] == [age for age in ages if age < KEEP_DAYS]


def test_module_constants_are_consistent() -> None:
    assert MIN_MINUTES <= DEFAULT_MINUTES <= MAX_MINUTES
    assert kidtime.KEEP_DAYS >= 7  # a week summary must never lose this week's sessions
