"""Streaks and weeks follow the device's time zone, from the Alexa Settings API (a local server)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from skill.domain.kidtime import WeekSummary, summarize_week
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.alexa_api_server import FakeAlexaApi, running
from tests.clock import WEDNESDAY
from tests.conftest import Reply, Skill

US = load_catalogs().for_locale("en-US")
DEVICE = "amzn1.ask.device.TEST"
SETTINGS = f"/v2/devices/{DEVICE}/settings/System.timeZone"
# The week's Sunday, late evening in London: already Monday morning in Tokyo.
SUNDAY_LATE = WEDNESDAY + timedelta(days=4, hours=14)
#: The next Monday 03:00 UTC: still Sunday evening in Los Angeles.
MONDAY_EARLY = WEDNESDAY + timedelta(days=4, hours=18)


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    with running() as server:
        yield server


def post(skill: Skill, api: FakeAlexaApi, name: str, slots: Any = None, **kw: Any) -> Reply:
    body = E.intent(name, slots, now=skill.clock(), **kw)
    return skill.post(E.with_system(body, api_endpoint=api.url))


def kid_time(skill: Skill, api: FakeAlexaApi, minutes: int) -> Reply:
    """A whole stretch of kid time from the clock's now; returns the "we're done" answer."""
    post(skill, api, "StartKidTimeIntent", {"duration": f"PT{minutes}M"})
    skill.clock.advance(minutes=minutes)
    return post(skill, api, "EndKidTimeIntent")


def a_week_with_a_late_sunday(skill: Skill, api: FakeAlexaApi) -> Reply:
    """Wednesday 09:00 UTC for 10 minutes, then Sunday 23:00 UTC for 30 minutes."""
    skill.clock.now = WEDNESDAY
    kid_time(skill, api, 10)
    skill.clock.now = SUNDAY_LATE
    return kid_time(skill, api, 30)


def test_late_sunday_in_utc_is_still_this_week(skill: Skill, api: FakeAlexaApi) -> None:
    api.time_zone = "UTC"
    done = a_week_with_a_late_sunday(skill, api)
    assert done.text.endswith(US.text("kidtime.done_week", count=2))


def test_late_sunday_utc_is_next_monday_in_tokyo(skill: Skill, api: FakeAlexaApi) -> None:
    api.time_zone = "Asia/Tokyo"
    done = a_week_with_a_late_sunday(skill, api)
    assert done.text.endswith(US.text("kidtime.done_week", count=1))

    summary = post(skill, api, "KidTimeSummaryIntent")
    assert US.text("summary.sessions", count=1) in summary.text
    assert US.text("summary.minutes", count=30) in summary.text
    assert US.text("summary.streak", count=1) in summary.text


def test_summary_in_utc_counts_both(skill: Skill, api: FakeAlexaApi) -> None:
    api.time_zone = "Atlantic/Reykjavik"  # UTC+0 all year, whatever day START is
    a_week_with_a_late_sunday(skill, api)
    summary = post(skill, api, "KidTimeSummaryIntent")
    assert US.text("summary.sessions", count=2) in summary.text
    assert US.text("summary.minutes", count=40) in summary.text


def test_early_monday_utc_is_still_sunday_in_los_angeles(skill: Skill, api: FakeAlexaApi) -> None:
    api.time_zone = "America/Los_Angeles"
    skill.clock.now = WEDNESDAY
    kid_time(skill, api, 10)
    skill.clock.now = MONDAY_EARLY  # Sunday 19:00 (20:00 in summer time) in LA
    done = kid_time(skill, api, 20)
    assert done.text.endswith(US.text("kidtime.done_week", count=2))


def test_settings_api_is_called_with_the_device_and_token(skill: Skill, api: FakeAlexaApi) -> None:
    post(skill, api, "KidTimeSummaryIntent")
    (call,) = api.calls("GET")
    assert call.path == SETTINGS
    assert call.headers["Authorization"] == "Bearer test-token"


def test_starting_kid_time_does_not_need_the_time_zone(skill: Skill, api: FakeAlexaApi) -> None:
    post(skill, api, "StartKidTimeIntent")
    assert not api.calls("GET")


def test_zone_is_cached_for_the_session(skill: Skill, api: FakeAlexaApi) -> None:
    api.time_zone = "Asia/Tokyo"
    first = post(skill, api, "KidTimeSummaryIntent")
    assert first.attributes["time_zone"] == {"device": DEVICE, "zone": "Asia/Tokyo"}
    second = post(skill, api, "KidTimeSummaryIntent", new=False, attributes=first.attributes)
    post(skill, api, "KidTimeSummaryIntent", new=False, attributes=second.attributes)
    assert len(api.calls("GET")) == 1

    moved = dict(first.attributes)
    body = E.intent("KidTimeSummaryIntent", now=skill.clock(), new=False, attributes=moved)
    skill.post(E.with_system(body, api_endpoint=api.url, device_id="amzn1.ask.device.OTHER"))
    assert len(api.calls("GET")) == 2, "another device gets its own look-up"


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"settings_status": 500}, id="500"),
        pytest.param({"settings_status": 403}, id="403"),
        pytest.param({"time_zone": "Mars/Olympus_Mons"}, id="unknown-zone"),
        pytest.param({"time_zone": "../../etc/passwd"}, id="path-like"),
        pytest.param({"time_zone": 42}, id="not-a-string"),
        pytest.param({"time_zone": ""}, id="empty"),
    ],
)
def test_failures_fall_back_to_utc(
    skill: Skill, api: FakeAlexaApi, breakage: dict[str, Any]
) -> None:
    for name, value in breakage.items():
        setattr(api, name, value)
    done = a_week_with_a_late_sunday(skill, api)
    assert done.status == 200
    assert done.text.endswith(US.text("kidtime.done_week", count=2)), "UTC counts both"
    summary = post(skill, api, "KidTimeSummaryIntent")
    assert summary.attributes["time_zone"]["zone"] == "UTC"


def test_unreachable_settings_api_falls_back_to_utc(skill: Skill, api: FakeAlexaApi) -> None:
    api.time_zone = "Asia/Tokyo"
    skill.clock.now = WEDNESDAY
    kid_time(skill, api, 10)
    skill.clock.now = SUNDAY_LATE
    post(skill, api, "StartKidTimeIntent", {"duration": "PT30M"})
    skill.clock.advance(minutes=30)
    body = E.intent("EndKidTimeIntent", now=skill.clock())
    done = skill.post(E.with_system(body, api_endpoint=closed_port()))
    assert done.status == 200
    assert done.text.endswith(US.text("kidtime.done_week", count=2))


def test_request_without_api_access_uses_utc(skill: Skill, api: FakeAlexaApi) -> None:
    body = E.intent("KidTimeSummaryIntent", now=skill.clock())
    del body["context"]["System"]["apiAccessToken"]
    reply = skill.post(E.with_system(body, api_endpoint=api.url))
    assert reply.status == 200 and not api.requests
    assert reply.attributes["time_zone"]["zone"] == "UTC"


# --- the pure rule: session days are read in now's time zone ------------------------------------


def test_summarize_week_reads_session_days_in_nows_zone() -> None:
    sessions = [
        {"started_at": WEDNESDAY.isoformat(), "minutes": 10},
        {"started_at": SUNDAY_LATE.isoformat(), "minutes": 30},
    ]
    now = SUNDAY_LATE + timedelta(minutes=30)
    assert summarize_week(sessions, now) == WeekSummary(2, 40, 1)
    tokyo = now.astimezone(ZoneInfo("Asia/Tokyo"))
    assert summarize_week(sessions, tokyo) == WeekSummary(1, 30, 1)


def test_summarize_week_streak_crosses_midnight_in_local_time() -> None:
    # One UTC day, but 23:30 and 00:30 in Tokyo: two local days in a row.
    tuesday = WEDNESDAY - timedelta(days=1)
    sessions = [
        {"started_at": tuesday.replace(hour=14, minute=30).isoformat(), "minutes": 10},
        {"started_at": tuesday.replace(hour=15, minute=30).isoformat(), "minutes": 10},
    ]
    now = WEDNESDAY.replace(hour=1)
    assert summarize_week(sessions, now).streak_days == 1
    assert summarize_week(sessions, now.astimezone(ZoneInfo("Asia/Tokyo"))).streak_days == 2
