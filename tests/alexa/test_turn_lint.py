"""A content lint at the handler level (issue 11): every intent and every combination the
handlers build, in all five locales, as a tired parent would hear it.

It fails when a response is over the 30-second budget (75 words at 155 wpm; the letter pieces
are exempt), an open-session response does not end in a question or a clear prompt, a reprompt
equals its prompt, a sentence repeats within one response, or the same response comes twice in
a row for one user.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from skill.alexa.builder import HANDLED_INTENTS
from skill.devtools.simulator import AppTransport, Conversation, EnvelopeFactory, UtteranceMatcher
from skill.devtools.simulator.conversation import Turn
from skill.devtools.simulator.model import load_model
from speech import compose
from speech.catalog import Catalog, load_catalogs
from tests.conftest import Skill

CATALOGS = load_catalogs()
LOCALES = ["en-US", "en-GB", "en-AU", "en-CA", "en-IN"]
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000001"
#: 30 seconds at Alexa's pace of about 155 words a minute.
WORDS_PER_MINUTE = 155
BUDGET_SECONDS = 30
BUDGET_WORDS = BUDGET_SECONDS * WORDS_PER_MINUTE // 60
#: The long-form letter pieces are read slowly on purpose and may run longer.
LETTER_PIECES = {"ReadLetterIntent", "ShortLetterIntent", "ReadAlongIntent"}
#: Said again on purpose: "repeat that" repeats.
SAME_ON_PURPOSE = {"AMAZON.RepeatIntent"}
_users = itertools.count()


def words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def seconds(text: str) -> float:
    """Speaking time at 155 wpm (pauses not counted)."""
    return round(words(text) * 60 / WORDS_PER_MINUTE, 1)


@dataclass
class Said:
    """One checked turn: what was asked for and what came back."""

    step: str
    turn: Turn


class Script:
    """One user's conversation through the real handlers, keeping every turn."""

    def __init__(self, skill: Skill, locale: str) -> None:
        self.skill = skill
        factory = EnvelopeFactory(SKILL_ID, f"lint-{next(_users)}", locale, clock=skill.clock)
        self.chat = Conversation(
            AppTransport(skill.app), factory, UtteranceMatcher(load_model(locale))
        )
        self.said: list[Said] = []

    def launch(self) -> Turn:
        turn = self.chat.launch()
        self.said.append(Said("LaunchRequest", turn))
        return turn

    def intend(self, intent: str, **slots: str) -> Turn:
        if not self.chat.in_session:
            self.chat.launch()  # a one-shot request: the session opens with it
        turn = self.chat.intend(intent, slots or None)
        self.said.append(Said(intent, turn))
        return turn

    def leave(self, **advance: int) -> None:
        self.chat.end()
        if advance:
            self.skill.clock.advance(**advance)


def scripts(skill: Skill, locale: str) -> Iterator[Script]:
    """Every intent alone, then the combinations the handlers build."""
    for name in sorted(HANDLED_INTENTS):
        script = Script(skill, locale)
        script.launch()
        script.intend(name)
        yield script

    launches = Script(skill, locale)  # new, returning, named, at every hour, after a gap
    for _ in range(3):
        launches.launch()
        launches.leave(hours=5)
    launches.launch()
    launches.intend("DailyAffirmationIntent")
    launches.leave(hours=7)
    launches.launch()
    launches.intend("SetNameIntent", name="Ana")
    launches.leave(hours=9)
    launches.launch()
    launches.leave(days=20)
    launches.launch()
    yield launches

    strategies = Script(skill, locale)  # the rotation, the progress line, the restart note
    strategies.launch()
    for _ in range(len(CATALOGS.for_locale(locale).strategies) + 2):
        strategies.intend("GetStrategyIntent")
    strategies.intend("AMAZON.NextIntent")
    strategies.intend("AMAZON.YesIntent")
    for _ in range(4):
        strategies.intend("MoreDetailIntent")
    strategies.intend("AMAZON.YesIntent")
    strategies.intend("GetStrategyIntent", topic="something nobody has ever asked about")
    strategies.intend("ChooseFocusIntent")
    strategies.leave(days=1)
    strategies.launch()
    strategies.intend("AMAZON.YesIntent")
    yield strategies

    for intent in ("WhyGuiltyIntent", "FirstStepsIntent"):
        topics = Script(skill, locale)
        topics.launch()
        topics.intend(intent)
        topics.intend("MoreDetailIntent")
        topics.intend("AMAZON.YesIntent")
        topics.intend("AMAZON.NextIntent")
        topics.intend("AMAZON.YesIntent")
        yield topics

    comfort = Script(skill, locale)
    comfort.launch()
    comfort.intend("FirstStepsIntent")
    comfort.intend("AMAZON.YesIntent")
    comfort.intend("SetGuiltTriggerIntent", trigger="juggling")
    comfort.intend("SetGuiltTriggerIntent", trigger="comparison")
    comfort.intend("FeelingGuiltyIntent", trigger="missing school events")
    comfort.intend("FeelingGuiltyIntent")
    comfort.intend("AMAZON.YesIntent")
    yield comfort

    for answer in ("AMAZON.YesIntent", "FeelingGuiltyIntent", "AMAZON.NoIntent"):
        bad_day = Script(skill, locale)
        bad_day.launch()
        bad_day.intend("BadDayIntent")
        bad_day.intend(answer)
        yield bad_day

    lost = Script(skill, locale)
    lost.launch()
    for _ in range(4):
        lost.intend("AMAZON.FallbackIntent")
    yield lost

    kid_time = Script(skill, locale)
    kid_time.intend("KidTimeSummaryIntent")
    kid_time.leave()
    kid_time.intend("StartKidTimeIntent", duration="PT20M")
    kid_time.intend("StartKidTimeIntent")
    kid_time.launch()
    kid_time.intend("KidTimeSummaryIntent")
    kid_time.skill.clock.advance(minutes=12)
    kid_time.launch()
    kid_time.intend("EndKidTimeIntent")
    kid_time.intend("EndKidTimeIntent")
    kid_time.intend("AMAZON.YesIntent")
    kid_time.intend("EndKidTimeIntent")
    kid_time.intend("KidTimeSummaryIntent")
    yield kid_time

    forget = Script(skill, locale)
    forget.launch()
    forget.intend("ForgetMeIntent")
    forget.intend("AMAZON.NoIntent")
    forget.intend("ForgetMeIntent")
    forget.intend("AMAZON.YesIntent")
    yield forget


_PROMPT = re.compile(r"\bsay\b|\?$", re.IGNORECASE)


def problems(said: Said, before: Said | None, catalog: Catalog) -> list[str]:
    """What is wrong with one turn."""
    turn, found = said.turn, []
    text = (turn.text or "").strip()
    if not turn.ok:
        return [f"{said.step}: HTTP {turn.status}"]
    if not text:
        return []  # events and kid-time screens say nothing: nothing to lint
    letter_cards = {
        catalog.letter.title,
        catalog.text("letter_short.card_title"),
        catalog.text("read_along.card_title"),
    }
    letter_piece = said.step in LETTER_PIECES or turn.card_title in letter_cards
    if not letter_piece and words(text) > BUDGET_WORDS:
        found.append(f"{said.step}: {words(text)} words ({seconds(text)} s): {text[:60]}")
    lines = compose.sentences(text)
    if not turn.ended and not _PROMPT.search(lines[-1]):
        found.append(f"{said.step}: open session ends without a question: {lines[-1]!r}")
    if turn.reprompt is not None and turn.reprompt.strip() == text:
        found.append(f"{said.step}: the reprompt equals the prompt")
    repeated = {
        line
        for line in lines
        if lines.count(line) > 1 and line != catalog.mantra and words(line) > 2
    }
    if repeated:
        found.append(f"{said.step}: a sentence repeats: {sorted(repeated)}")
    if (
        before is not None
        and said.step == before.step
        and said.step not in SAME_ON_PURPOSE
        and text == (before.turn.text or "").strip()
    ):
        found.append(f"{said.step}: the same response twice in a row: {text[:60]}")
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_every_turn_is_brief_ends_on_a_prompt_and_varies(
    make_skill: Callable[..., Skill], locale: str
) -> None:
    skill = make_skill(signed=False)
    catalog = CATALOGS.for_locale(locale)
    found: list[str] = []
    checked = 0
    for script in scripts(skill, locale):
        before = None
        for said in script.said:
            found += problems(said, before, catalog)
            before = said
            checked += 1
    assert checked > 100
    assert found == [], "\n".join(found)


def test_five_launches_give_at_least_three_greetings(make_skill: Callable[..., Skill]) -> None:
    skill = make_skill(signed=False)
    script = Script(skill, "en-US")
    greetings = []
    for _ in range(5):
        greetings.append(script.launch().text)
        script.leave(hours=3)
    assert len(set(greetings)) >= 3, greetings
    assert all(a != b for a, b in itertools.pairwise(greetings)), "never twice in a row"


def test_greeting_uses_her_name_and_notices_a_long_gap(make_skill: Callable[..., Skill]) -> None:
    skill = make_skill(signed=False)
    script = Script(skill, "en-US")
    script.launch()
    script.intend("SetNameIntent", name="Ana")
    script.leave(days=30)
    back = script.launch().text or ""
    assert "Ana" in back
    assert any(back.startswith(line.format(name="Ana")) for line in greeting_pool("long_gap_named"))


def greeting_pool(name: str) -> tuple[str, ...]:
    return CATALOGS.for_locale("en-US").pool(f"greeting.{name}")
