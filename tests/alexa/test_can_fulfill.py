"""CanFulfillIntentRequest: answered per the spec, from the intent alone, without side effects."""

from __future__ import annotations

from typing import Any

import pytest

from skill.storage import TinyDBPersistenceAdapter
from tests import envelopes as E
from tests.conftest import Skill

YES = {"canUnderstand": "YES", "canFulfill": "YES"}


def ask(skill: Skill, name: str, slots: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    reply = skill.post(E.can_fulfill(name, slots, now=skill.clock(), **kw))
    assert reply.status == 200, reply.body
    assert "outputSpeech" not in reply.response and "card" not in reply.response
    assert not reply.response.get("directives")
    return dict(reply.response["canFulfillIntent"])


@pytest.mark.parametrize(
    ("duration", "verdict", "slot"),
    [
        ("PT20M", "YES", YES),
        ("PT5M", "YES", YES),
        ("PT1H", "YES", YES),
        ("PT2M", "MAYBE", {"canUnderstand": "YES", "canFulfill": "NO"}),
        ("PT3H", "MAYBE", {"canUnderstand": "YES", "canFulfill": "NO"}),
        ("banana", "MAYBE", {"canUnderstand": "NO", "canFulfill": "NO"}),
    ],
)
def test_kid_time_duration(skill: Skill, duration: str, verdict: str, slot: Any) -> None:
    answer = ask(skill, "StartKidTimeIntent", {"duration": duration})
    assert answer == {"canFulfill": verdict, "slots": {"duration": slot}}


def test_kid_time_without_a_duration_is_a_yes(skill: Skill) -> None:
    assert ask(skill, "StartKidTimeIntent") == {"canFulfill": "YES"}
    unfilled = {"duration": {"confirmationStatus": "NONE"}}
    assert ask(skill, "StartKidTimeIntent", unfilled) == {"canFulfill": "YES"}


@pytest.mark.parametrize(
    ("topic", "verdict", "slot"),
    [
        (E.resolved_slot("topic", "me time", "self-care"), "YES", YES),
        ("good enough", "YES", YES),
        ("tax returns", "MAYBE", {"canUnderstand": "MAYBE", "canFulfill": "NO"}),
    ],
)
def test_strategy_topic(skill: Skill, topic: Any, verdict: str, slot: Any) -> None:
    answer = ask(skill, "GetStrategyIntent", {"topic": topic})
    assert answer == {"canFulfill": verdict, "slots": {"topic": slot}}


@pytest.mark.parametrize(
    "name", ["ReadLetterIntent", "HearMantraIntent", "GetStrategyIntent", "KidTimeSummaryIntent"]
)
def test_content_intents_are_a_yes(skill: Skill, name: str) -> None:
    assert ask(skill, name) == {"canFulfill": "YES"}


@pytest.mark.parametrize(
    "name", ["OrderPizzaIntent", "AMAZON.StopIntent", "AMAZON.HelpIntent", "ForgetMeIntent"]
)
def test_other_intents_are_a_no(skill: Skill, name: str) -> None:
    assert ask(skill, name) == {"canFulfill": "NO"}


def test_a_slot_the_intent_does_not_have_makes_it_a_maybe(skill: Skill) -> None:
    answer = ask(skill, "ReadLetterIntent", {"recipient": "grandma"})
    assert answer == {
        "canFulfill": "MAYBE",
        "slots": {"recipient": {"canUnderstand": "NO", "canFulfill": "NO"}},
    }


def test_works_without_a_session(skill: Skill) -> None:
    assert ask(skill, "HearMantraIntent", with_session=False) == {"canFulfill": "YES"}


def test_en_gb_gets_the_same_answers(skill: Skill) -> None:
    answer = ask(skill, "StartKidTimeIntent", {"duration": "PT15M"}, locale="en-GB")
    assert answer["canFulfill"] == "YES"


def test_nothing_is_stored_for_a_new_user(skill: Skill) -> None:
    store = TinyDBPersistenceAdapter(skill.data_dir)
    for name in ("StartKidTimeIntent", "GetStrategyIntent", "ReadLetterIntent"):
        ask(skill, name, {"duration": "PT20M"} if name == "StartKidTimeIntent" else None)
    assert not store.path_for(E.USER_ID).exists()


def test_stored_state_is_untouched(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock()))
    store = TinyDBPersistenceAdapter(skill.data_dir)
    path = store.path_for(E.USER_ID)
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    skill.clock.advance(minutes=3)
    ask(skill, "StartKidTimeIntent", {"duration": "PT30M"})
    ask(skill, "GetStrategyIntent", {"topic": "good enough"})
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(
    "intent",
    [
        {"name": "StartKidTimeIntent", "slots": ["duration"]},
        {"slots": {}},
        {"name": "StartKidTimeIntent", "slots": {"duration": {"value": 20}}},
    ],
)
def test_malformed_can_fulfill_request_is_refused(skill: Skill, intent: Any) -> None:
    body = E.can_fulfill("StartKidTimeIntent", now=skill.clock())
    body["request"]["intent"] = intent
    reply = skill.post(body)
    assert reply.status == 400 and reply.body["error"] == "invalid_request"
