"""Comfort, today's affirmation, answers in context and the fallback's escalation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from speech.catalog import load_catalogs
from tests.alexa.test_skill import lines, stored
from tests.alexa.test_turn_lint import Script
from tests.conftest import Skill

US = load_catalogs().for_locale("en-US")


@pytest.fixture
def skill(make_skill: Callable[..., Skill]) -> Skill:
    """The skill without signature checks: these tests talk through the simulator."""
    return make_skill(signed=False)


def test_bad_day_comforts_first_without_homework_then_offers_letter_or_breath(
    skill: Skill,
) -> None:
    script = Script(skill, "en-US")
    reply = script.intend("BadDayIntent")
    text = reply.text or ""
    assert any(text.startswith(line) for line in lines(US, "bad_day.comfort"))
    assert text.endswith(US.text("bad_day.offer")) and not reply.ended
    assert not any(s.try_now in text for s in US.strategies)
    letter = script.intend("AMAZON.YesIntent")
    assert letter.card_title == US.text("letter_short.card_title") and letter.ended
    assert US.text("offer.strategy") not in (letter.text or "")


def test_the_progress_line_closes_the_third_strategy(skill: Skill) -> None:
    script = Script(skill, "en-US")
    progress = lines(US, "progress.closing")
    texts = [script.intend("GetStrategyIntent").text or "" for _ in range(3)]
    assert not any(line in texts[0] or line in texts[1] for line in progress)
    assert any(line in texts[2] for line in progress)


def test_guilty_about_a_trigger_comforts_and_remembers_it(skill: Skill) -> None:
    script = Script(skill, "en-US")
    trigger = US.triggers[0]
    reply = script.intend("FeelingGuiltyIntent", trigger=trigger.id.replace("-", " "))
    text = reply.text or ""
    assert text.startswith(US.text("guilty.comfort"))
    assert US.text("trigger.saved", title=trigger.title) in text
    assert "have one about" not in text
    assert stored(skill, script.chat.factory.user_id)["guilt_trigger"] == trigger.id


def test_todays_affirmation_stays_all_day_and_never_repeats_within_30_days(
    skill: Skill,
) -> None:
    script = Script(skill, "en-US")
    seen = []
    for _ in range(30):
        first = script.intend("DailyAffirmationIntent")
        again = script.intend("DailyAffirmationIntent")
        assert first.card is not None and again.card is not None
        assert first.card["content"] == again.card["content"], "one affirmation a day"
        seen.append(first.card["content"])
        script.leave(days=1)
    assert len(set(seen)) == 30


def test_launch_question_yes_gives_the_affirmation_and_no_a_warm_goodbye(
    make_skill: Callable[..., Skill],
) -> None:
    skill = make_skill(signed=False)
    script = Script(skill, "en-US")
    script.launch()
    yes = script.chat.say("yes")
    assert yes.intent == "AMAZON.YesIntent"
    assert yes.card_title == US.text("affirmation.card_title")
    script.leave()
    script.launch()
    no = script.chat.say("no")
    assert no.ended and no.text == US.text("no.goodbye")


def test_another_one_after_a_strategy_gives_the_next(make_skill: Callable[..., Skill]) -> None:
    skill = make_skill(signed=False)
    script = Script(skill, "en-US")
    titles = {script.intend("GetStrategyIntent").card_title}
    for answer in ("another one", "one more", "next", "yes", "sure"):
        turn = script.chat.say(answer)
        assert turn.card_title in {s.title for s in US.strategies}, answer
        titles.add(turn.card_title)
    assert len(titles) == 6, "each answer gave a new strategy"


def test_fallbacks_escalate_then_end_kindly(skill: Skill) -> None:
    script = Script(skill, "en-US")
    replies = [script.intend("AMAZON.FallbackIntent") for _ in range(4)]
    assert [r.text for r in replies[:3]] == [
        US.text("fallback.first"),
        US.text("fallback.second"),
        US.text("fallback.third"),
    ]
    assert not any(r.ended for r in replies[:3])
    assert replies[2].reprompt_text == US.text("fallback.third_reprompt")
    assert replies[3].ended and replies[3].text == US.text("fallback.goodbye")
    script.intend("AMAZON.HelpIntent")
    after = script.intend("AMAZON.FallbackIntent")
    assert after.text == US.text("fallback.first"), "understood turns reset the count"
