"""Pure functions that turn catalog content into paced SSML and plain card text."""

from __future__ import annotations

from speech import ssml
from speech.catalog import Catalog, Strategy

#: The letter is read a little slower than normal speech, with room to breathe between paragraphs.
LETTER_RATE = "90%"
LETTER_PARAGRAPH_PAUSE_MS = 800
#: A mantra lands better with a long silence before it is said again.
MANTRA_PAUSE_MS = 1500


def letter_ssml(catalog: Catalog) -> str:
    """The whole letter, paced: greeting, paragraphs, closing and signature."""
    letter = catalog.letter
    body = [letter.greeting, *letter.paragraphs, f"{letter.closing} {letter.signature}"]
    return ssml.join(
        catalog.say("letter.intro"),
        ssml.pause(LETTER_PARAGRAPH_PAUSE_MS),
        ssml.prosody(
            ssml.paragraphs((ssml.escape(p) for p in body), LETTER_PARAGRAPH_PAUSE_MS),
            LETTER_RATE,
        ),
    )


def letter_text(catalog: Catalog) -> str:
    """The letter as card text."""
    letter = catalog.letter
    return "\n\n".join(
        [letter.greeting, *letter.paragraphs, f"{letter.closing}\n{letter.signature}"]
    )


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
    }
    for strategy in catalog.strategies:
        documents[f"strategy-{strategy.id}"] = strategy_ssml(catalog, strategy)
    return {name: ssml.speak(body) for name, body in documents.items()}
