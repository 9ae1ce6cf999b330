"""Every question the skill asks has its likely answers covered (issue 10, part 2).

For each message that ends in a question, the content file declares its expected answers. Each
answer is said, in the context where that question is asked, through the offline model matcher
(:mod:`skill.devtools.simulator`) and the real handlers: none may fall to the fallback or to
"I'm not sure what that was an answer to".
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from skill.devtools.simulator import AppTransport, Conversation, EnvelopeFactory, UtteranceMatcher
from skill.devtools.simulator.model import load_model
from speech.catalog import Catalog, load_catalogs
from tests.conftest import Skill

CATALOGS = load_catalogs()
LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000001"
_users = itertools.count()

Setup = Callable[[Conversation], None]


def _intend(*steps: str | tuple[str, dict[str, str]]) -> Setup:
    """Launch, then send these intents in the same session."""

    def run(chat: Conversation) -> None:
        chat.launch()
        for step in steps:
            name, slots = (step, None) if isinstance(step, str) else step
            chat.intend(name, slots)

    return run


def _returning(*steps: str) -> Setup:
    """A second visit: one launch, the session ended, then a new launch and these intents."""

    def run(chat: Conversation) -> None:
        chat.launch()
        for step in steps:
            chat.intend(step)
        chat.end()
        chat.launch()

    return run


def _focus_check(chat: Conversation) -> None:
    chat.launch()
    chat.intend("GetStrategyIntent")
    chat.intend("ChooseFocusIntent")
    chat.launch()


#: How to reach the turn that asks each question.
CONTEXT: dict[str, Setup] = {
    "greeting.new": _intend(),
    "greeting.ask": _returning("DailyAffirmationIntent"),
    "affirmation.offer": _returning(),
    "fallback.third": _intend(
        "AMAZON.FallbackIntent", "AMAZON.FallbackIntent", "AMAZON.FallbackIntent"
    ),
    "help": _intend("AMAZON.HelpIntent"),
    "greeting.focus": _focus_check,
    "focus.check_reprompt": _focus_check,
    "kidtime.not_running": _intend("EndKidTimeIntent"),
    "summary.offer": _intend("KidTimeSummaryIntent"),
    "strategy.offer_next": _intend("GetStrategyIntent"),
    "strategy.offer_more": _intend("GetStrategyIntent"),
    "strategy.offer_more_reprompt": _intend("GetStrategyIntent"),
    "strategy.more_continue": _intend("GetStrategyIntent", "MoreDetailIntent"),
    "offer.strategy": _intend("HearMantraIntent"),
    "trigger.offer_strategy": _intend(("SetGuiltTriggerIntent", {"trigger": "comparison"})),
    "trigger.ask": _intend("FirstStepsIntent", "AMAZON.YesIntent"),
    "trigger.reprompt": _intend("FirstStepsIntent", "AMAZON.YesIntent"),
    "first_steps.offer_trigger": _intend("FirstStepsIntent"),
    "first_steps.offer_next": _intend("FirstStepsIntent", "MoreDetailIntent"),
    "causes.offer_more": _intend("WhyGuiltyIntent"),
    "causes.offer_next": _intend("WhyGuiltyIntent", "MoreDetailIntent"),
    "guilty.offer": _intend("FeelingGuiltyIntent"),
    "bad_day.offer": _intend("BadDayIntent"),
    "forget.confirm": _intend("ForgetMeIntent"),
    "ritual.ask": _intend("EndWorkdayIntent"),
    "ritual.offer_kid_time": _intend("EndWorkdayIntent", "AMAZON.NoIntent"),
    # The apology keeps the session open with no offer: its answers are requests that work
    # anywhere, so any open session is its context.
    "error.apology": _intend(),
}


def _not_understood(catalog: Catalog) -> set[str]:
    lines = {catalog.text("yes_no.unexpected")}
    lines |= {catalog.text(f"fallback.{n}") for n in ("first", "second", "third", "goodbye")}
    return lines


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for locale in LOCALES:
        for key, answers in CATALOGS.for_locale(locale).answers.items():
            cases += [(locale, key, answer) for answer in answers]
    return cases


def test_every_question_with_answers_has_a_context() -> None:
    for catalog in CATALOGS:
        assert set(catalog.answers) <= set(CONTEXT), "a question with answers but no context"


@pytest.mark.parametrize("locale", LOCALES)
def test_answers_in_context_reach_a_real_handler(
    make_skill: Callable[..., Skill], locale: str
) -> None:
    skill = make_skill(signed=False)
    catalog = CATALOGS.for_locale(locale)
    matcher = UtteranceMatcher(load_model(locale))
    failures = []
    for key, answers in catalog.answers.items():
        for answer in answers:
            factory = EnvelopeFactory(SKILL_ID, f"user-{next(_users)}", locale)
            chat = Conversation(AppTransport(skill.app), factory, matcher)
            CONTEXT[key](chat)
            asked = chat.turns[-1]
            assert asked.ok and not asked.ended, f"{key}: the question turn ended the session"
            turn = chat.say(answer)
            text = turn.text or ""
            if (
                not turn.ok
                or turn.intent == "AMAZON.FallbackIntent"
                or any(text.startswith(line) for line in _not_understood(catalog))
            ):
                failures.append(f"{key}: {answer!r} -> {turn.intent}: {text[:70]}")
    assert failures == [], "\n".join(failures)
