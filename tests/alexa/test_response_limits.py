"""Alexa's limits over all content: outputSpeech under 8,000 characters, a response under 24 KB.

The real handlers answer every intent in both locales on the heaviest device there is (a screen,
so APL documents ride along, and the timers permission, so timer sentences are said), and every
message is rendered with the largest values its placeholders can take.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest

from skill.alexa.builder import HANDLED_INTENTS
from speech import compose, ssml
from speech.catalog import Catalog, load_catalogs
from tests import envelopes as E
from tests.alexa_api_server import FakeAlexaApi, running
from tests.alexa_pki import test_pki
from tests.conftest import Skill

SPEECH_LIMIT = 8000
RESPONSE_LIMIT = 24 * 1024
CATALOGS = load_catalogs()
LOCALES = ["en-US", "en-GB"]
#: Numbers the skill can put in a sentence are small; these are far past any real value.
BIG_NUMBER = 999_999
#: Text placeholders come from content or from slot values cut to 80 characters; double that.
BIG_TEXT = "Wxyz " * 40


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    with running() as server:
        yield server


def check(skill: Skill, body: dict[str, Any]) -> dict[str, Any]:
    """Post a signed request and check both limits on the raw answer."""
    raw = json.dumps(body).encode()
    result = skill.client.post(
        "/alexa", data=raw, headers=test_pki().sign(raw), content_type="application/json"
    )
    assert result.status_code == 200, result.get_json()
    assert len(result.data) < RESPONSE_LIMIT, f"{len(result.data)} bytes"
    answer = result.get_json()
    response = answer.get("response") or {}
    for part in (
        response.get("outputSpeech"),
        (response.get("reprompt") or {}).get("outputSpeech"),
    ):
        if part:
            text = part.get("ssml") or part.get("text") or ""
            assert len(text) < SPEECH_LIMIT, f"{len(text)} characters"
    return dict(answer)


def heavy(body: dict[str, Any], api: FakeAlexaApi) -> dict[str, Any]:
    return E.with_system(body, api_endpoint=api.url, timers="GRANTED", apl=True)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_intent_in_both_locales(skill: Skill, api: FakeAlexaApi, locale: str) -> None:
    for name in sorted(HANDLED_INTENTS):
        check(skill, heavy(E.intent(name, now=skill.clock(), locale=locale), api))
    check(skill, heavy(E.launch(now=skill.clock(), locale=locale), api))


@pytest.mark.parametrize("locale", LOCALES)
def test_every_strategy(skill: Skill, api: FakeAlexaApi, locale: str) -> None:
    catalog = CATALOGS.for_locale(locale)
    for strategy in catalog.strategies:
        slot = E.resolved_slot("topic", strategy.title, strategy.id)
        body = E.intent("GetStrategyIntent", {"topic": slot}, now=skill.clock(), locale=locale)
        answer = check(skill, heavy(body, api))
        assert answer["response"]["card"]["title"] == strategy.title
    body = E.intent("GetStrategyIntent", {"topic": BIG_TEXT}, now=skill.clock(), locale=locale)
    check(skill, heavy(body, api))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_letter_with_its_screen(skill: Skill, api: FakeAlexaApi, locale: str) -> None:
    answer = check(
        skill, heavy(E.intent("ReadLetterIntent", now=skill.clock(), locale=locale), api)
    )
    types = [d["type"] for d in answer["response"]["directives"]]
    assert "Alexa.Presentation.APL.RenderDocument" in types
    # "Repeat" says the letter again from the session attributes.
    again = E.intent("AMAZON.RepeatIntent", now=skill.clock(), locale=locale, new=False)
    again["session"]["attributes"] = answer["sessionAttributes"]
    check(skill, heavy(again, api))


@pytest.mark.parametrize("locale", LOCALES)
def test_kid_time_every_way_it_can_go(make_skill: Any, api: FakeAlexaApi, locale: str) -> None:
    skill = make_skill()
    for timers in ("GRANTED", None):
        body = E.intent(
            "StartKidTimeIntent", {"duration": "PT3H"}, now=skill.clock(), locale=locale
        )
        check(skill, E.with_system(body, api_endpoint=api.url, timers=timers, apl=True))
        for status in ("ACCEPTED", "DENIED", "NOT_ANSWERED"):
            answer = E.connections_response(status, now=skill.clock(), locale=locale)
            check(skill, heavy(answer, api))
        skill.clock.advance(minutes=30)
        check(skill, heavy(E.intent("EndKidTimeIntent", now=skill.clock(), locale=locale), api))
        check(skill, heavy(E.intent("KidTimeSummaryIntent", now=skill.clock(), locale=locale), api))
    api.timer_status = 500
    body = E.intent("StartKidTimeIntent", {"duration": "PT2M"}, now=skill.clock(), locale=locale)
    check(skill, heavy(body, api))
    check(skill, heavy(E.can_fulfill("StartKidTimeIntent", now=skill.clock(), locale=locale), api))


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def big_values(catalog: Catalog, template: str) -> dict[str, object]:
    """The largest value each placeholder can take (or far more)."""
    values: dict[str, object] = {}
    for name in _placeholders(template):
        if name in {"count", "minutes", "minimum", "maximum"}:
            values[name] = BIG_NUMBER
        elif name == "activity":
            values[name] = max(catalog.activities, key=len)
        elif name == "title":
            values[name] = max((s.title for s in catalog.strategies), key=len)
        elif name == "try_now":
            values[name] = max((s.try_now for s in catalog.strategies), key=len)
        else:
            values[name] = BIG_TEXT
    return values


def forms(value: str | Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else list(value.values())


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_at_large_values(locale: str) -> None:
    catalog = CATALOGS.for_locale(locale)
    for key, value in catalog.messages.items():
        plural = not isinstance(value, str)
        params = big_values(catalog, " ".join(forms(value)))
        for count in (1, BIG_NUMBER) if plural else (None,):
            if count is not None:
                params["count"] = count  # picks each plural form in turn
            spoken = ssml.speak(catalog.say(key, **params))
            assert len(spoken) < SPEECH_LIMIT, key
            assert len(catalog.text(key, **params)) < SPEECH_LIMIT, key


@pytest.mark.parametrize("locale", LOCALES)
def test_longest_kid_time_start_with_every_activity(locale: str) -> None:
    catalog = CATALOGS.for_locale(locale)
    note = catalog.say("kidtime.adjusted_high", minutes=60, minimum=5, maximum=60)
    for activity in catalog.activities:
        for timer in ("timer.ask", "timer.set", "timer.failed"):
            body = ssml.join(note, compose.kid_time_ssml(catalog, 60, activity), catalog.say(timer))
            assert len(ssml.speak(body)) < SPEECH_LIMIT


@pytest.mark.parametrize("locale", LOCALES)
def test_all_content_pieces_fit(locale: str) -> None:
    catalog = CATALOGS.for_locale(locale)
    for name, document in compose.speakable(catalog).items():
        assert len(document) < SPEECH_LIMIT, name
