"""Every intent, posted as a signed Alexa request through the Flask test client."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from skill.alexa.turn import Deps
from skill.storage import TinyDBPersistenceAdapter
from speech.catalog import Catalog, load_catalogs
from tests import envelopes as E
from tests.conftest import Skill

CATALOGS = load_catalogs()
US = CATALOGS.for_locale("en-US")
GB = CATALOGS.for_locale("en-GB")


def lines(catalog: Catalog, key: str, **params: object) -> set[str]:
    """Every line of a content pool, as plain text."""
    return {catalog.text(key, variant=i, **params) for i in range(len(catalog.pool(key)))}


def stored(skill: Skill, user_id: str = E.USER_ID) -> dict[str, object]:
    """What the store holds for a user, read through a fresh adapter."""
    return TinyDBPersistenceAdapter(skill.data_dir).load(user_id)


def test_launch_welcomes_new_then_returning_user(skill: Skill) -> None:
    first = skill.post(E.launch(now=skill.clock()))
    assert first.status == 200
    assert first.text in lines(US, "greeting.new")
    assert not first.ended and first.reprompt is not None

    again = skill.post(E.launch(now=skill.clock()))
    assert again.text not in lines(US, "greeting.new")
    assert again.text.endswith(US.text("affirmation.offer"))
    assert stored(skill)["visits"] == 2


def test_kid_time_start_end_and_summary(skill: Skill) -> None:
    start = skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock()))
    assert start.status == 200
    assert "20 minutes" in start.text
    assert any(activity in start.text for activity in US.activities)
    assert start.ended, "kid time is unplugged: the session must end"
    assert start.card is not None and start.card["title"] == US.text("kidtime.card_title")
    active = stored(skill)["kid_time"]["active"]  # type: ignore[index]
    assert active["planned_minutes"] == 20

    skill.clock.advance(minutes=18)
    done = skill.post(E.intent("EndKidTimeIntent", now=skill.clock()))
    assert done.text.startswith(US.text("kidtime.done", count=18))
    kid_time = stored(skill)["kid_time"]
    assert kid_time["active"] is None  # type: ignore[index]
    assert [s["minutes"] for s in kid_time["sessions"]] == [18]  # type: ignore[index]

    summary = skill.post(E.intent("KidTimeSummaryIntent", now=skill.clock()))
    assert US.text("summary.sessions", count=1) in summary.text
    assert US.text("summary.minutes", count=18) in summary.text
    assert not summary.ended and summary.attributes["offer"] == "kid_time"


def test_kid_time_without_duration_uses_default(skill: Skill) -> None:
    reply = skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    assert "15 minutes" in reply.text
    assert US.text("kidtime.adjusted_unclear", minutes=15) not in reply.text


@pytest.mark.parametrize(
    ("spoken", "minutes", "reason"),
    [("PT2M", 5, "low"), ("PT3H", 60, "high"), ("banana", 15, "unclear"), ("PT", 15, "unclear")],
)
def test_kid_time_odd_durations_are_adjusted_with_a_note(
    skill: Skill, spoken: str, minutes: int, reason: str
) -> None:
    reply = skill.post(E.intent("StartKidTimeIntent", {"duration": spoken}, now=skill.clock()))
    assert reply.status == 200
    note = US.text(f"kidtime.adjusted_{reason}", minutes=minutes, minimum=5, maximum=60)
    assert reply.text.startswith(note)
    assert stored(skill)["kid_time"]["active"]["planned_minutes"] == minutes  # type: ignore[index]


def test_second_start_while_running_does_not_restart(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT15M"}, now=skill.clock()))
    skill.clock.advance(minutes=4)
    reply = skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    assert reply.text == US.text("kidtime.already_running", count=4)


def test_forgotten_kid_time_is_recorded_at_its_planned_length(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT10M"}, now=skill.clock()))
    skill.clock.advance(hours=5)
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT10M"}, now=skill.clock()))
    sessions = stored(skill)["kid_time"]["sessions"]  # type: ignore[index]
    assert [s["minutes"] for s in sessions] == [10]


def test_end_without_running_kid_time_offers_to_start(skill: Skill) -> None:
    reply = skill.post(E.intent("EndKidTimeIntent", now=skill.clock()))
    assert reply.text == US.text("kidtime.not_running")
    yes = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=reply.attributes))
    assert "15 minutes" in yes.text and yes.ended
    assert stored(skill)["kid_time"]["active"] is not None  # type: ignore[index]


def test_strategies_never_repeat_until_all_heard(skill: Skill) -> None:
    titles = []
    reply = skill.post(E.intent("GetStrategyIntent", now=skill.clock()))
    for _ in range(len(US.strategies)):
        assert reply.status == 200 and not reply.ended
        titles.append(reply.card["title"] if reply.card else None)
        reply = skill.post(
            E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=reply.attributes)
        )
    assert sorted(titles) == sorted(s.title for s in US.strategies)
    # The eleventh starts the rotation again, and says so.
    restarted = US.text("strategy.restarted", count=len(US.strategies))
    assert reply.text.startswith(restarted)
    assert stored(skill)["strategies_heard"] == [US.strategies[0].id]


def test_strategy_by_topic_uses_entity_resolution(skill: Skill) -> None:
    slot = E.resolved_slot("topic", "me time", "self-care")
    reply = skill.post(E.intent("GetStrategyIntent", {"topic": slot}, now=skill.clock()))
    assert reply.card is not None and reply.card["title"] == US.strategy("self-care").title
    assert US.strategy("self-care").try_now in reply.text


def test_strategy_with_unknown_topic_says_so_and_gives_another(skill: Skill) -> None:
    topic = "<b>tax returns</b> & more"
    reply = skill.post(E.intent("GetStrategyIntent", {"topic": topic}, now=skill.clock()))
    assert reply.status == 200
    assert "<b>" not in reply.ssml, "slot values must be escaped in SSML"
    assert "&lt;b&gt;tax returns&lt;/b&gt; &amp; more" in reply.ssml
    assert US.text("strategy.unknown_topic", topic=topic) in reply.text


def test_next_gives_the_next_strategy(skill: Skill) -> None:
    first = skill.post(E.intent("GetStrategyIntent", now=skill.clock()))
    second = skill.post(
        E.intent("AMAZON.NextIntent", now=skill.clock(), attributes=first.attributes)
    )
    assert first.card and second.card and first.card["title"] != second.card["title"]


def test_letter_is_paced_and_has_a_card(skill: Skill) -> None:
    reply = skill.post(E.intent("ReadLetterIntent", now=skill.clock()))
    assert '<prosody rate="' in reply.ssml and "<break" in reply.ssml
    assert reply.ssml.count("<p>") >= len(US.letter.paragraphs)
    assert len(reply.ssml) < 8000
    assert reply.card is not None and reply.card["title"] == US.letter.title
    assert all(p in reply.card["content"] for p in US.letter.paragraphs)
    assert reply.attributes["offer"] == "strategy"
    no = skill.post(E.intent("AMAZON.NoIntent", now=skill.clock(), attributes=reply.attributes))
    assert no.ended and no.text == US.text("no.goodbye")


def test_mantra(skill: Skill) -> None:
    reply = skill.post(E.intent("HearMantraIntent", now=skill.clock()))
    assert reply.text.count(US.mantra) == 2


def test_repeat_says_the_last_answer_again(skill: Skill) -> None:
    help_reply = skill.post(E.intent("AMAZON.HelpIntent", now=skill.clock()))
    assert help_reply.text == US.text("help")
    again = skill.post(
        E.intent("AMAZON.RepeatIntent", now=skill.clock(), attributes=help_reply.attributes)
    )
    assert again.ssml == help_reply.ssml and not again.ended


def test_repeat_with_nothing_to_repeat(skill: Skill) -> None:
    reply = skill.post(E.intent("AMAZON.RepeatIntent", now=skill.clock()))
    assert reply.text.startswith(US.text("repeat.nothing")) and not reply.ended


@pytest.mark.parametrize("name", ["AMAZON.StopIntent", "AMAZON.CancelIntent"])
def test_stop_and_cancel_end_the_session(skill: Skill, name: str) -> None:
    reply = skill.post(E.intent(name, now=skill.clock()))
    assert reply.ended and reply.text == US.text("goodbye")


@pytest.mark.parametrize("name", ["AMAZON.StartOverIntent", "AMAZON.NavigateHomeIntent"])
def test_start_over_and_home_return_to_the_menu(skill: Skill, name: str) -> None:
    reply = skill.post(E.intent(name, now=skill.clock()))
    assert not reply.ended and US.text("menu.reprompt") in reply.text


@pytest.mark.parametrize("name", ["AMAZON.FallbackIntent", "SomeIntentFromAnotherModel"])
def test_fallback_and_unknown_intents_redirect(skill: Skill, name: str) -> None:
    reply = skill.post(E.intent(name, now=skill.clock()))
    assert reply.status == 200 and not reply.ended
    assert reply.text == US.text("fallback.first")


@pytest.mark.parametrize("name", ["AMAZON.YesIntent", "AMAZON.NoIntent"])
def test_yes_or_no_out_of_the_blue(skill: Skill, name: str) -> None:
    reply = skill.post(E.intent(name, now=skill.clock()))
    assert reply.text.startswith(US.text("yes_no.unexpected")) and not reply.ended


def test_forget_me_asks_then_deletes(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    assert stored(skill)["kid_time"]
    ask = skill.post(E.intent("ForgetMeIntent", now=skill.clock()))
    assert ask.text == US.text("forget.confirm") and ask.attributes["offer"] == "forget_me"
    no = skill.post(E.intent("AMAZON.NoIntent", now=skill.clock(), attributes=ask.attributes))
    assert no.text.startswith(US.text("forget.kept"))
    assert stored(skill)["kid_time"], "no must keep the data"
    ask = skill.post(E.intent("ForgetMeIntent", now=skill.clock()))
    yes = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=ask.attributes))
    assert yes.text == US.text("forget.done") and yes.ended
    assert "kid_time" not in stored(skill)


@pytest.mark.parametrize(
    ("status", "deleted"), [("NOT_PERSISTED", True), (None, True), ("PERSISTED", False)]
)
def test_skill_disabled_deletes_unless_persisted(
    skill: Skill, status: str | None, deleted: bool
) -> None:
    skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    reply = skill.post(E.skill_disabled(status, now=skill.clock()))
    assert reply.status == 200
    assert ("kid_time" not in stored(skill)) is deleted


def test_skill_disabled_for_unknown_user_is_fine(skill: Skill) -> None:
    reply = skill.post(E.skill_disabled("NOT_PERSISTED", now=skill.clock(), user_id="nobody"))
    assert reply.status == 200


def test_session_ended_has_an_empty_response(skill: Skill) -> None:
    reply = skill.post(E.session_ended(now=skill.clock()))
    assert reply.status == 200 and "outputSpeech" not in reply.response


def test_en_gb_speaks_mum(skill: Skill) -> None:
    reply = skill.post(E.intent("StartKidTimeIntent", locale="en-GB", now=skill.clock()))
    skill.clock.advance(minutes=12)
    done = skill.post(E.intent("EndKidTimeIntent", locale="en-GB", now=skill.clock()))
    assert reply.status == 200
    assert done.text.startswith(GB.text("kidtime.done", count=12))
    assert " mum" in done.text and " mom" not in done.text


@pytest.mark.parametrize("locale", ["en-AU", "en-IN", "en-CA", "fr-FR", "xx"])
def test_every_locale_gets_an_answer(skill: Skill, locale: str) -> None:
    reply = skill.post(E.launch(locale=locale, now=skill.clock()))
    expected = CATALOGS.for_locale(locale)
    assert reply.text in lines(expected, "greeting.new")


def test_every_open_session_has_a_reprompt(skill: Skill) -> None:
    requests: list[Callable[[], dict[str, object]]] = [
        lambda: E.launch(now=skill.clock()),
        lambda: E.intent("GetStrategyIntent", now=skill.clock()),
        lambda: E.intent("ReadLetterIntent", now=skill.clock()),
        lambda: E.intent("HearMantraIntent", now=skill.clock()),
        lambda: E.intent("KidTimeSummaryIntent", now=skill.clock()),
        lambda: E.intent("AMAZON.HelpIntent", now=skill.clock()),
        lambda: E.intent("AMAZON.FallbackIntent", now=skill.clock()),
        lambda: E.intent("ForgetMeIntent", now=skill.clock()),
    ]
    for build in requests:
        reply = skill.post(build())
        assert reply.ended or reply.reprompt, reply.text


def test_session_ended_with_an_error_logs_its_type(
    skill: Skill, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12, fault 7: ask-sdk-model names the error's type ``object_type``."""
    body = E.envelope(
        {
            "type": "SessionEndedRequest",
            "reason": "ERROR",
            "error": {"type": "INVALID_RESPONSE", "message": "bad"},
        },
        now=skill.clock(),
    )
    with caplog.at_level(logging.WARNING):
        reply = skill.post(body)
    assert reply.status == 200
    assert "device error: INVALID_RESPONSE" in caplog.text
    assert "device error: ?" not in caplog.text


def test_every_intent_and_offer_is_declared_once() -> None:
    """The handler list, HANDLED_INTENTS and the CanFulfill table come from one registry."""
    from skill.alexa.builder import HANDLED_INTENTS, HANDLED_REQUEST_TYPES
    from skill.alexa.registry import REGISTRY

    names = [name for route in REGISTRY.routes for name in route.intents]
    assert len(names) == len(set(names)) and set(names) == HANDLED_INTENTS
    assert {"LaunchRequest", "IntentRequest", "CanFulfillIntentRequest"} <= HANDLED_REQUEST_TYPES
    assert set(REGISTRY.can_fulfill_table) <= HANDLED_INTENTS
    assert REGISTRY.routes[-1].catch_all or REGISTRY.handlers.__doc__
    handlers = REGISTRY.handlers(Deps())
    assert handlers[-1].route.catch_all, "the fallback stays last"  # type: ignore[attr-defined]
    assert {"strategy", "kid_time", "forget_me", "menu"} <= set(REGISTRY.yes_actions)


def test_routes_are_looked_up_as_the_in_order_scan_would_find_them() -> None:
    """RouteMapper's one look-up picks the handler ask-sdk's scan in order picks, for every
    declared intent and request type, unknown intents and odd requests (the fallback)."""
    from ask_sdk_core.handler_input import HandlerInput
    from ask_sdk_model import Intent, IntentRequest, LaunchRequest, RequestEnvelope
    from ask_sdk_model.events.skillevents import SkillDisabledRequest
    from ask_sdk_runtime.dispatch_components.request_components import (
        GenericRequestHandlerChain,
        GenericRequestMapper,
    )

    from skill.alexa.registry import REGISTRY, RouteMapper

    chains = [GenericRequestHandlerChain(h) for h in REGISTRY.handlers(Deps())]
    scan = GenericRequestMapper(request_handler_chains=chains)
    mapper = RouteMapper(chains)
    requests = [IntentRequest(intent=Intent(name=name)) for name in sorted(REGISTRY.intents)]
    requests += [
        IntentRequest(intent=Intent(name="AMAZON.NoSuchIntent")),
        IntentRequest(intent=Intent(name=None)),
        IntentRequest(intent=None),
        LaunchRequest(),
        SkillDisabledRequest(),
    ]
    picked = set()
    for request in requests:
        handler_input = HandlerInput(RequestEnvelope(request=request))
        expected = scan.get_request_handler_chain(handler_input)
        assert mapper.get_request_handler_chain(handler_input) is expected, request
        picked.add(id(expected))
    assert len(picked) > len(REGISTRY.routes) // 2  # the requests really reach many routes


def test_the_built_skill_dispatches_through_the_route_mapper(tmp_path: Path) -> None:
    from skill.alexa.builder import build_skill
    from skill.alexa.registry import REGISTRY, RouteMapper

    built = build_skill(load_catalogs(), TinyDBPersistenceAdapter(tmp_path))
    mappers = built.request_dispatcher.request_mappers
    assert [type(m) for m in mappers] == [RouteMapper]
    assert len(mappers[0].request_handler_chains) == len(REGISTRY.routes)


def test_only_the_fallback_may_take_every_intent() -> None:
    from skill.alexa.registry import Registry

    registry = Registry()
    with pytest.raises(ValueError, match="catch_all"):
        registry.request("IntentRequest")(lambda turn: None)  # type: ignore[arg-type,return-value]
