"""A content lint: every turn the skill can say, in every locale, heard as a tired parent would.

The turns are assembled the way the handlers assemble them (today's handlers, and the composed
turns in :mod:`speech.compose` that the conversation handlers use for brief forms, greetings,
affirmations, comfort and fallbacks). A turn fails when it:

- runs over 30 seconds at Alexa's pace of about 155 words a minute (the long-form letter, its
  short version and read-along are exempt: they are meant to be listened to slowly);
- keeps the session open without ending on a question or a clear "say ..." prompt;
- has a reprompt that only repeats its prompt;
- says the same sentence twice.

Pools must hold different lines, and every question must declare the answers it expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from speech import compose, ssml
from speech.catalog import Catalog, load_catalogs

CATALOGS = load_catalogs()
ALL = list(CATALOGS)
WORDS_PER_MINUTE = 155
BUDGET_SECONDS = 30.0
#: A name and a topic as long as a parent might really say them (Alexa's topic slot is a short
#: phrase; the handler also cuts it at 80 characters).
LONG_NAME = "Mary Elizabeth"
LONG_TOPIC = "getting everyone out of the door on time"
GREETING_POOL_MINIMUM = 4
AFFIRMATION_MINIMUM = 30


@dataclass(frozen=True)
class Turn:
    """One response: what is said, and the reprompt when the session stays open."""

    name: str
    speech: str
    reprompt: str | None = None


def plain(fragment: str) -> str:
    return ssml.to_plain_text(ssml.speak(fragment))


def word_count(fragment: str) -> int:
    return len(plain(fragment).split())


def seconds(fragment: str) -> float:
    """Speaking time at Alexa's pace (words only; pauses are extra and counted separately)."""
    return word_count(fragment) * 60 / WORDS_PER_MINUTE


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(fragment: str) -> list[str]:
    said = _SENTENCE_END.split(" ".join(plain(fragment).split()))
    return [s for s in said if normalised(s)]


def normalised(sentence: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", sentence.lower()).split())


def ends_in_prompt(fragment: str) -> bool:
    """The last sentence asks a question or tells her what she can say."""
    said = sentences(fragment)
    if not said:
        return False
    last = said[-1].strip()
    return last.endswith("?") or bool(re.search(r"\bsay\b", last, re.IGNORECASE))


def join(*parts: str) -> str:
    return ssml.join(*parts)


def longest(values: tuple[str, ...] | list[str]) -> str:
    return max(values, key=lambda v: len(v.split()))


# --- every turn the skill can build ------------------------------------------------------------


def launch_turns(c: Catalog) -> Iterator[Turn]:
    menu = c.say("menu.reprompt")
    title = longest([s.title for s in c.strategies])
    for key in ("greeting.new", "greeting.focus", "greeting.kid_time_running"):
        for variant in range(len(c.pool(key))):
            speech = compose.greeting_ssml(c, key, variant, focus_title=title, kid_time_minutes=45)
            if key == "greeting.kid_time_running":
                yield Turn(f"{key}[{variant}]", speech)
                for minutes in (0, 1):  # "only just started", "1 minute"
                    speech = compose.greeting_ssml(c, key, variant, kid_time_minutes=minutes)
                    yield Turn(f"{key}[{variant}] {minutes} min", speech)
            elif key == "greeting.focus":
                yield Turn(f"{key}[{variant}]", speech, c.say("focus.check_reprompt", title=title))
            else:
                yield Turn(f"{key}[{variant}]", speech, menu)
    for key in compose.OPENER_POOLS:
        for name in (None, LONG_NAME):
            pool = c.pool(compose.greeting_pool_key(key, name))
            for variant in range(len(pool)):
                for ask in range(len(c.pool("greeting.ask"))):
                    speech = compose.greeting_ssml(c, key, variant, ask_variant=ask, name=name)
                    yield Turn(f"{key}[{variant}]+ask[{ask}] name={name}", speech, menu)


def strategy_turns(c: Catalog) -> Iterator[Turn]:
    again = c.say("strategy.reprompt")
    notes = {
        "none": "",
        "unknown_topic": c.say("strategy.unknown_topic", topic=LONG_TOPIC),
        "restarted": c.say("strategy.restarted", count=len(c.strategies)),
    }
    for s in c.strategies:
        # Today's handler: notes, the strategy, "would you like another one?".
        for note_name, note in notes.items():
            yield Turn(
                f"strategy {s.id} today note={note_name}",
                join(note, compose.strategy_ssml(c, s), c.say("strategy.offer_next")),
                again,
            )
        # The brief turn: notes, brief form, progress line when due, the offer of more.
        progress = c.pool("progress.closing")
        for note_name, note in notes.items():
            for variant in range(len(progress)):
                heard = compose.PROGRESS_AFTER_STRATEGIES
                yield Turn(
                    f"strategy {s.id} brief note={note_name} progress[{variant}]",
                    join(
                        note,
                        compose.strategy_brief_ssml(c, s, after_note=bool(note)),
                        compose.progress_note(c, heard, variant),
                        c.say("strategy.offer_more"),
                    ),
                    c.say("strategy.offer_more_reprompt"),
                )
        for page in range(compose.strategy_pages(s)):
            last = page == compose.strategy_pages(s) - 1
            yield Turn(
                f"strategy {s.id} more[{page}]",
                compose.strategy_more_ssml(c, s, page),
                again if last else c.say("strategy.more_reprompt"),
            )


def topic_turns(c: Catalog) -> Iterator[Turn]:
    menu = c.say("menu.reprompt")
    offer_strategy = c.say("offer.strategy_reprompt")
    yield Turn(
        "why guilty today", join(compose.causes_ssml(c), c.say("offer.strategy")), offer_strategy
    )
    yield Turn(
        "why guilty brief", join(compose.causes_brief_ssml(c), c.say("causes.offer_more")), menu
    )
    for i in range(len(c.causes)):
        yield Turn(f"cause detail {i}", compose.cause_detail_ssml(c, i), menu)
    yield Turn(
        "first steps",
        join(compose.first_steps_ssml(c), c.say("first_steps.offer_trigger")),
        c.say("first_steps.reprompt"),
    )
    for i in range(len(c.first_steps)):
        yield Turn(f"first step detail {i}", compose.first_step_detail_ssml(c, i), menu)
    yield Turn("trigger.ask", c.say("trigger.ask"), c.say("trigger.reprompt"))
    yield Turn(
        "trigger.unknown+ask",
        join(c.say("trigger.unknown"), c.say("trigger.ask")),
        c.say("trigger.reprompt"),
    )
    trigger = longest([t.title for t in c.triggers])
    yield Turn(
        "trigger.saved",
        join(c.say("trigger.saved", title=trigger), c.say("trigger.offer_strategy")),
        offer_strategy,
    )
    yield Turn("mantra", join(compose.mantra_ssml(c), c.say("offer.strategy")), offer_strategy)


def comfort_turns(c: Catalog) -> Iterator[Turn]:
    yield Turn(
        "guilty",
        join(compose.feeling_guilty_ssml(c), c.say("guilty.offer")),
        c.say("guilty.reprompt"),
    )
    trigger = longest([t.title for t in c.triggers])
    yield Turn(
        "guilty about a trigger",
        join(
            c.say("guilty.comfort"),
            c.say("breath.intro"),
            compose.breath_ssml(c),
            c.say("trigger.saved", title=trigger),
            c.say("guilty.offer"),
        ),
        c.say("guilty.reprompt"),
    )
    for variant in range(len(c.pool("bad_day.comfort"))):
        yield Turn(
            f"bad day [{variant}]", compose.bad_day_ssml(c, variant), c.say("bad_day.reprompt")
        )
    yield Turn("bad day breath", compose.bad_day_breath_ssml(c))
    yield Turn("bad day goodbye", c.say("bad_day.goodbye"))


def kid_time_turns(c: Catalog) -> Iterator[Turn]:
    activity = longest(c.activities)
    notes = [
        "",
        c.say("kidtime.adjusted_low", minimum=5, minutes=5),
        c.say("kidtime.adjusted_high", maximum=60, minutes=60),
        c.say("kidtime.adjusted_unclear", minutes=15),
    ]
    for n, note in enumerate(notes):
        for timer in ("", "timer.ask", "timer.set", "timer.failed"):
            yield Turn(
                f"kid time start note={n} {timer}",
                join(note, compose.kid_time_ssml(c, 60, activity), c.say(timer) if timer else ""),
            )
    for minutes in (0, 1, 40):
        yield Turn(f"kid time running {minutes}", compose.kid_time_running_ssml(c, minutes))
    for minutes, week in ((0, 1), (1, 1), (25, 9)):
        done = c.say("kidtime.done", count=minutes) if minutes else c.say("kidtime.done_short")
        yield Turn(f"kid time done {minutes}", join(done, c.say("kidtime.done_week", count=week)))
    yield Turn(
        "kid time not running", c.say("kidtime.not_running"), c.say("kidtime.offer_reprompt")
    )
    offer = c.say("summary.offer")
    for sessions, minutes, streak in ((0, 0, 0), (1, 10, 1), (2, 25, 2), (12, 300, 7)):
        summary = compose.week_summary_ssml(c, sessions, minutes, streak)
        yield Turn(f"summary {sessions}", join(summary, offer), c.say("kidtime.offer_reprompt"))
        running = compose.week_summary_ssml(c, sessions, minutes, streak, running_minutes=5)
        yield Turn(f"summary {sessions} running", join(running, c.say("summary.running_close")))
    yield Turn("timer.declined", c.say("timer.declined"))
    yield Turn("timer.accepted", c.say("timer.accepted", count=30))


def other_turns(c: Catalog) -> Iterator[Turn]:
    menu = c.say("menu.reprompt")
    yield Turn("help", c.say("help"), menu)
    for attempt in (1, 2, 3):
        speech, reprompt = compose.fallback_ssml(c, attempt)
        yield Turn(f"fallback {attempt}", speech, reprompt)
    yield Turn("fallback goodbye", c.say("fallback.goodbye"))
    then_menu = [
        "repeat.nothing",
        "start_over",
        "yes_no.unexpected",
        "forget.kept",
        "focus.tried",
        "focus.not_tried",
        "notice.fresh_start",
        "name.saved",
    ]
    for key in then_menu:
        yield Turn(f"{key}+menu", join(c.say(key, name=LONG_NAME), menu), menu)
    yield Turn("focus.none", c.say("focus.none"), menu)
    yield Turn("name.invalid", c.say("name.invalid"), menu)
    yield Turn("forget.confirm", c.say("forget.confirm"), c.say("forget.reprompt"))
    yield Turn("error", c.say("error.apology"), menu)
    yield Turn("affirmation.offer", c.say("affirmation.offer"), c.say("affirmation.offer_reprompt"))
    for index in range(len(c.affirmations)):
        for intro in range(len(c.pool("affirmation.intro"))):
            body = compose.affirmation_ssml(c, index, intro)
            yield Turn(f"affirmation {index} intro={intro}", join(body, menu), menu)
    for key in ("goodbye", "no.goodbye", "forget.done", "focus.saved", "timer.announce"):
        yield Turn(key, c.say(key, title=longest([s.title for s in c.strategies])))


def all_turns(c: Catalog) -> list[Turn]:
    return [
        *launch_turns(c),
        *strategy_turns(c),
        *topic_turns(c),
        *comfort_turns(c),
        *kid_time_turns(c),
        *other_turns(c),
    ]


#: Messages that belong to the letter (exempt from the budget: read slowly, on purpose).
LETTER_KEYS = ("letter.", "letter_short.", "read_along.")


def every_message_piece(c: Catalog) -> Iterator[tuple[str, str]]:
    """Each template of each message, rendered with long but realistic values."""
    params = {
        "name": LONG_NAME,
        "topic": LONG_TOPIC,
        "title": longest([s.title for s in c.strategies]),
        "try_now": longest([s.try_now for s in c.strategies]),
        "activity": longest(c.activities),
        "text": longest([t.text for t in c.causes]),
        "elapsed": c.text("kidtime.elapsed", count=45),
        "minutes": 60,
        "minimum": 5,
        "maximum": 60,
        # Reminders and the workday ritual: a long reminder, list and good thing.
        "what": c.text("reminders.what_kid_time"),
        "time": "12:45 PM",
        "when": c.text("reminders.when_weekdays"),
        "reminder": c.text("reminders.item", what="to stop work", time="12:45", when="tomorrow"),
        "items": ", ".join(
            [c.text("reminders.what_work")] * 2 + [c.text("reminders.what_kid_time")]
        ),
        "thing": LONG_TOPIC,
    }
    for key in c.messages:
        for variant in range(len(c.pool(key))):
            for count in (1, 45):
                yield f"{key}[{variant}]", c.say(key, variant=variant, count=count, **params)


# --- the checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_every_turn_fits_thirty_seconds(catalog: Catalog) -> None:
    over = {
        t.name: f"{word_count(t.speech)} words, {seconds(t.speech):.1f} s"
        for t in all_turns(catalog)
        if seconds(t.speech) > BUDGET_SECONDS
    }
    assert not over, (
        f"{catalog.locale}: over {BUDGET_SECONDS:.0f} s at {WORDS_PER_MINUTE} wpm: {over}"
    )


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_every_message_fits_thirty_seconds(catalog: Catalog) -> None:
    over = [
        name
        for name, piece in every_message_piece(catalog)
        if not name.startswith(LETTER_KEYS) and seconds(piece) > BUDGET_SECONDS
    ]
    assert not over, f"{catalog.locale}: {over}"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_open_turns_end_on_a_question_or_a_say_prompt(catalog: Catalog) -> None:
    bad = [
        f"{t.name}: ...{plain(t.speech)[-60:]!r}"
        for t in all_turns(catalog)
        if t.reprompt is not None and not ends_in_prompt(t.speech)
    ]
    bad += [
        f"{t.name} reprompt: {plain(t.reprompt)!r}"
        for t in all_turns(catalog)
        if t.reprompt is not None and not ends_in_prompt(t.reprompt)
    ]
    assert not bad, f"{catalog.locale}: {bad}"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_a_reprompt_is_not_its_prompt_again(catalog: Catalog) -> None:
    same = [
        t.name
        for t in all_turns(catalog)
        if t.reprompt is not None and normalised(plain(t.reprompt)) == normalised(plain(t.speech))
    ]
    assert not same, f"{catalog.locale}: {same}"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_no_sentence_twice_in_one_turn(catalog: Catalog) -> None:
    pieces = [(t.name, t.speech) for t in all_turns(catalog)]
    pieces += list(every_message_piece(catalog))
    pieces += [(f"letter {n}", body) for n, body in compose.speakable(catalog).items()]
    repeated = {}
    for name, speech in pieces:
        said = [normalised(s) for s in sentences(speech)]
        twice = {s for s in said if said.count(s) > 1}
        if "mantra" in name:
            twice.discard(normalised(catalog.mantra))  # said twice on purpose, to repeat it
        if twice:
            repeated[name] = sorted(twice)
    assert not repeated, f"{catalog.locale}: {repeated}"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_pools_hold_different_lines_and_greetings_have_enough(catalog: Catalog) -> None:
    for key, value in catalog.messages.items():
        if not isinstance(value, list):
            continue
        lines = [normalised(line) for line in value]
        assert len(set(lines)) == len(lines), f"{catalog.locale} {key}: a line is there twice"
        if key.startswith(("greeting.", "bad_day.", "affirmation.", "progress.")):
            assert len(value) >= GREETING_POOL_MINIMUM, f"{catalog.locale} {key}"
    greeting_pools = {k for k, v in catalog.messages.items() if k.startswith("greeting.")}
    expected = {"greeting.new", "greeting.ask", "greeting.focus", "greeting.kid_time_running"}
    for key in compose.OPENER_POOLS:
        expected |= {key, f"{key}_named"}
    assert expected <= greeting_pools
    assert all(isinstance(catalog.messages[k], list) for k in expected)
    assert all("{name}" in line for line in catalog.pool("greeting.morning_named"))


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_focus_greetings_still_ask_if_she_tried_it(catalog: Catalog) -> None:
    for line in catalog.pool("greeting.focus"):
        assert "{title}" in line and line.endswith("?")
        assert re.search(r"\btry it\?$", line), line


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_every_question_declares_its_answers(catalog: Catalog) -> None:
    asking = {
        key
        for key, value in catalog.messages.items()
        if any(t.rstrip().endswith("?") for t in catalog.pool(key))
        or (isinstance(value, dict) and any(f.rstrip().endswith("?") for f in value.values()))
    }
    missing = sorted(asking - set(catalog.answers))
    assert not missing, f"{catalog.locale}: no expected answers for {missing}"
    for key, answers in catalog.answers.items():
        assert len(set(answers)) == len(answers), f"{catalog.locale} answers.{key}"
        assert all(len(a.split()) <= 8 for a in answers), f"{catalog.locale} answers.{key}"


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_affirmations_are_short_and_different(catalog: Catalog) -> None:
    lines = [normalised(a) for a in catalog.affirmations]
    assert len(lines) >= AFFIRMATION_MINIMUM
    assert len(set(lines)) == len(lines)
    assert all(len(a.split()) <= 14 for a in catalog.affirmations)


# --- the awkward lines of issue 11, kept away ---------------------------------------------------


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_the_awkward_lines_stay_fixed(catalog: Catalog) -> None:
    everything = [piece for _, piece in every_message_piece(catalog)]
    everything += [t.speech for t in all_turns(catalog)]
    text = " ".join(plain(p) for p in everything)
    assert "I don't have one about" not in text
    assert not re.search(r"\bfor 0 minutes?\b|\b0 minutes? in\b", text)
    assert "Here's a strategy. Here's" not in text
    assert catalog.letter.greeting.rstrip(",") != "Dear me"
    assert catalog.text("letter.greeting_named", name="Ana") == "Dear Ana,"
    first_words = [s.try_now.split()[0].strip(",").lower() for s in catalog.strategies]
    assert len(set(first_words)) == len(first_words), first_words
    assert not any(normalised(s.try_now).startswith("tonight") for s in catalog.strategies[1:])


#: Uncontracted forms that sound stiff when spoken (unless a sentence ends on them, as in
#: "how tired you are.").
STIFF = re.compile(
    r"\b(do not|does not|did not|is not|are not|was not|cannot|will not|it is|that is|"
    r"there is|you are|you have|I am|I have|let us|what is)\b(?![.,;!?])",
    re.IGNORECASE,
)


@pytest.mark.parametrize("catalog", ALL, ids=lambda c: c.locale)
def test_the_letter_speaks_with_contractions(catalog: Catalog) -> None:
    letter = catalog.letter
    parts = [letter.greeting, *letter.paragraphs, *letter.short, catalog.mantra]
    stiff = [m.group(0) for part in parts for m in STIFF.finditer(part)]
    assert not stiff, f"{catalog.locale}: {stiff}"
    contractions = sum(len(re.findall(r"\w'(?:s|re|ve|ll|t|m|d)\b", p)) for p in parts)
    assert contractions >= 15


def test_the_lint_catches_what_it_should() -> None:
    catalog = CATALOGS.default
    long_turn = " ".join(["word"] * 80)
    assert seconds(long_turn) > BUDGET_SECONDS
    assert ends_in_prompt("Hello. Would you like a strategy?")
    assert ends_in_prompt("You can say start kid time.")
    assert not ends_in_prompt("Here's an idea. Enjoy it.")
    assert (
        sentences(catalog.say("start_over") + " " + catalog.say("start_over")).count(
            catalog.text("start_over")
        )
        == 2
    )
    assert STIFF.search("You do not need to") and not STIFF.search("how tired you are.")


def test_ideas_page_names_every_idea_and_where_it_lives() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "IDEAS.md").read_text(encoding="utf-8")
    catalog = CATALOGS.default
    for topic_id in (
        *(f"causes[{c.id}]" for c in catalog.causes),
        *(f"strategies[{s.id}]" for s in catalog.strategies),
        *(f"first_steps[{s.id}]" for s in catalog.first_steps),
    ):
        assert topic_id in page, topic_id
    for name in ("progress_note", "bad_day_ssml", "breath_ssml", "todays_affirmation"):
        assert hasattr(compose, name) and name in page, name
    for key in ("progress.closing", "summary.short_week", "bad_day.comfort", "mantra", "letter"):
        assert f"`{key}" in page, key
