"""Kid time with the Alexa Timers API, against a real local HTTP server standing in for Alexa."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from skill.alexa.alexa_api import (
    ALEXA_API_HOSTS,
    LOOPBACK_HOSTS,
    AlexaApi,
    AlexaApiError,
    ApiAccess,
    TimerRequest,
)
from skill.alexa.handlers.base import Deps
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


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    with running() as server:
        yield server


def stored(skill: Skill) -> dict[str, Any]:
    return TinyDBPersistenceAdapter(skill.data_dir).load(E.USER_ID)


def active(skill: Skill) -> dict[str, Any]:
    kid_time = stored(skill)["kid_time"]
    assert isinstance(kid_time, dict)
    return dict(kid_time["active"])


def start(
    skill: Skill, api: FakeAlexaApi, timers: str | None, duration: str = "PT20M", **kw: Any
) -> Reply:
    body = E.intent("StartKidTimeIntent", {"duration": duration}, now=skill.clock(), **kw)
    return skill.post(E.with_system(body, api_endpoint=api.url, timers=timers))


def done(skill: Skill, api: FakeAlexaApi, **kw: Any) -> Reply:
    body = E.intent("EndKidTimeIntent", now=skill.clock(), **kw)
    return skill.post(E.with_system(body, api_endpoint=api.url))


def directives(reply: Reply, kind: str) -> list[dict[str, Any]]:
    return [d for d in reply.response.get("directives") or [] if d.get("type") == kind]


# --- permission granted: the timer is created, and cancelled on "we're done" --------------------


@pytest.mark.parametrize(("locale", "catalog"), [("en-US", US), ("en-GB", GB)])
def test_granted_creates_an_announcing_timer(
    skill: Skill, api: FakeAlexaApi, locale: str, catalog: Any
) -> None:
    reply = start(skill, api, "GRANTED", locale=locale)
    assert reply.status == 200 and reply.ended
    assert catalog.text("timer.set") in reply.text
    assert catalog.text("kidtime.started", minutes=20) in reply.text
    assert not directives(reply, "Connections.SendRequest"), "no need to ask when granted"

    (call,) = api.calls("POST")
    assert call.path == "/v1/alerts/timers"
    assert call.headers["Authorization"] == "Bearer test-token"
    assert call.headers["Content-Type"] == "application/json"
    assert call.body == {
        "duration": "PT20M",
        "timerLabel": catalog.text("timer.label"),
        "creationBehavior": {"displayExperience": {"visibility": "VISIBLE"}},
        "triggeringBehavior": {
            "operation": {
                "type": "ANNOUNCE",
                "textToAnnounce": [{"locale": locale, "text": catalog.text("timer.announce")}],
            },
            "notificationConfig": {"playAudible": True},
        },
    }
    assert active(skill)["timer_id"] == "timer-1"


def test_announcement_uses_the_device_locale_with_its_content(
    skill: Skill, api: FakeAlexaApi
) -> None:
    start(skill, api, "GRANTED", locale="en-AU")
    (call,) = api.calls("POST")
    announce = call.body["triggeringBehavior"]["operation"]["textToAnnounce"]
    assert announce == [{"locale": "en-AU", "text": GB.text("timer.announce")}]


def test_adjusted_length_is_the_timer_length(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, "GRANTED", duration="PT3H")
    assert api.calls("POST")[0].body["duration"] == "PT60M"


def test_done_before_it_rings_cancels_the_timer(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, "GRANTED")
    skill.clock.advance(minutes=12)
    reply = done(skill, api)
    assert reply.text.startswith(US.text("kidtime.done", count=12))
    (call,) = api.calls("DELETE")
    assert call.path == "/v1/alerts/timers/timer-1"
    assert call.headers["Authorization"] == "Bearer test-token"


def test_done_after_it_rang_leaves_the_timer_alone(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, "GRANTED")
    skill.clock.advance(minutes=25)
    reply = done(skill, api)
    assert reply.text.startswith(US.text("kidtime.done", count=25))
    assert not api.calls("DELETE")


@pytest.mark.parametrize("status", [404, 500, 401])
def test_a_timer_that_cannot_be_cancelled_does_not_spoil_done(
    skill: Skill, api: FakeAlexaApi, status: int
) -> None:
    start(skill, api, "GRANTED")
    skill.clock.advance(minutes=6)
    api.delete_status = status
    reply = done(skill, api)
    assert reply.status == 200
    assert reply.text.startswith(US.text("kidtime.done", count=6))
    assert stored(skill)["kid_time"]["active"] is None
    assert len(api.calls("DELETE")) == 1


def test_done_without_a_timer_calls_nothing(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, "DENIED")
    skill.clock.advance(minutes=5)
    done(skill, api)
    assert not api.calls("DELETE") and not api.calls("POST")


# --- the Timers API failing: kid time still starts, and says the timer could not be set ---------


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param({"timer_status": 401}, id="401"),
        pytest.param({"timer_status": 403}, id="403"),
        pytest.param({"timer_status": 500}, id="500"),
        pytest.param({"timer_status": 503}, id="503"),
        pytest.param({"timer_body": b"<html>oops</html>"}, id="not-json"),
        pytest.param({"timer_body": b'{"status": "ON"}'}, id="no-id"),
        pytest.param({"timer_body": b'["timer-1"]'}, id="wrong-shape"),
    ],
)
def test_timer_failure_still_starts_kid_time(
    skill: Skill, api: FakeAlexaApi, breakage: dict[str, Any]
) -> None:
    for name, value in breakage.items():
        setattr(api, name, value)
    reply = start(skill, api, "GRANTED")
    assert reply.status == 200 and reply.ended
    assert US.text("timer.failed") in reply.text
    assert US.text("kidtime.started", minutes=20) in reply.text
    assert US.text("error.apology") not in reply.text
    assert active(skill)["planned_minutes"] == 20
    assert "timer_id" not in active(skill)


def test_unreachable_api_still_starts_kid_time(skill: Skill) -> None:
    body = E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock())
    reply = skill.post(
        E.with_system(body, api_endpoint=f"http://127.0.0.1:{free_port()}", timers="GRANTED")
    )
    assert reply.status == 200
    assert US.text("timer.failed") in reply.text
    assert active(skill)["planned_minutes"] == 20


def skill_with_api(tmp_path: Path, clock: Clock, alexa_api: AlexaApi) -> Skill:
    """The app with its own Alexa API client (for a short timeout), signatures checked."""
    settings = Config(data_dir=tmp_path / "data", verify_signatures=True)
    app = create_app(
        settings,
        verifier=test_pki().verifier(clock=clock),
        deps=Deps(clock=clock, rng=random.Random(7), alexa_api=alexa_api),
    )
    return Skill(app, app.test_client(), clock, settings.data_dir, signed=True)


def test_slow_api_times_out_and_kid_time_still_starts(
    tmp_path: Path, clock: Clock, api: FakeAlexaApi
) -> None:
    skill = skill_with_api(tmp_path, clock, AlexaApi(timeout=0.2))
    api.delay = 1.0
    reply = start(skill, api, "GRANTED")
    assert reply.status == 200
    assert US.text("timer.failed") in reply.text
    assert active(skill)["planned_minutes"] == 20


def test_the_default_client_waits_three_seconds_at_most() -> None:
    assert AlexaApi().timeout == 3.0


# --- permission not granted: ask once by voice, not every time -----------------------------------


def test_without_permission_kid_time_starts_and_asks_by_voice(
    skill: Skill, api: FakeAlexaApi
) -> None:
    reply = start(skill, api, None)
    assert reply.status == 200
    assert US.text("kidtime.started", minutes=20) in reply.text
    assert reply.text.endswith(US.text("timer.ask"))
    (ask,) = directives(reply, "Connections.SendRequest")
    assert ask == {
        "type": "Connections.SendRequest",
        "name": "AskFor",
        "payload": {
            "@type": "AskForPermissionsConsentRequest",
            "@version": "2",
            "permissionScopes": [
                {"permissionScope": E.TIMERS_SCOPE, "consentLevel": "ACCOUNT"},
            ],
        },
        "token": skill.clock().isoformat(),
    }
    assert stored(skill)["timers_asked_at"] == skill.clock().isoformat()
    assert active(skill)["planned_minutes"] == 20
    assert not api.requests, "nothing is called without the permission"


def test_denied_permission_is_asked_for_too(skill: Skill, api: FakeAlexaApi) -> None:
    reply = start(skill, api, "DENIED")
    assert directives(reply, "Connections.SendRequest")
    assert not api.requests


def test_asks_again_only_after_thirty_days(
    make_skill: Callable[..., Skill], api: FakeAlexaApi
) -> None:
    skill = make_skill(signed=False)  # the test certificates do not last a month
    first = start(skill, api, None)
    assert directives(first, "Connections.SendRequest")
    for days in (1, 29):
        skill.clock.now = first_time(skill) + timedelta(days=days)
        done(skill, api)
        again = start(skill, api, None)
        assert again.status == 200 and again.text
        assert not directives(again, "Connections.SendRequest"), f"asked again after {days} days"
        assert US.text("timer.ask") not in again.text
    skill.clock.now = first_time(skill) + timedelta(days=30, minutes=1)
    done(skill, api)
    later = start(skill, api, None)
    assert directives(later, "Connections.SendRequest")
    assert stored(skill)["timers_asked_at"] == skill.clock().isoformat()


def first_time(skill: Skill) -> datetime:
    return datetime.fromisoformat(str(stored(skill)["timers_asked_at"]))


# --- Connections.Response: what the user told Alexa -----------------------------------------


def permission_answer(skill: Skill, api: FakeAlexaApi, status: str, **kw: Any) -> Reply:
    body = E.connections_response(status, token="t", now=skill.clock(), **kw)
    # After "yes", Alexa's next requests carry the permission as granted.
    timers = "GRANTED" if status == "ACCEPTED" else None
    return skill.post(E.with_system(body, api_endpoint=api.url, timers=timers))


def test_accepted_sets_a_timer_for_what_is_left(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, None)
    skill.clock.advance(minutes=5)
    reply = permission_answer(skill, api, "ACCEPTED")
    assert reply.status == 200 and reply.ended
    assert reply.text == US.text("timer.accepted", count=15)
    (call,) = api.calls("POST")
    assert call.body["duration"] == "PT15M"
    assert call.headers["Authorization"] == "Bearer test-token"
    assert active(skill)["timer_id"] == "timer-1"

    skill.clock.advance(minutes=3)
    done(skill, api)
    assert [c.path for c in api.calls("DELETE")] == ["/v1/alerts/timers/timer-1"]


def test_accepted_with_one_minute_left(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, None)
    skill.clock.advance(minutes=19)
    reply = permission_answer(skill, api, "ACCEPTED")
    assert reply.text == US.text("timer.accepted", count=1)
    assert api.calls("POST")[0].body["duration"] == "PT1M"


@pytest.mark.parametrize("minutes_later", [None, 20, 45])
def test_accepted_without_running_kid_time_just_thanks(
    skill: Skill, api: FakeAlexaApi, minutes_later: int | None
) -> None:
    if minutes_later is not None:
        start(skill, api, None)
        skill.clock.advance(minutes=minutes_later)
    reply = permission_answer(skill, api, "ACCEPTED")
    assert reply.text == US.text("timer.accepted_idle")
    assert not api.calls("POST")


def test_accepted_but_the_api_fails(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, None)
    api.timer_status = 500
    reply = permission_answer(skill, api, "ACCEPTED")
    assert reply.status == 200 and reply.text == US.text("timer.failed")
    assert "timer_id" not in active(skill)


def test_accepted_twice_sets_one_timer(skill: Skill, api: FakeAlexaApi) -> None:
    start(skill, api, None)
    permission_answer(skill, api, "ACCEPTED")
    again = permission_answer(skill, api, "ACCEPTED")
    assert again.text == US.text("timer.accepted", count=20)
    assert len(api.calls("POST")) == 1


@pytest.mark.parametrize(("status", "locale"), [("DENIED", "en-US"), ("NOT_ANSWERED", "en-GB")])
def test_declined_gets_a_kind_fallback_and_a_consent_card(
    skill: Skill, api: FakeAlexaApi, status: str, locale: str
) -> None:
    start(skill, api, None, locale=locale)
    reply = permission_answer(skill, api, status, locale=locale)
    assert reply.status == 200 and reply.ended
    assert reply.text == CATALOGS.for_locale(locale).text("timer.declined")
    assert reply.card == {"type": "AskForPermissionsConsent", "permissions": [E.TIMERS_SCOPE]}
    assert not api.calls("POST")
    assert active(skill)["planned_minutes"] == 20, "kid time keeps running"


def test_other_connection_responses_are_acknowledged(skill: Skill, api: FakeAlexaApi) -> None:
    body = E.connections_response("ACCEPTED", name="Buy", now=skill.clock())
    reply = skill.post(body)
    assert reply.status == 200 and "outputSpeech" not in reply.response


@pytest.mark.parametrize(
    ("field", "value"), [("payload", ["ACCEPTED"]), ("status", "200"), ("name", 7)]
)
def test_malformed_connections_response_is_refused(skill: Skill, field: str, value: Any) -> None:
    body = E.connections_response("ACCEPTED", now=skill.clock())
    body["request"][field] = value
    reply = skill.post(body)
    assert reply.status == 400 and reply.body["error"] == "invalid_request"


# --- the client on its own ---------------------------------------------------------------------


def test_client_errors_never_carry_the_token_or_device(api: FakeAlexaApi) -> None:
    client = AlexaApi(timeout=1)
    access = ApiAccess(f"http://127.0.0.1:{free_port()}", "secret-token")
    with pytest.raises(AlexaApiError) as caught:
        client.time_zone(access, "amzn1.ask.device.SECRET")
    assert "secret" not in str(caught.value).lower() and "SECRET" not in str(caught.value)


def test_client_quotes_ids_into_paths(api: FakeAlexaApi) -> None:
    client = AlexaApi(timeout=1)
    access = ApiAccess(api.url + "/", "t")
    client.cancel_timer(access, "a/b?c")
    assert api.calls("DELETE")[0].path == "/v1/alerts/timers/a%2Fb%3Fc"


def test_timer_request_body_is_what_the_api_documents() -> None:
    body = TimerRequest(minutes=7, label="L", locale="en-US", announcement="A").body()
    assert body["duration"] == "PT7M"
    assert body["creationBehavior"]["displayExperience"]["visibility"] == "VISIBLE"
    assert body["triggeringBehavior"]["operation"]["type"] == "ANNOUNCE"


def test_every_new_message_exists_in_both_locales() -> None:
    keys = [k for k in US.messages if k.startswith("timer.")]
    assert len(keys) >= 8 and all(k in GB.messages for k in keys)
    assert " mum" in GB.text("timer.announce") and " mom" in US.text("timer.announce")


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://api.amazonalexa.com", True),
        ("https://api.eu.amazonalexa.com/", True),
        ("https://API.FE.AMAZONALEXA.COM", True),
        ("http://api.amazonalexa.com", False),
        ("https://api.amazonalexa.com.evil.example", False),
        ("https://user:pw@api.amazonalexa.com", False),
        ("https://169.254.169.254", False),
        ("http://127.0.0.1:8080", False),
        ("not a url", False),
    ],
)
def test_only_alexa_hosts_are_called(endpoint: str, allowed: bool) -> None:
    # The endpoint comes from the request: anything else would be a server-side request forgery.
    client = AlexaApi(allowed_hosts=ALEXA_API_HOSTS)
    assert client.allows(endpoint) is allowed


def test_loopback_stand_ins_may_use_http() -> None:
    client = AlexaApi(allowed_hosts=LOOPBACK_HOSTS)
    assert client.allows("http://127.0.0.1:8080")
    assert not client.allows("https://api.amazonalexa.com")


def test_unsigned_mode_never_calls_the_alexa_api(tmp_path: Path, api: FakeAlexaApi) -> None:
    # With signatures off (local tools) the apiEndpoint is whatever the caller wrote: ignore it.
    app = create_app(Config(data_dir=tmp_path / "data", verify_signatures=False))
    client = app.test_client()
    now = datetime.now(UTC)
    body = E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=now)
    started = client.post(
        "/alexa", json=E.with_system(body, api_endpoint=api.url, timers="GRANTED")
    )
    ended = client.post(
        "/alexa", json=E.with_system(E.intent("EndKidTimeIntent", now=now), api_endpoint=api.url)
    )
    assert started.status_code == ended.status_code == 200
    assert api.requests == []
