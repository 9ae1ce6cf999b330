"""Pure functions that turn catalog content into paced SSML and plain card text."""

from __future__ import annotations

import re

from speech import ssml
from speech.catalog import Catalog, Strategy

#: The letter is read a little slower than normal speech, with room to breathe between paragraphs.
LETTER_RATE = "90%"
LETTER_PARAGRAPH_PAUSE_MS = 800
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


def letter_ssml(catalog: Catalog, name: str | None = None) -> str:
    """The whole letter, paced: greeting, paragraphs, closing and signature."""
    body = (ssml.escape(p) for p in letter_parts(catalog, name))
    return ssml.join(
        catalog.say("letter.intro"),
        ssml.pause(LETTER_PARAGRAPH_PAUSE_MS),
        ssml.prosody(ssml.paragraphs(body, LETTER_PARAGRAPH_PAUSE_MS), LETTER_RATE),
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
    """The short version of the letter, ending on the mantra."""
    body = (ssml.escape(p) for p in (*catalog.letter.short, catalog.mantra))
    return ssml.join(
        catalog.say("letter_short.intro"),
        ssml.prosody(ssml.paragraphs(body, LETTER_PARAGRAPH_PAUSE_MS), LETTER_RATE),
    )


def causes_ssml(catalog: Catalog) -> str:
    """Where working-parent guilt comes from: the causes, one paragraph each, and what lies
    underneath them."""
    causes = (
        catalog.say("causes.cause", title=cause.title, text=cause.text) for cause in catalog.causes
    )
    return ssml.join(
        catalog.say("causes.intro"),
        ssml.paragraphs(causes),
        ssml.paragraph(catalog.say("causes.outro")),
    )


def first_steps_ssml(catalog: Catalog) -> str:
    """The three first steps, one paragraph each."""
    steps = (
        catalog.say("first_steps.step", title=step.title, text=step.text)
        for step in catalog.first_steps
    )
    return ssml.join(catalog.say("first_steps.intro"), ssml.paragraphs(steps))


def strategy_ssml(catalog: Catalog, strategy: Strategy) -> str:
    """One strategy or mental shift: an introduction, its paragraphs and a step for today."""
    return ssml.join(
        catalog.say(f"strategy.intro_{strategy.kind}", title=strategy.title),
        ssml.paragraphs(ssml.escape(p) for p in strategy.paragraphs),
        ssml.paragraph(catalog.say("strategy.try_now", try_now=strategy.try_now)),
    )


def strategy_text(catalog: Catalog, strategy: Strategy) -> str:
    """One strategy as card text."""
    return "\n\n".join(
        [*strategy.paragraphs, catalog.text("strategy.try_now", try_now=strategy.try_now)]
    )


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
        documents[f"strategy-{strategy.id}"] = strategy_ssml(catalog, strategy)
    return {name: ssml.speak(body) for name, body in documents.items()}
