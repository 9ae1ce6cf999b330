"""Every answer the content expects to a question is understood by that locale's model.

Routing each answer through the handlers in context is the conversation tests' job; this
checks the language side: the answer reaches an intent, and yes/no answers reach Yes/No.
"""

from __future__ import annotations

import pytest

from skill.devtools.simulator import UtteranceMatcher, load_model
from speech.catalog import load_catalogs

LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]
# Answers the models have no intent for yet; the handlers decide what they mean in context.
NO_INTENT_YET = {"a breath"}
YES = {"yes", "sure", "yes please", "yes i did", "i did", "go on"}
NO = {"no", "no thanks", "not yet", "no i didn't", "not now", "keep it"}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_expected_answer_reaches_an_intent(locale: str) -> None:
    catalog = load_catalogs().for_locale(locale)
    matcher = UtteranceMatcher(load_model(locale))
    assert catalog.answers, "the content declares its questions' answers"
    unknown = []
    for key, answers in catalog.answers.items():
        for answer in answers:
            match = matcher.match(answer)
            assert match is not None
            said = answer.lower()
            if said in NO_INTENT_YET:
                continue
            if match.intent == "AMAZON.FallbackIntent":
                unknown.append((key, answer))
            if said in YES:
                assert match.intent == "AMAZON.YesIntent", (key, answer, match.intent)
            if said in NO:
                assert match.intent == "AMAZON.NoIntent", (key, answer, match.intent)
    assert not unknown, unknown


@pytest.mark.parametrize("locale", LOCALES)
def test_menu_and_follow_up_answers_are_exact_samples(locale: str) -> None:
    """What Alexa is trained on, not only what the offline fuzzy layer guesses."""
    matcher = UtteranceMatcher(load_model(locale))
    expected = {
        "kid time": "StartKidTimeIntent",
        "a strategy": "GetStrategyIntent",
        "the letter": "ReadLetterIntent",
        "another one": "AMAZON.NextIntent",
        "one more": "AMAZON.NextIntent",
        "tell me more": "MoreDetailIntent",
        "the longer version": "MoreDetailIntent",
        "today's affirmation": "DailyAffirmationIntent",
        "keep it": "AMAZON.NoIntent",
        "not yet": "AMAZON.NoIntent",
        "i did": "AMAZON.YesIntent",
    }
    for text, intent in expected.items():
        match = matcher.match(text)
        assert match is not None
        assert (match.intent, match.layer) == (intent, "exact"), text
