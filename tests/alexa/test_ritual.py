"""The workday shutdown ritual: one-shot from a Routine, a breath, one good thing (named, yes or
no), the laptop closed, then kid time offered; within a minute spoken, in every locale."""

from __future__ import annotations

import re
from typing import Any

import pytest

from skill.alexa.handlers.kid_time import OFFER_KID_TIME
from skill.alexa.handlers.ritual import OFFER_GOOD_THING
from speech import compose, ritual, ssml
from speech.catalog import Catalog, load_catalogs
from tests import envelopes as E
from tests.conftest import Reply, Skill
from tests.speech.test_content_lint import ends_in_prompt, normalised, plain, seconds, sentences

CATALOGS = load_catalogs()
US = CATALOGS.for_locale("en-US")
LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]
#: The whole ritual, both turns, words and pauses.
RITUAL_BUDGET_SECONDS = 60


def start(skill: Skill, **kw: Any) -> Reply:
    return skill.post(E.intent("EndWorkdayIntent", now=skill.clock(), **kw))


def follow(skill: Skill, after: Reply, intent: str, slots: dict[str, Any] | None = None) -> Reply:
    body = E.intent(intent, slots, now=skill.clock(), new=False, attributes=after.attributes)
    return skill.post(body)


def pauses_seconds(fragment: str) -> float:
    return sum(int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', fragment)) / 1000


def spoken_seconds(fragment: str) -> float:
    return seconds(fragment) + pauses_seconds(fragment)


@pytest.mark.parametrize("locale", LOCALES)
def test_one_shot_from_a_routine_opens_with_a_breath_and_a_question(
    skill: Skill, locale: str
) -> None:
    catalog = CATALOGS.for_locale(locale)
    reply = start(skill, locale=locale)  # "ask mama moments to end my workday": a new session
    assert reply.status == 200 and not reply.ended
    assert reply.text.startswith(catalog.text("ritual.intro"))
    assert catalog.text("breath.in") in reply.text
    assert reply.text.endswith(catalog.text("ritual.ask"))
    assert reply.reprompt == ssml.speak(catalog.say("ritual.reprompt"))
    assert compose.breath_ssml(catalog) in reply.ssml, "one real, slow breath"
    assert reply.attributes["offer"] == OFFER_GOOD_THING


def test_a_named_good_thing_is_said_back_then_laptop_and_kid_time(skill: Skill) -> None:
    opened = start(skill)
    reply = follow(skill, opened, "GoodThingIntent", {"thing": "the quarterly report"})
    assert not reply.ended
    assert reply.text.startswith(US.text("ritual.heard", thing="the quarterly report"))
    assert US.text("ritual.laptop") in reply.text
    assert reply.text.endswith(US.text("ritual.offer_kid_time"))
    assert reply.attributes["offer"] == OFFER_KID_TIME
    assert reply.reprompt == ssml.speak(US.say("kidtime.offer_reprompt"))


def test_the_good_thing_is_escaped_and_cut(skill: Skill) -> None:
    opened = start(skill)
    reply = follow(skill, opened, "GoodThingIntent", {"thing": "<b>a & b</b> " + "x" * 200})
    assert reply.status == 200
    assert "&amp;" in reply.ssml and "<b>" not in reply.ssml
    assert "x" * 60 in reply.text and "x" * 80 not in reply.text, "cut at 80 characters"


@pytest.mark.parametrize(
    ("answer", "key"), [("AMAZON.YesIntent", "ritual.yes"), ("AMAZON.NoIntent", "ritual.no")]
)
def test_yes_or_no_moves_the_ritual_on(skill: Skill, answer: str, key: str) -> None:
    reply = follow(skill, start(skill), answer)
    assert reply.text.startswith(US.text(key))
    assert reply.text.endswith(US.text("ritual.offer_kid_time"))
    assert reply.attributes["offer"] == OFFER_KID_TIME


def test_yes_to_kid_time_starts_it(skill: Skill) -> None:
    closing = follow(skill, start(skill), "AMAZON.NoIntent")
    reply = follow(skill, closing, "AMAZON.YesIntent")
    assert reply.ended and US.text("kidtime.started", minutes=15) in reply.text


def test_no_to_kid_time_says_goodbye(skill: Skill) -> None:
    closing = follow(skill, start(skill), "AMAZON.YesIntent")
    reply = follow(skill, closing, "AMAZON.NoIntent")
    assert reply.status == 200 and reply.ended and reply.text


def test_a_good_thing_outside_the_ritual_is_still_welcomed(skill: Skill) -> None:
    reply = skill.post(E.intent("GoodThingIntent", {"thing": "we baked bread"}, now=skill.clock()))
    assert reply.text.startswith(US.text("ritual.heard", thing="we baked bread"))
    assert reply.text.endswith(US.text("menu.reprompt")) and not reply.ended


# --- the ritual, as content: within a minute, ending on prompts, no repeats ----------------


def ritual_turns(c: Catalog) -> list[tuple[str, str, str]]:
    """(name, speech, reprompt) for every turn the ritual can say."""
    turns = [("opening", ritual.opening_ssml(c), c.say("ritual.reprompt"))]
    heard = c.say("ritual.heard", thing="getting everyone out of the door on time")
    for name, ack in (("heard", heard), ("yes", c.say("ritual.yes")), ("no", c.say("ritual.no"))):
        turns.append((name, ritual.closing_ssml(c, ack), c.say("kidtime.offer_reprompt")))
    return turns


@pytest.mark.parametrize("catalog", list(CATALOGS), ids=lambda c: c.locale)
def test_the_whole_ritual_is_within_a_minute(catalog: Catalog) -> None:
    opening, *closings = ritual_turns(catalog)
    for _, closing, _ in closings:
        total = spoken_seconds(opening[1]) + spoken_seconds(closing)
        assert total <= RITUAL_BUDGET_SECONDS, f"{catalog.locale}: {total:.1f} s"
    assert spoken_seconds(ritual.offline_ssml(catalog)) <= RITUAL_BUDGET_SECONDS
    assert pauses_seconds(opening[1]) >= 10, "the breath is given its time"


@pytest.mark.parametrize("catalog", list(CATALOGS), ids=lambda c: c.locale)
def test_ritual_turns_pass_the_content_lint(catalog: Catalog) -> None:
    for name, speech, reprompt in ritual_turns(catalog):
        assert seconds(speech) <= 30, name
        assert ends_in_prompt(speech) and ends_in_prompt(reprompt), name
        assert normalised(plain(reprompt)) != normalised(plain(speech)), name
        said = [normalised(s) for s in sentences(speech)]
        assert len(said) == len(set(said)), name
    for key in ("ritual.ask", "ritual.offer_kid_time"):
        assert key in catalog.answers


def test_the_offline_ritual_does_not_ask_what_it_cannot_hear() -> None:
    for catalog in CATALOGS:
        text = ssml.to_plain_text(ssml.speak(ritual.offline_ssml(catalog)))
        assert "?" not in text
        assert catalog.text("ritual.laptop") in text
