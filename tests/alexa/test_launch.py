"""The launch greeting knows where she is: the time of day on her device, kid time running,
and a record the store repaired on load."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from skill.storage import TinyDBPersistenceAdapter
from speech import compose
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.alexa.test_skill import lines
from tests.alexa_api_server import FakeAlexaApi, running
from tests.conftest import Reply, Skill

US = load_catalogs().for_locale("en-US")


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    with running() as server:
        yield server


def launch(skill: Skill, api: FakeAlexaApi) -> Reply:
    return skill.post(E.with_system(E.launch(now=skill.clock()), api_endpoint=api.url))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_the_greeting_follows_the_time_of_day_on_her_device(
    skill: Skill, api: FakeAlexaApi, zone: str
) -> None:
    api.time_zone = zone
    launch(skill, api)
    looked_up = len(api.requests)
    back = launch(skill, api)
    hour = skill.clock().astimezone(ZoneInfo(zone)).hour
    pool = f"greeting.{compose.time_of_day(hour)}"
    assert any(back.text.startswith(line) for line in lines(US, pool)), (zone, back.text)
    assert len(api.requests) == looked_up, "a returning launch uses the remembered zone"


def test_kid_time_running_is_greeted_and_never_said_as_zero_minutes(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock()))
    just_started = skill.post(E.launch(now=skill.clock()))
    assert "0 minutes" not in just_started.text
    assert US.text("kidtime.elapsed_just_started") in just_started.text and just_started.ended
    skill.clock.advance(minutes=7)
    later = skill.post(E.launch(now=skill.clock()))
    assert US.text("kidtime.elapsed", count=7) in later.text


def test_the_weekly_summary_counts_kid_time_running_now(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock()))
    summary = skill.post(E.intent("KidTimeSummaryIntent", now=skill.clock()))
    assert summary.text.startswith(US.text("summary.none_running"))
    assert US.text("summary.none") not in summary.text


def test_a_record_with_repairable_types_still_greets_her(skill: Skill) -> None:
    skill.post(E.launch(now=skill.clock()))
    store = TinyDBPersistenceAdapter(skill.data_dir)
    attributes = store.load(E.USER_ID)
    store.save(E.USER_ID, {**attributes, "visits": "3", "given_name": "Ana"})
    back = skill.post(E.launch(now=skill.clock()))
    assert back.status == 200 and "Ana" in back.text
    assert store.load(E.USER_ID)["visits"] == 4
