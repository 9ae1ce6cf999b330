"""The seed's first steps, comfort for the guilty moment, and the letter's personal modes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from skill.alexa.handlers.letter import clean_given_name
from skill.storage import TinyDBPersistenceAdapter
from speech import compose
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.alexa.test_skill import lines
from tests.alexa_api_server import FakeAlexaApi, running
from tests.conftest import Reply, Skill

US = load_catalogs().for_locale("en-US")


def stored(skill: Skill) -> dict[str, object]:
    return TinyDBPersistenceAdapter(skill.data_dir).load(E.USER_ID)


def trigger_slot(spoken: str, value_id: str | None) -> dict[str, object]:
    if value_id is None:
        return {"value": spoken}
    slot = E.resolved_slot("trigger", spoken, value_id)
    authority = slot["resolutions"]["resolutionsPerAuthority"][0]  # type: ignore[index]
    authority["authority"] = authority["authority"].replace("StrategyTopic", "GuiltTrigger")
    return slot


def test_naming_a_trigger_stores_it_and_strategies_lean_toward_it(skill: Skill) -> None:
    slot = trigger_slot("yelling", "mistakes")
    reply = skill.post(E.intent("SetGuiltTriggerIntent", {"trigger": slot}, now=skill.clock()))
    trigger = US.trigger("mistakes")
    assert trigger is not None
    assert reply.text.startswith(US.text("trigger.saved", title=trigger.title))
    assert stored(skill)["guilt_trigger"] == "mistakes"

    titles = []
    for _ in range(len(trigger.leans_to)):
        strategy = skill.post(E.intent("GetStrategyIntent", now=skill.clock()))
        titles.append(strategy.card["title"] if strategy.card else None)
    assert titles == [US.strategy(i).title for i in trigger.leans_to]


def test_missing_trigger_is_elicited(skill: Skill) -> None:
    reply = skill.post(E.intent("SetGuiltTriggerIntent", now=skill.clock()))
    directives = reply.response.get("directives", [])
    assert [d["type"] for d in directives] == ["Dialog.ElicitSlot"]
    assert directives[0]["slotToElicit"] == "trigger"
    assert directives[0]["updatedIntent"]["name"] == "SetGuiltTriggerIntent"
    assert reply.text == US.text("trigger.ask") and not reply.ended
    assert "guilt_trigger" not in stored(skill)


def test_unknown_trigger_is_asked_again(skill: Skill) -> None:
    slot = trigger_slot("<the weather>", None)
    reply = skill.post(E.intent("SetGuiltTriggerIntent", {"trigger": slot}, now=skill.clock()))
    assert reply.text.startswith(US.text("trigger.unknown"))
    assert reply.response["directives"][0]["type"] == "Dialog.ElicitSlot"


def test_first_steps_then_yes_elicits_the_trigger(skill: Skill) -> None:
    steps = skill.post(E.intent("FirstStepsIntent", now=skill.clock()))
    for step in US.first_steps:
        assert step.text in steps.text
    assert steps.attributes["offer"] == "set_trigger"
    yes = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=steps.attributes))
    assert yes.response["directives"][0]["slotToElicit"] == "trigger"


def test_focus_is_chosen_and_asked_about_at_the_next_launch(skill: Skill) -> None:
    strategy = skill.post(E.intent("GetStrategyIntent", now=skill.clock()))
    chosen = strategy.attributes["last_strategy"]
    focus = skill.post(
        E.intent("ChooseFocusIntent", now=skill.clock(), attributes=strategy.attributes)
    )
    title = US.strategy(chosen).title
    assert focus.text == US.text("focus.saved", title=title)
    assert stored(skill)["focus"]["strategy"] == chosen  # type: ignore[index]

    skill.clock.advance(days=1)
    launch = skill.post(E.launch(now=skill.clock()))
    assert launch.text in lines(US, "greeting.focus", title=title)
    assert launch.attributes["offer"] == "focus_check"
    no = skill.post(E.intent("AMAZON.NoIntent", now=skill.clock(), attributes=launch.attributes))
    assert no.text.startswith(US.text("focus.not_tried")) and not no.ended

    again = skill.post(E.launch(now=skill.clock()))
    assert title not in again.text, "the focus is asked about once"
    assert again.attributes["offer"] != "focus_check"


def test_focus_yes_celebrates(skill: Skill) -> None:
    strategy = skill.post(E.intent("GetStrategyIntent", now=skill.clock()))
    skill.post(E.intent("ChooseFocusIntent", now=skill.clock(), attributes=strategy.attributes))
    launch = skill.post(E.launch(now=skill.clock()))
    yes = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=launch.attributes))
    assert yes.text.startswith(US.text("focus.tried"))


def test_focus_without_a_strategy_explains(skill: Skill) -> None:
    reply = skill.post(E.intent("ChooseFocusIntent", now=skill.clock()))
    assert reply.text == US.text("focus.none")
    assert "focus" not in stored(skill)


def test_feeling_guilty_comforts_with_a_breath_and_the_mantra_and_no_homework(
    skill: Skill,
) -> None:
    reply = skill.post(E.intent("FeelingGuiltyIntent", now=skill.clock()))
    assert reply.text.startswith(US.text("guilty.comfort"))
    assert US.mantra in reply.text
    assert US.text("first_steps.intro") not in reply.text  # comfort, not a list of homework
    breath = reply.ssml.index(US.say("breath.in"))
    assert '<break time="4000ms"/>' in reply.ssml[breath:]
    assert reply.ssml.index(US.say("breath.intro")) < reply.ssml.index(
        US.mantra.replace("'", "&apos;")
    )
    assert reply.attributes["offer"] == "guilty"
    yes = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=reply.attributes))
    assert yes.card is not None and yes.card["title"] == US.letter.title


def test_name_personalises_the_letter(skill: Skill) -> None:
    reply = skill.post(E.intent("SetNameIntent", {"name": "maría josé"}, now=skill.clock()))
    assert reply.text.startswith(US.text("name.saved", name="María José"))
    letter = skill.post(E.intent("ReadLetterIntent", now=skill.clock()))
    assert US.text("letter.greeting_named", name="María José") in letter.text
    assert letter.card is not None
    assert letter.card["content"].startswith(US.text("letter.greeting_named", name="María José"))


@pytest.mark.parametrize("name", ["", "<script>", "x" * 41, "R2D2", "a & b", None])
def test_odd_names_are_refused(skill: Skill, name: str | None) -> None:
    slots = {"name": {"name": "name"} if name is None else {"value": name}}
    reply = skill.post(E.intent("SetNameIntent", slots, now=skill.clock()))
    assert reply.status == 200 and reply.text == US.text("name.invalid")
    assert "given_name" not in stored(skill)


def test_clean_given_name() -> None:
    assert clean_given_name("  anne   marie ") == "Anne Marie"
    assert clean_given_name("O'Neil") == "O'Neil"
    assert clean_given_name("Zoë-Lynn") == "Zoë-Lynn"
    assert clean_given_name("Anne--Marie") is None
    assert clean_given_name(42) is None


def test_read_along_goes_step_by_step_with_pauses(skill: Skill) -> None:
    steps = compose.read_along_steps(US)
    reply = skill.post(E.intent("ReadAlongIntent", now=skill.clock()))
    assert reply.text.startswith(US.text("read_along.intro"))
    first_lines = compose.sentences(steps[0])
    assert reply.ssml.count("<break") >= len(first_lines)
    for step in range(1, len(steps)):
        assert reply.attributes.get("read_along_step") == step
        reply = skill.post(
            E.intent("AMAZON.NextIntent", now=skill.clock(), attributes=reply.attributes)
        )
        assert compose.sentences(steps[step])[0] in reply.text
    assert US.text("read_along.done") in reply.text
    assert "read_along_step" not in reply.attributes
    # After the letter, "next" is back to strategies.
    after = skill.post(
        E.intent("AMAZON.NextIntent", now=skill.clock(), attributes=reply.attributes)
    )
    assert after.card is not None and after.card["title"] in {s.title for s in US.strategies}


def test_repeat_during_read_along_keeps_the_place(skill: Skill) -> None:
    first = skill.post(E.intent("ReadAlongIntent", now=skill.clock()))
    again = skill.post(
        E.intent("AMAZON.RepeatIntent", now=skill.clock(), attributes=first.attributes)
    )
    assert again.ssml == first.ssml and again.attributes["read_along_step"] == 1


def test_another_intent_leaves_read_along(skill: Skill) -> None:
    first = skill.post(E.intent("ReadAlongIntent", now=skill.clock()))
    help_reply = skill.post(
        E.intent("AMAZON.HelpIntent", now=skill.clock(), attributes=first.attributes)
    )
    assert "read_along_step" not in help_reply.attributes


def test_short_letter_ends_on_the_mantra(skill: Skill) -> None:
    reply = skill.post(E.intent("ShortLetterIntent", now=skill.clock()))
    assert all(p in reply.text for p in US.letter.short)
    assert reply.text.index(US.mantra) > reply.text.index(US.letter.short[-1])
    assert reply.card is not None and reply.card["title"] == US.text("letter_short.card_title")


def test_forget_me_forgets_the_name_and_trigger_too(skill: Skill) -> None:
    skill.post(E.intent("SetNameIntent", {"name": "Ana"}, now=skill.clock()))
    slot = trigger_slot("yelling", "mistakes")
    skill.post(E.intent("SetGuiltTriggerIntent", {"trigger": slot}, now=skill.clock()))
    ask = skill.post(E.intent("ForgetMeIntent", now=skill.clock()))
    skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=ask.attributes))
    state = stored(skill)
    assert "given_name" not in state and "guilt_trigger" not in state


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    with running() as server:
        yield server


def letter_with_profile(skill: Skill, api: FakeAlexaApi, **kw: Any) -> Reply:
    body = E.intent("ReadLetterIntent", now=skill.clock(), **kw)
    return skill.post(E.with_system(body, api_endpoint=api.url, consent_token="consent"))


def profile_calls(api: FakeAlexaApi) -> int:
    return len(api.calls("GET", "/v2/accounts/~current/settings/Profile.givenName"))


def test_letter_greets_by_the_profile_name_when_allowed(skill: Skill, api: FakeAlexaApi) -> None:
    api.given_name = "Ana"
    first = letter_with_profile(skill, api)
    assert first.text.count(US.text("letter.greeting_named", name="Ana")) == 1
    again = letter_with_profile(skill, api, attributes=first.attributes)
    assert US.text("letter.greeting_named", name="Ana") in again.text
    assert profile_calls(api) == 1, "looked up once per session"
    assert "given_name" not in stored(skill), "a profile name is not stored"


def test_profile_permission_denied_keeps_the_plain_greeting(
    skill: Skill, api: FakeAlexaApi
) -> None:
    reply = letter_with_profile(skill, api)
    assert reply.status == 200 and US.letter.greeting in reply.text
    assert profile_calls(api) == 1


def test_told_name_wins_over_the_profile(skill: Skill, api: FakeAlexaApi) -> None:
    api.given_name = "Ana"
    skill.post(E.intent("SetNameIntent", {"name": "Bea"}, now=skill.clock()))
    reply = letter_with_profile(skill, api)
    assert US.text("letter.greeting_named", name="Bea") in reply.text
    assert profile_calls(api) == 0


def test_no_consent_token_means_no_profile_call(skill: Skill, api: FakeAlexaApi) -> None:
    api.given_name = "Ana"
    body = E.with_system(E.intent("ReadLetterIntent", now=skill.clock()), api_endpoint=api.url)
    reply = skill.post(body)
    assert US.letter.greeting in reply.text and profile_calls(api) == 0


def test_odd_profile_names_are_not_spoken(skill: Skill, api: FakeAlexaApi) -> None:
    api.given_name = "<audio src='x'/>"
    reply = letter_with_profile(skill, api)
    assert US.letter.greeting in reply.text and "<audio" not in reply.ssml


def test_why_guilty_names_every_cause_and_offers_more(skill: Skill) -> None:
    reply = skill.post(E.intent("WhyGuiltyIntent", now=skill.clock()))
    for cause in US.causes:
        assert cause.text in reply.text
    assert US.text("causes.outro") in reply.text
    assert reply.text.endswith(US.text("causes.offer_more")) and not reply.ended
    assert reply.card is not None and reply.card["title"] == US.text("causes.card_title")
    assert all(cause.detail in reply.card["content"] for cause in US.causes)
    more = skill.post(E.intent("MoreDetailIntent", now=skill.clock(), attributes=reply.attributes))
    assert US.causes[0].detail in more.text and not more.ended
    again = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=more.attributes))
    assert US.causes[1].detail in again.text


def test_read_along_gives_the_greeting_its_own_line() -> None:
    first_lines = compose.sentences(compose.read_along_steps(US, "Ana")[0])
    assert first_lines[0] == US.text("letter.greeting_named", name="Ana")
    last_lines = compose.sentences(compose.read_along_steps(US)[-1])
    assert last_lines[-1] == f"{US.letter.closing} {US.letter.signature}"
