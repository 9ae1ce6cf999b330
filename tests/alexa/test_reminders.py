"""Reminders with the Alexa Reminders API, against a real local HTTP server standing in for
Alexa: create, list and delete; the voice permission flow; API errors and timeouts; the device's
time zone."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from skill.alexa.alexa_api import AlexaApi, AlexaApiError, ApiAccess, ReminderRequest
from skill.alexa.handlers.base import Deps
from skill.alexa.handlers.reminders import REMINDERS_SCOPE
from skill.app import create_app
from skill.config import Config
from skill.storage import TinyDBPersistenceAdapter
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.alexa_api_server import FakeAlexaApi, running
from tests.alexa_pki import test_pki
from tests.conftest import Clock, Reply, Skill
from tests.servers import free_port

CATALOGS = load_catalogs()
US = CATALOGS.for_locale("en-US")
GB = CATALOGS.for_locale("en-GB")
WEEKDAYS_RULE = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=17;BYMINUTE=30;BYSECOND=0;INTERVAL=1"


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    with running(FakeAlexaApi(time_zone="America/New_York")) as server:
        yield server


def repeat_slot(value_id: str, spoken: str) -> dict[str, Any]:
    slot = E.resolved_slot("repeat", spoken, value_id)
    slot["resolutions"]["resolutionsPerAuthority"][0]["authority"] = "ReminderRepeat"
    return slot


def with_permission(body: dict[str, Any], api: FakeAlexaApi, status: str | None) -> dict[str, Any]:
    E.with_system(body, api_endpoint=api.url)
    if status is not None:
        body["context"]["System"]["user"]["permissions"] = {
            "scopes": {REMINDERS_SCOPE: {"status": status}}
        }
    return body


def remind(
    skill: Skill,
    api: FakeAlexaApi,
    intent: str = "SetWorkReminderIntent",
    time_value: str | None = "05:30",
    repeat: dict[str, Any] | None = None,
    permission: str | None = "GRANTED",
    **kw: Any,
) -> Reply:
    slots: dict[str, Any] = {}
    if time_value is not None:
        slots["time"] = time_value
    if repeat is not None:
        slots["repeat"] = repeat
    body = E.intent(intent, slots, now=skill.clock(), **kw)
    return skill.post(with_permission(body, api, permission))


def ask(
    skill: Skill, api: FakeAlexaApi, intent: str, permission: str | None = "GRANTED", **kw: Any
) -> Reply:
    body = E.intent(intent, kw.pop("slots", None), now=skill.clock(), **kw)
    return skill.post(with_permission(body, api, permission))


def cancel(skill: Skill, api: FakeAlexaApi, kind: str | None, spoken: str = "", **kw: Any) -> Reply:
    slots = {"reminder": E.resolved_slot("reminder", spoken, kind)} if kind else None
    return ask(skill, api, "CancelReminderIntent", slots=slots, **kw)


def answer_permission(skill: Skill, api: FakeAlexaApi, status: str, **kw: Any) -> Reply:
    body = E.connections_response(status, token="reminder:work", now=skill.clock(), **kw)
    body["request"]["payload"]["permissionScope"] = REMINDERS_SCOPE
    return skill.post(with_permission(body, api, "GRANTED" if status == "ACCEPTED" else None))


def stored(skill: Skill) -> dict[str, Any]:
    return TinyDBPersistenceAdapter(skill.data_dir).load(E.USER_ID)


def directives(reply: Reply, kind: str) -> list[dict[str, Any]]:
    return [d for d in reply.response.get("directives") or [] if d.get("type") == kind]


def say(catalog: Any, what: str, time_words: str, when: str) -> str:
    item = catalog.text("reminders.item", what=catalog.text(what), time=time_words, when=when)
    return catalog.text("reminders.set", reminder=item)


# --- create --------------------------------------------------------------------------------


def test_stop_work_on_weekdays_is_a_recurring_reminder_in_the_device_zone(
    skill: Skill, api: FakeAlexaApi
) -> None:
    reply = remind(skill, api, repeat=repeat_slot("weekdays", "on weekdays"))
    assert reply.status == 200 and reply.ended
    assert reply.text == say(US, "reminders.what_work", "5:30 PM", "every weekday")
    (call,) = api.calls("POST", "/v1/alerts/reminders")
    assert call.headers["Authorization"] == "Bearer test-token"
    zone = ZoneInfo("America/New_York")
    now = skill.clock().astimezone(zone)
    first = now.replace(hour=17, minute=30, second=0, microsecond=0)
    while first <= now or first.weekday() >= 5:
        first = (first + timedelta(days=1)).replace(hour=17, minute=30)
    scheduled = first.strftime("%Y-%m-%dT%H:%M:%S.000")
    assert call.body == {
        "requestTime": now.replace(tzinfo=None).isoformat(timespec="milliseconds"),
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": scheduled,
            "timeZoneId": "America/New_York",
            "recurrence": {"startDateTime": scheduled, "recurrenceRules": [WEEKDAYS_RULE]},
        },
        "alertInfo": {
            "spokenInfo": {
                "content": [{"locale": "en-US", "text": US.text("reminders.announce_work")}]
            }
        },
        "pushNotification": {"status": "ENABLED"},
    }
    assert stored(skill)["reminders"] == {
        "work": {"token": "reminder-1", "time": "17:30", "repeat": "weekdays"}
    }


def test_kid_time_at_four_is_a_one_off_with_its_own_words(skill: Skill, api: FakeAlexaApi) -> None:
    reply = remind(skill, api, "SetKidTimeReminderIntent", "04:00", locale="en-GB")
    zone = ZoneInfo("America/New_York")
    local = skill.clock().astimezone(zone)
    when = "today" if local.hour < 16 else "tomorrow"
    assert reply.text == say(GB, "reminders.what_kid_time", "4 pm", when)
    (call,) = api.calls("POST")
    assert "recurrence" not in call.body["trigger"]
    assert call.body["trigger"]["scheduledTime"].endswith("T16:00:00.000")
    announce = call.body["alertInfo"]["spokenInfo"]["content"]
    assert announce == [{"locale": "en-GB", "text": GB.text("reminders.announce_kid_time")}]
    assert " mum" in GB.text("reminders.announce_work")


def test_a_new_work_reminder_replaces_the_old_one(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api, repeat=repeat_slot("weekdays", "weekdays"))
    remind(skill, api, time_value="18:00", repeat=repeat_slot("daily", "every day"))
    assert list(api.reminders) == ["reminder-2"]
    assert [c.path for c in api.calls("DELETE")] == ["/v1/alerts/reminders/reminder-1"]
    assert stored(skill)["reminders"]["work"]["repeat"] == "daily"


@pytest.mark.parametrize("value", [None, "?", "half past five", "25:00"])
def test_a_missing_or_unclear_time_sets_nothing(
    skill: Skill, api: FakeAlexaApi, value: str | None
) -> None:
    reply = remind(skill, api, time_value=value)
    assert reply.status == 200 and reply.ended
    assert reply.text == US.text("reminders.time_unclear_work")
    assert not api.requests


# --- the Reminders API failing: said kindly, nothing half-stored ---------------------------------


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"reminder_status": 401}, id="401"),
        pytest.param({"reminder_status": 403}, id="403"),
        pytest.param({"reminder_status": 500}, id="500"),
        pytest.param({"reminder_body": b"<html>no</html>"}, id="not-json"),
        pytest.param({"reminder_body": b'{"status": "ON"}'}, id="no-token"),
        pytest.param({"settings_status": 500}, id="no-time-zone"),
        pytest.param({"time_zone": "Mars/Olympus_Mons"}, id="unknown-zone"),
    ],
)
def test_api_failures_are_said_kindly(
    skill: Skill, api: FakeAlexaApi, breakage: dict[str, Any]
) -> None:
    for name, value in breakage.items():
        setattr(api, name, value)
    reply = remind(skill, api)
    assert reply.status == 200 and reply.ended
    assert reply.text == US.text("reminders.failed")
    assert "work" not in stored(skill).get("reminders", {})


def test_unreachable_api(skill: Skill, api: FakeAlexaApi) -> None:
    body = E.intent("SetWorkReminderIntent", {"time": "17:30"}, now=skill.clock())
    with_permission(body, api, "GRANTED")
    body["context"]["System"]["apiEndpoint"] = f"http://127.0.0.1:{free_port()}"
    reply = skill.post(body)
    assert reply.status == 200 and reply.text == US.text("reminders.failed")


def skill_with_timeout(tmp_path: Path, clock: Clock, seconds: float) -> Skill:
    settings = Config(data_dir=tmp_path / "data", verify_signatures=True)
    app = create_app(
        settings,
        verifier=test_pki().verifier(clock=clock),
        deps=Deps(clock=clock, rng=random.Random(7), alexa_api=AlexaApi(timeout=seconds)),
    )
    return Skill(app, app.test_client(), clock, settings.data_dir, signed=True)


@pytest.mark.parametrize("intent", ["SetWorkReminderIntent", "ListRemindersIntent"])
def test_a_slow_api_times_out_kindly(
    tmp_path: Path, clock: Clock, api: FakeAlexaApi, intent: str
) -> None:
    skill = skill_with_timeout(tmp_path, clock, 0.2)
    api.delay = 1.0
    reply = remind(skill, api, intent)
    assert reply.status == 200 and reply.text == US.text("reminders.failed")


def test_unsigned_mode_never_calls_the_alexa_api(tmp_path: Path, api: FakeAlexaApi) -> None:
    app = create_app(Config(data_dir=tmp_path / "data", verify_signatures=False))
    skill = Skill(app, app.test_client(), Clock(), tmp_path / "data", signed=False)
    for reply in (remind(skill, api), ask(skill, api, "ListRemindersIntent")):
        assert reply.status == 200 and reply.text == US.text("reminders.failed")
    assert api.requests == []


# --- list -------------------------------------------------------------------------------------


def test_list_names_each_reminder(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api, repeat=repeat_slot("weekdays", "on weekdays"))
    remind(skill, api, "SetKidTimeReminderIntent", "16:00", repeat=repeat_slot("daily", "daily"))
    reply = ask(skill, api, "ListRemindersIntent")
    assert reply.ended
    work = US.text("reminders.item", what="to stop work", time="5:30 PM", when="every weekday")
    kids = US.text("reminders.item", what="about kid time", time="4 PM", when="every day")
    assert reply.text == US.text("reminders.list", count=2, items=f"{work} and {kids}")
    assert (
        api.calls("GET", "/v1/alerts/reminders")[0].headers["Authorization"] == "Bearer test-token"
    )


def test_list_with_none(skill: Skill, api: FakeAlexaApi) -> None:
    assert ask(skill, api, "ListRemindersIntent").text == US.text("reminders.none")


def test_list_forgets_reminders_deleted_in_the_alexa_app(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    remind(skill, api, "SetKidTimeReminderIntent", "16:00")
    del api.reminders["reminder-1"]  # she deleted it in the app
    api.reminders["reminder-2"]["status"] = "COMPLETED"
    reply = ask(skill, api, "ListRemindersIntent")
    assert reply.text == US.text("reminders.none")
    assert stored(skill)["reminders"] == {}


def test_list_failure_is_said_kindly(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    api.reminders_list_status = 500
    reply = ask(skill, api, "ListRemindersIntent")
    assert reply.status == 200 and reply.text == US.text("reminders.failed")
    assert "work" in stored(skill)["reminders"], "a failed list forgets nothing"


# --- delete -----------------------------------------------------------------------------------


def test_cancel_my_work_reminder(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    remind(skill, api, "SetKidTimeReminderIntent", "16:00")
    reply = cancel(skill, api, "work", "work reminder")
    assert reply.ended and reply.text == US.text("reminders.cancelled_work")
    assert [c.path for c in api.calls("DELETE")] == ["/v1/alerts/reminders/reminder-1"]
    assert list(stored(skill)["reminders"]) == ["kid-time"]
    assert list(api.reminders) == ["reminder-2"]


def test_cancel_without_a_name_cancels_them_all(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    remind(skill, api, "SetKidTimeReminderIntent", "16:00")
    reply = cancel(skill, api, None)
    assert reply.text == US.text("reminders.cancelled_all", count=2)
    assert api.reminders == {} and stored(skill)["reminders"] == {}


def test_cancel_a_reminder_that_is_not_there(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    reply = cancel(skill, api, "kid-time", "kid time reminder")
    assert reply.text == US.text("reminders.nothing_to_cancel")
    assert not api.calls("DELETE")


def test_cancel_one_already_gone_counts_as_cancelled(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    api.reminders.clear()  # the API answers 404
    assert cancel(skill, api, "work", "work").text == US.text("reminders.cancelled_work")
    assert stored(skill)["reminders"] == {}


def test_cancel_failure_keeps_the_reminder(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api)
    api.reminder_delete_status = 500
    reply = cancel(skill, api, "work", "work")
    assert reply.status == 200 and reply.text == US.text("reminders.failed")
    assert stored(skill)["reminders"]["work"]["token"] == "reminder-1"


# --- permission states ---------------------------------------------------------------------------


@pytest.mark.parametrize("permission", [None, "DENIED"])
def test_without_permission_it_asks_by_voice_and_keeps_the_request(
    skill: Skill, api: FakeAlexaApi, permission: str | None
) -> None:
    reply = remind(skill, api, repeat=repeat_slot("weekdays", "weekdays"), permission=permission)
    assert reply.ended and reply.text == US.text("reminders.ask")
    (ask_for,) = directives(reply, "Connections.SendRequest")
    assert ask_for == {
        "type": "Connections.SendRequest",
        "name": "AskFor",
        "payload": {
            "@type": "AskForPermissionsConsentRequest",
            "@version": "2",
            "permissionScopes": [{"permissionScope": REMINDERS_SCOPE, "consentLevel": "ACCOUNT"}],
        },
        "token": "reminder:work",
    }
    assert not api.requests
    assert stored(skill)["reminder_pending"]["repeat"] == "weekdays"


def test_accepted_sets_the_reminder_that_was_asked_for(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api, repeat=repeat_slot("weekdays", "weekdays"), permission=None)
    reply = answer_permission(skill, api, "ACCEPTED")
    assert reply.ended
    assert reply.text == " ".join(
        [US.text("reminders.accepted"), say(US, "reminders.what_work", "5:30 PM", "every weekday")]
    )
    (call,) = api.calls("POST")
    assert call.body["trigger"]["recurrence"]["recurrenceRules"] == [WEEKDAYS_RULE]
    assert "reminder_pending" not in stored(skill)
    again = answer_permission(skill, api, "ACCEPTED")
    assert again.text == US.text("reminders.accepted_idle")
    assert len(api.calls("POST")) == 1, "one reminder, however often she says yes"


def test_accepted_long_after_sets_nothing(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api, permission=None)
    skill.clock.advance(minutes=11)
    assert answer_permission(skill, api, "ACCEPTED").text == US.text("reminders.accepted_idle")
    assert not api.calls("POST")


def test_accepted_but_the_api_fails(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api, permission=None)
    api.reminder_status = 500
    reply = answer_permission(skill, api, "ACCEPTED")
    assert reply.status == 200 and US.text("reminders.failed") in reply.text


@pytest.mark.parametrize(("status", "locale"), [("DENIED", "en-US"), ("NOT_ANSWERED", "en-GB")])
def test_declined_gets_a_kind_answer_and_a_consent_card(
    skill: Skill, api: FakeAlexaApi, status: str, locale: str
) -> None:
    remind(skill, api, permission=None, locale=locale)
    reply = answer_permission(skill, api, status, locale=locale)
    assert reply.ended
    assert reply.text == CATALOGS.for_locale(locale).text("reminders.declined")
    assert reply.card == {"type": "AskForPermissionsConsent", "permissions": [REMINDERS_SCOPE]}
    assert not api.calls("POST") and "reminder_pending" not in stored(skill)


@pytest.mark.parametrize("intent", ["ListRemindersIntent", "CancelReminderIntent"])
def test_list_and_cancel_without_permission_show_the_card(
    skill: Skill, api: FakeAlexaApi, intent: str
) -> None:
    reply = ask(skill, api, intent, permission=None)
    assert reply.text == US.text("reminders.no_permission")
    assert reply.card == {"type": "AskForPermissionsConsent", "permissions": [REMINDERS_SCOPE]}
    assert not api.requests


def test_the_timers_answer_still_goes_to_kid_time(skill: Skill, api: FakeAlexaApi) -> None:
    body = E.connections_response("DENIED", token="t", now=skill.clock())
    reply = skill.post(E.with_system(body, api_endpoint=api.url))
    assert reply.text == US.text("timer.declined")


# --- the device's time zone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "repeat", "utc_now", "scheduled", "request_time"),
    [
        # The morning the clocks go forward in New York: 17:30 that day, in EDT.
        (
            "America/New_York",
            "daily",
            "2026-03-08T12:00:00+00:00",
            "2026-03-08T17:30:00.000",
            "2026-03-08T08:00:00.000",
        ),
        # The morning the clocks go back in London.
        (
            "Europe/London",
            "daily",
            "2026-10-25T09:00:00+00:00",
            "2026-10-25T17:30:00.000",
            "2026-10-25T09:00:00.000",
        ),
        # Late Wednesday evening UTC is already Thursday in Kolkata.
        (
            "Asia/Kolkata",
            "daily",
            "2026-11-25T20:00:00+00:00",
            "2026-11-26T17:30:00.000",
            "2026-11-26T01:30:00.000",
        ),
        # Friday evening in Sydney: the weekday reminder starts on Monday.
        (
            "Australia/Sydney",
            "weekdays",
            "2026-11-27T08:00:00+00:00",
            "2026-11-30T17:30:00.000",
            "2026-11-27T19:00:00.000",
        ),
    ],
)
def test_time_zone_edge_cases(
    make_skill: Any,
    api: FakeAlexaApi,
    zone: str,
    repeat: str,
    utc_now: str,
    scheduled: str,
    request_time: str,
) -> None:
    skill = unsigned_with_api(make_skill(signed=False), datetime.fromisoformat(utc_now))
    api.time_zone = zone
    remind(skill, api, repeat=repeat_slot(repeat, repeat))
    (call,) = api.calls("POST")
    assert call.body["trigger"]["timeZoneId"] == zone
    assert call.body["trigger"]["scheduledTime"] == scheduled
    assert call.body["requestTime"] == request_time


def unsigned_with_api(skill: Skill, now: datetime) -> Skill:
    """The app without signature checks (the test PKI lasts days, not months) but with a client
    that may call the loopback stand-in, at the clock ``now``."""
    clock = Clock(now)
    app = create_app(
        Config(data_dir=skill.data_dir, verify_signatures=False),
        deps=Deps(clock=clock, rng=random.Random(7), alexa_api=AlexaApi()),
    )
    return Skill(app, app.test_client(), clock, skill.data_dir, signed=False)


def test_the_time_zone_is_looked_up_once_per_session(skill: Skill, api: FakeAlexaApi) -> None:
    remind(skill, api, new=False, attributes={})
    first = len(api.calls("GET", "/v2/devices/"))
    body = E.intent("SetKidTimeReminderIntent", {"time": "16:00"}, now=skill.clock(), new=False)
    body["session"]["attributes"] = {
        "time_zone": {"device": "amzn1.ask.device.TEST", "zone": "America/New_York"}
    }
    skill.post(with_permission(body, api, "GRANTED"))
    assert first == 1 and len(api.calls("GET", "/v2/devices/")) == 1


# --- the client on its own ---------------------------------------------------------------------


def test_client_round_trip(api: FakeAlexaApi) -> None:
    client = AlexaApi(timeout=1)
    access = ApiAccess(api.url, "t")
    request = ReminderRequest(
        request_time="2026-11-25T09:00:00.000",
        scheduled_time="2026-11-25T17:30:00.000",
        time_zone="Europe/London",
        locale="en-GB",
        announcement="Stop",
        recurrence_rule="FREQ=DAILY;BYHOUR=17;BYMINUTE=30;BYSECOND=0;INTERVAL=1",
    )
    token = client.create_reminder(access, request)
    (listed,) = client.list_reminders(access)
    assert listed.token == token and listed.status == "ON"
    assert listed.scheduled_time == "2026-11-25T17:30:00.000"
    client.delete_reminder(access, token)
    client.delete_reminder(access, token)  # already gone: 404 is fine
    assert client.list_reminders(access) == []


def test_client_quotes_tokens_and_refuses_odd_lists(api: FakeAlexaApi) -> None:
    client = AlexaApi(timeout=1)
    access = ApiAccess(api.url, "t")
    client.delete_reminder(access, "a/b?c")
    assert api.calls("DELETE")[0].path == "/v1/alerts/reminders/a%2Fb%3Fc"
    api.reminders = {"x": {"alertToken": 7}, "y": {"alertToken": "ok", "status": "ON"}}
    assert [r.token for r in client.list_reminders(access)] == ["ok"]
    api.reminders_list_status = 503
    with pytest.raises(AlexaApiError):
        client.list_reminders(access)


def test_the_skill_package_asks_for_reminders() -> None:
    from skill.devtools.packaging import PERMISSIONS

    assert REMINDERS_SCOPE in PERMISSIONS
