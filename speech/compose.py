"""Pure functions that turn catalog content into paced SSML and plain card text."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import date

from speech import ssml
from speech.catalog import Catalog, Strategy, Topic

#: The letter is read slower than normal speech (a percentage, which Alexa accepts from 20 %; the
#: offline voice takes it of its own pace, calibrated to Alexa's), with real silence after every
#: sentence and longer silence between paragraphs.
LETTER_RATE = "95%"
LETTER_SENTENCE_PAUSE_MS = 800
#: Added to the paragraph's own pause (600 ms offline, an extra-strong break on Alexa): ~2 s.
LETTER_PARAGRAPH_PAUSE_MS = 1400
#: A mantra lands better with a long silence before it is said again.
MANTRA_PAUSE_MS = 1500
#: Read-along: time to repeat a line is about the time to say it (~13 characters a second).
READ_ALONG_CHARS_PER_SECOND = 13
READ_ALONG_EXTRA_MS = 1000

_LINE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")


def letter_parts(catalog: Catalog, name: str | None = None, signature_sep: str = " ") -> list[str]:
    """The letter as plain-text paragraphs: the greeting (with the parent's name when known),
    the body, and the closing with its signature."""
    letter = catalog.letter
    greeting = catalog.text("letter.greeting_named", name=name) if name else letter.greeting
    return [greeting, *letter.paragraphs, f"{letter.closing}{signature_sep}{letter.signature}"]


def paced_paragraphs(paragraphs: Sequence[str]) -> str:
    """Plain-text paragraphs read as the letter is: slowly, each sentence an ``<s>`` followed by
    :data:`LETTER_SENTENCE_PAUSE_MS` of silence, the paragraphs :data:`LETTER_PARAGRAPH_PAUSE_MS`
    further apart."""
    pause = ssml.pause(LETTER_SENTENCE_PAUSE_MS)
    body = (
        pause.join(ssml.sentence(ssml.escape(line)) for line in sentences(text))
        for text in paragraphs
    )
    return ssml.prosody(ssml.paragraphs(body, LETTER_PARAGRAPH_PAUSE_MS), LETTER_RATE)


def letter_ssml(catalog: Catalog, name: str | None = None) -> str:
    """The whole letter, paced: greeting (her name when known), paragraphs, closing and
    signature."""
    return ssml.join(
        catalog.say("letter.intro"),
        ssml.pause(LETTER_PARAGRAPH_PAUSE_MS),
        paced_paragraphs(letter_parts(catalog, name)),
    )


def letter_text(catalog: Catalog, name: str | None = None) -> str:
    """The letter as card text."""
    return "\n\n".join(letter_parts(catalog, name, signature_sep="\n"))


def sentences(paragraph: str) -> list[str]:
    """A paragraph split into lines: after each full stop, question or exclamation mark, and at
    line breaks."""
    return [s for s in _LINE_END.split(paragraph.strip()) if s]


def repeat_pause_ms(line: str) -> int:
    """Silence long enough to say ``line`` back (within Alexa's 10 s break limit)."""
    spoken_ms = 1000 * len(line) // READ_ALONG_CHARS_PER_SECOND
    return min(ssml.MAX_BREAK_MS, READ_ALONG_EXTRA_MS + spoken_ms)


def read_along_steps(catalog: Catalog, name: str | None = None) -> list[str]:
    """The letter in read-along steps: a paragraph each, with the greeting joined to the first
    paragraph and the closing to the last, so no step is a lone line."""
    greeting, *body, closing = letter_parts(catalog, name)
    if len(body) < 2:
        return ["\n".join([greeting, *body, closing])]
    return [f"{greeting}\n{body[0]}", *body[1:-1], f"{body[-1]}\n{closing}"]


def read_along_ssml(catalog: Catalog, step: int, name: str | None = None) -> str:
    """One step of the letter, a line at a time, with a pause to repeat each line."""
    paragraph = read_along_steps(catalog, name)[step]
    lines = (
        ssml.join(ssml.sentence(ssml.escape(line)), ssml.pause(repeat_pause_ms(line)))
        for line in sentences(paragraph)
    )
    return ssml.prosody(ssml.join(*lines), LETTER_RATE)


def short_letter_ssml(catalog: Catalog) -> str:
    """The short version of the letter, ending on the mantra, paced like the letter."""
    return ssml.join(
        catalog.say("letter_short.intro"),
        paced_paragraphs([*catalog.letter.short, catalog.mantra]),
    )


def causes_ssml(catalog: Catalog) -> str:
    """ "Why do I feel guilty", brief: the three causes in one line each, and the love under them.
    The turn adds an offer (``offer.strategy`` today, or ``causes.offer_more``)."""
    causes = (
        catalog.say("causes.cause", title=cause.title, text=cause.text) for cause in catalog.causes
    )
    return ssml.join(catalog.say("causes.intro"), *causes, catalog.say("causes.outro"))


causes_brief_ssml = causes_ssml


def topic_detail_ssml(
    catalog: Catalog, topics: Sequence[Topic], index: int, offer_next: str
) -> str:
    """One cause or first step in full ("tell me more"), then ``offer_next`` while more follow,
    or the ``menu.reprompt`` after the last one. ``index`` wraps round."""
    topic = topics[index % len(topics)]
    last = index % len(topics) == len(topics) - 1
    return ssml.join(
        catalog.say("topic.detail", title=topic.title, text=topic.detail),
        catalog.say("menu.reprompt" if last else offer_next),
    )


def cause_detail_ssml(catalog: Catalog, index: int) -> str:
    """The "tell me more" turn after why-guilty: cause ``index`` in full, offering the next."""
    return topic_detail_ssml(catalog, catalog.causes, index, "causes.offer_next")


def causes_text(catalog: Catalog) -> str:
    """Where the guilt comes from, in full, as card text."""
    lines = [catalog.text("causes.intro")]
    lines += [catalog.text("topic.detail", title=c.title, text=c.detail) for c in catalog.causes]
    return "\n\n".join([*lines, catalog.text("causes.outro")])


def first_steps_ssml(catalog: Catalog) -> str:
    """The first-steps turn, brief: the three steps in one line each. The turn adds
    ``first_steps.offer_trigger``."""
    steps = (
        catalog.say("first_steps.step", title=step.title, text=step.text)
        for step in catalog.first_steps
    )
    return ssml.join(catalog.say("first_steps.intro"), *steps)


first_steps_brief_ssml = first_steps_ssml


def first_step_detail_ssml(catalog: Catalog, index: int) -> str:
    """The "tell me more" turn after first steps: step ``index`` in full, offering the next."""
    return topic_detail_ssml(catalog, catalog.first_steps, index, "first_steps.offer_next")


def first_steps_text(catalog: Catalog) -> str:
    """The three first steps in full, as card text."""
    return "\n\n".join(
        catalog.text("topic.detail", title=s.title, text=s.detail) for s in catalog.first_steps
    )


def strategy_brief_ssml(catalog: Catalog, strategy: Strategy, *, after_note: bool = False) -> str:
    """The strategy turn, brief: its title, the one thing to try, then a sentence or two of why.

    ``after_note``: something was said first (``strategy.unknown_topic`` or
    ``strategy.restarted``), so the title comes as "it's called ..." rather than a second "here's".
    The turn then adds :func:`progress_note` (when due) and ``strategy.offer_more``, with the
    reprompt ``strategy.offer_more_reprompt``; "tell me more" goes on to :func:`strategy_more_ssml`.
    """
    intro_key = "strategy.intro_after_note" if after_note else f"strategy.intro_{strategy.kind}"
    return ssml.join(
        catalog.say(intro_key, title=strategy.title),
        ssml.escape(strategy.try_now),
        ssml.escape(strategy.why),
    )


def strategy_ssml(catalog: Catalog, strategy: Strategy) -> str:
    """The strategy turn as today's handler builds it (it adds ``strategy.offer_next``): now the
    brief form, so the turn fits the 30-second budget. The long paragraphs are on the card."""
    return strategy_brief_ssml(catalog, strategy)


def strategy_pages(strategy: Strategy) -> int:
    """How many "tell me more" turns the long form of a strategy takes (a paragraph each)."""
    return len(strategy.paragraphs)


def strategy_more_ssml(catalog: Catalog, strategy: Strategy, page: int = 0) -> str:
    """The "tell me more" / "the longer version" turn: one paragraph of the long form, then
    ``strategy.more_continue`` while more follow, or ``strategy.offer_next`` after the last."""
    page = max(0, min(page, len(strategy.paragraphs) - 1))
    last = page == len(strategy.paragraphs) - 1
    return ssml.join(
        ssml.paragraph(ssml.escape(strategy.paragraphs[page])),
        catalog.say("strategy.offer_next" if last else "strategy.more_continue"),
    )


def strategy_full_ssml(catalog: Catalog, strategy: Strategy) -> str:
    """The whole strategy, long form (for the offline speaker; too long for one Alexa turn, where
    :func:`strategy_more_ssml` pages it): introduction, paragraphs and a step for today."""
    return ssml.join(
        catalog.say(f"strategy.intro_{strategy.kind}", title=strategy.title),
        ssml.paragraphs(ssml.escape(p) for p in strategy.paragraphs),
        ssml.paragraph(catalog.say("strategy.try_now", try_now=strategy.try_now)),
    )


def strategy_text(catalog: Catalog, strategy: Strategy) -> str:
    """One strategy as card text: the long paragraphs and the step for today."""
    return "\n\n".join(
        [*strategy.paragraphs, catalog.text("strategy.try_now", try_now=strategy.try_now)]
    )


#: After this many strategies heard, the strategy turn closes on progress, not perfection.
PROGRESS_AFTER_STRATEGIES = 3


def progress_note(catalog: Catalog, heard: int, variant: int = 0) -> str:
    """The progress-not-perfection line for the strategy turn: said once she has heard
    ``PROGRESS_AFTER_STRATEGIES`` or more (every third one, so it stays fresh), else ``""``."""
    if heard < PROGRESS_AFTER_STRATEGIES or heard % PROGRESS_AFTER_STRATEGIES:
        return ""
    return catalog.say("progress.closing", variant=variant)


def mantra_ssml(catalog: Catalog) -> str:
    """The mantra, said twice with a silence to repeat it in between."""
    mantra = ssml.escape(catalog.mantra)
    return ssml.join(
        catalog.say("mantra.intro"),
        ssml.pause(600),
        ssml.prosody(mantra, LETTER_RATE),
        ssml.pause(MANTRA_PAUSE_MS),
        catalog.say("mantra.again"),
        ssml.prosody(mantra, LETTER_RATE),
    )


def kid_time_ssml(catalog: Catalog, minutes: int, activity: str) -> str:
    """The start of kid time: its length, one activity idea and how to end it."""
    return ssml.join(
        catalog.say("kidtime.started", minutes=minutes),
        catalog.say("kidtime.activity", activity=activity),
        catalog.say("kidtime.how_to_end"),
    )


def kid_time_elapsed_text(catalog: Catalog, minutes: int) -> str:
    """How long kid time has run, as plain text: "only just started" under a minute, never
    "going for 0 minutes"."""
    if minutes < 1:
        return catalog.text("kidtime.elapsed_just_started")
    return catalog.text("kidtime.elapsed", count=minutes)


def kid_time_running_ssml(catalog: Catalog, minutes: int) -> str:
    """The answer to "start kid time" while kid time already runs (the turn ends after it)."""
    if minutes < 1:
        return catalog.say("kidtime.already_running_just_started")
    return catalog.say("kidtime.already_running", count=minutes)


def week_summary_ssml(
    catalog: Catalog,
    sessions: int,
    minutes: int,
    streak_days: int = 0,
    running_minutes: int | None = None,
) -> str:
    """ "How did I do this week": kind to short weeks, never shaming, and aware of kid time that
    is running right now (``running_minutes`` not ``None``). Without running kid time the turn
    adds ``summary.offer``; with it, ``summary.running_close`` and the session ends."""
    running = running_minutes is not None
    if sessions == 0:
        return catalog.say("summary.none_running" if running else "summary.none")
    return ssml.join(
        catalog.say("summary.sessions", count=sessions),
        catalog.say("summary.minutes", count=minutes),
        catalog.say("summary.running_now") if running else "",
        catalog.say("summary.streak", count=streak_days) if streak_days else "",
        catalog.say("summary.short_week") if sessions <= SHORT_WEEK_SESSIONS else "",
    )


#: A week with this many kid times or fewer still hears that it counts.
SHORT_WEEK_SESSIONS = 2


# --- variety: pools of lines, never the same twice in a row ------------------------------------


def pick_variant(pool: Sequence[object], last_index: int | None, rng: random.Random) -> int:
    """The index of the next line of ``pool``: random, but never ``last_index`` again (unless the
    pool has only one line). A missing or out-of-range ``last_index`` allows any line."""
    size = len(pool)
    if size == 0:
        raise ValueError("an empty pool has no line to pick")
    if size == 1:
        return 0
    if last_index is None or not 0 <= last_index < size:
        return rng.randrange(size)
    pick = rng.randrange(size - 1)
    return pick if pick < last_index else pick + 1


#: Away this many days or more, the greeting says it's been a while (kindly).
LONG_GAP_DAYS = 14
#: Local hour ranges of the time-of-day greetings; the rest of the night is "late_night".
TIMES_OF_DAY = (("morning", 5, 12), ("afternoon", 12, 17), ("evening", 17, 22))


def time_of_day(hour: int) -> str:
    """``morning``, ``afternoon``, ``evening`` or ``late_night`` for a local hour (0-23)."""
    for name, start, end in TIMES_OF_DAY:
        if start <= hour % 24 < end:
            return name
    return "late_night"


def greeting_key(
    *,
    is_new: bool,
    hour: int,
    days_away: int | None = None,
    kid_time_running: bool = False,
    has_focus: bool = False,
) -> str:
    """Which greeting pool the launch turn uses: ``greeting.new`` the first time, then kid time
    running, a focus to ask about, back after a long gap, or the time of day (device time zone)."""
    if is_new:
        return "greeting.new"
    if kid_time_running:
        return "greeting.kid_time_running"
    if has_focus:
        return "greeting.focus"
    if days_away is not None and days_away >= LONG_GAP_DAYS:
        return "greeting.long_gap"
    return f"greeting.{time_of_day(hour)}"


#: Greeting pools that open the turn and are followed by a ``greeting.ask`` line; each has a
#: ``<key>_named`` twin that uses her name.
OPENER_POOLS = (
    "greeting.morning",
    "greeting.afternoon",
    "greeting.evening",
    "greeting.late_night",
    "greeting.long_gap",
)


def greeting_pool_key(key: str, name: str | None = None) -> str:
    """The pool to pick for ``key``: an opener's ``_named`` twin when her name is known."""
    return f"{key}_named" if name and key in OPENER_POOLS else key


def greeting_ssml(
    catalog: Catalog,
    key: str,
    variant: int,
    *,
    ask_variant: int = 0,
    name: str | None = None,
    focus_title: str | None = None,
    kid_time_minutes: int = 0,
) -> str:
    """The launch turn. ``key`` from :func:`greeting_key`; ``variant`` a line of
    ``greeting_pool_key(key, name)`` and ``ask_variant`` a line of ``greeting.ask`` (both from
    :func:`pick_variant`, remembering the last index per pool).

    Reprompts: ``menu.reprompt``; ``focus.check_reprompt`` for the focus pool. The kid time pool
    ends the session (it asks nothing). An opener without its question never stands alone.
    """
    if key == "greeting.new":
        return catalog.say(key, variant=variant)
    if key == "greeting.focus":
        return catalog.say(key, variant=variant, title=focus_title or "")
    if key == "greeting.kid_time_running":
        elapsed = kid_time_elapsed_text(catalog, kid_time_minutes)
        return catalog.say(key, variant=variant, elapsed=elapsed)
    opener = catalog.say(greeting_pool_key(key, name), variant=variant, name=name or "")
    return ssml.join(opener, catalog.say("greeting.ask", variant=ask_variant))


# --- a daily affirmation ---------------------------------------------------------------------

#: No affirmation comes back within this many days for one user.
AFFIRMATION_NO_REPEAT_DAYS = 30

AffirmationHistory = list[tuple[date, int]]


def parse_affirmation_history(value: object) -> AffirmationHistory:
    """Stored history (``[{"date": "2026-12-02", "index": 4}, ...]``) as (date, index) pairs;
    anything malformed is skipped, so bad stored data never breaks the turn."""
    history: AffirmationHistory = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, dict):
            continue
        day, index = item.get("date"), item.get("index")
        if not isinstance(day, str) or not isinstance(index, int) or isinstance(index, bool):
            continue
        try:
            history.append((date.fromisoformat(day), index))
        except ValueError:
            continue
    return history


def todays_affirmation(
    count: int, today: date, history: Sequence[tuple[date, int]], salt: int = 0
) -> int:
    """The index of today's affirmation among ``count``: the one already given today if any,
    else one not given in the last ``AFFIRMATION_NO_REPEAT_DAYS`` days (if every one was, the
    least recently given). Deterministic for a (date, history, salt); ``salt`` (e.g. from the user
    id) keeps users from all hearing the same line on the same day."""
    if count < 1:
        raise ValueError("there are no affirmations to choose from")
    for day, index in history:
        if day == today and 0 <= index < count:
            return index
    last_given: dict[int, date] = {}
    for day, index in history:
        if 0 <= index < count and (index not in last_given or day > last_given[index]):
            last_given[index] = day
    fresh = [
        i
        for i in range(count)
        if i not in last_given or (today - last_given[i]).days >= AFFIRMATION_NO_REPEAT_DAYS
    ]
    if not fresh:
        oldest = min(last_given.values())
        fresh = [i for i in range(count) if last_given[i] == oldest]
    return fresh[(today.toordinal() + salt) % len(fresh)]


def remember_affirmation(
    history: Sequence[tuple[date, int]], today: date, index: int
) -> list[dict[str, object]]:
    """The history to store after giving ``index`` today: today's entry plus the entries still
    inside the no-repeat window, as JSON-ready dicts (newest first)."""
    kept = [
        (day, i)
        for day, i in history
        if day != today and 0 <= (today - day).days < AFFIRMATION_NO_REPEAT_DAYS
    ]
    entries = sorted([(today, index), *kept], reverse=True)
    return [{"date": day.isoformat(), "index": i} for day, i in entries]


def affirmation_ssml(catalog: Catalog, index: int, intro_variant: int = 0) -> str:
    """Today's affirmation: a short lead-in, the line, a moment of quiet, and a goodbye note
    (the turn ends, or the handler adds the menu)."""
    line = catalog.affirmations[index % len(catalog.affirmations)]
    return ssml.join(
        catalog.say("affirmation.intro", variant=intro_variant),
        ssml.pause(AFFIRMATION_PAUSE_MS),
        ssml.sentence(ssml.escape(line)),
        ssml.pause(AFFIRMATION_PAUSE_MS),
        catalog.say("affirmation.outro"),
    )


AFFIRMATION_PAUSE_MS = 800


# --- comfort: a real breath, then nothing to do -----------------------------------------------

#: One slow breath: in for about four seconds, out for about six (each break within Alexa's 10 s).
BREATH_IN_MS = 4000
BREATH_OUT_MS = 6000


def breath_ssml(catalog: Catalog) -> str:
    """One guided breath: "breathe in", four seconds of quiet, "and out", six seconds."""
    return ssml.join(
        catalog.say("breath.in"),
        ssml.pause(BREATH_IN_MS),
        catalog.say("breath.out"),
        ssml.pause(BREATH_OUT_MS),
    )


def feeling_guilty_ssml(catalog: Catalog) -> str:
    """The "I feel guilty" turn: comfort, one real breath, then the mantra. No homework: the turn
    ends on ``guilty.offer`` (reprompt ``guilty.reprompt``), which offers only more comfort."""
    return ssml.join(
        catalog.say("guilty.comfort"),
        catalog.say("breath.intro"),
        breath_ssml(catalog),
        catalog.say("guilty.mantra_lead"),
        ssml.sentence(ssml.escape(catalog.mantra)),
    )


def bad_day_ssml(catalog: Catalog, variant: int = 0) -> str:
    """The "I had a terrible day" turn: comfort first and no fixing (a line of the
    ``bad_day.comfort`` pool), then ``bad_day.offer`` of the short letter or a breath
    (reprompt ``bad_day.reprompt``)."""
    return ssml.join(catalog.say("bad_day.comfort", variant=variant), catalog.say("bad_day.offer"))


def bad_day_breath_ssml(catalog: Catalog) -> str:
    """Her "a breath" after the bad-day offer: the breath and a kind last line (the turn ends)."""
    return ssml.join(
        catalog.say("breath.intro"), breath_ssml(catalog), catalog.say("bad_day.after_breath")
    )


# --- when she isn't understood -----------------------------------------------------------------


def fallback_ssml(catalog: Catalog, attempt: int) -> tuple[str, str]:
    """(speech, reprompt) for the ``attempt``-th misunderstanding in a row (1, 2, 3...): first a
    short sorry and the menu, then more help, then the menu once more with a kind goodbye as the
    reprompt if she stays silent. From the fourth, end with ``fallback.goodbye`` instead."""
    if attempt <= 1:
        return catalog.say("fallback.first"), catalog.say("menu.reprompt")
    if attempt == 2:
        return catalog.say("fallback.second"), catalog.say("menu.reprompt")
    return catalog.say("fallback.third"), catalog.say("fallback.third_reprompt")


def speakable(catalog: Catalog) -> dict[str, str]:
    """Every long piece of content as a complete SSML document, by name (for offline audio)."""
    documents = {
        "letter": letter_ssml(catalog),
        "mantra": mantra_ssml(catalog),
        "kid-time": kid_time_ssml(catalog, 15, catalog.activities[0]),
        "letter-short": short_letter_ssml(catalog),
        "first-steps": first_steps_ssml(catalog),
        "causes": causes_ssml(catalog),
    }
    for strategy in catalog.strategies:
        documents[f"strategy-{strategy.id}"] = strategy_full_ssml(catalog, strategy)
    return {name: ssml.speak(body) for name, body in documents.items()}
