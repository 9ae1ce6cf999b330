"""The letter (whole, short, read-along), the mantra, and the name the letter greets."""

from __future__ import annotations

import re

from ask_sdk_model import Response

from skill.alexa.handlers.services import profile_given_name
from skill.alexa.handlers.strategies import offer_strategy
from skill.alexa.registry import handles
from skill.alexa.turn import OFFER, READ_ALONG, Turn
from speech import compose, ssml

# A first name: letters (any script), spaces, hyphens and apostrophes, at most 40 characters.
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")
NAME_MAX_CHARS = 40


def clean_given_name(value: object) -> str | None:
    """A spoken first name fit to put in the letter, or ``None``."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())
    if not name or len(name) > NAME_MAX_CHARS or not _NAME.match(name):
        return None
    return name.title() if name.islower() else name


def told_name(turn: Turn) -> str | None:
    """The name she told the skill ("call me ..."), if any."""
    return clean_given_name(turn.user.given_name)


def letter_name(turn: Turn) -> str | None:
    """The name the letter greets: the one she told the skill, else her Alexa profile's first
    name when she has allowed the skill to read it."""
    return told_name(turn) or clean_given_name(profile_given_name(turn.input, turn.deps.alexa_api))


@handles("ReadLetterIntent", can_fulfill={})
def read_letter(turn: Turn) -> Response:
    """The self-forgiveness letter, read slowly, with its text on a card."""
    name = letter_name(turn)
    return offer_strategy(
        turn,
        compose.letter_ssml(turn.catalog, name),
        card=(turn.catalog.letter.title, compose.letter_text(turn.catalog, name)),
    )


#: Offer: after a bad day, the short letter or a breath ("yes": the short letter).
OFFER_BAD_DAY = "bad_day"


@handles("ShortLetterIntent")
def short_letter(turn: Turn) -> Response:
    """The short version of the letter, ending on the mantra; after a bad day it ends there,
    kindly, with nothing more to do."""
    speech = compose.short_letter_ssml(turn.catalog)
    card = (turn.catalog.text("letter_short.card_title"), ssml.to_plain_text(speech))
    if turn.session.get(OFFER) == OFFER_BAD_DAY:
        return turn.end(ssml.join(speech, turn.say("bad_day.after_breath")), card=card)
    return offer_strategy(turn, speech, card=card)


@handles("ReadAlongIntent")
def read_along(turn: Turn) -> Response:
    """Read-along: the letter a paragraph per turn, each line followed by a pause to repeat it."""
    return read_along_step(turn, 0)


def read_along_step(turn: Turn, number: int) -> Response:
    """Read step ``number``; "next" reads the one after."""
    catalog = turn.catalog
    name = letter_name(turn)
    steps = compose.read_along_steps(catalog, name)
    intro = turn.say("read_along.intro") if number == 0 else ""
    lines = compose.read_along_ssml(catalog, number, name)
    card = (catalog.text("read_along.card_title"), steps[number])
    if number + 1 >= len(steps):
        return offer_strategy(turn, ssml.join(lines, turn.say("read_along.done")), card=card)
    response = turn.answer(
        ssml.join(intro, lines, turn.say("read_along.continue")),
        reprompt=turn.say("read_along.continue"),
        card=card,
    )
    turn.session[READ_ALONG] = number + 1
    return response


def read_along_next(turn: Turn) -> int | None:
    """The read-along step a "next" continues with, if one is in progress."""
    step = turn.session.get(READ_ALONG)
    steps = len(compose.read_along_steps(turn.catalog))
    if isinstance(step, int) and not isinstance(step, bool) and 0 < step < steps:
        return step
    return None


@handles("SetNameIntent")
def set_name(turn: Turn) -> Response:
    """On "call me ...": keeps the parent's first name, used in greetings and the letter."""
    name = clean_given_name(getattr(turn.slot("name"), "value", None))
    if name is None:
        return turn.ask(turn.say("name.invalid"))
    turn.remember(given_name=name)
    return turn.then_menu(turn.say("name.saved", name=name))


@handles("HearMantraIntent", can_fulfill={})
def mantra(turn: Turn) -> Response:
    """The short closing mantra, said twice."""
    return offer_strategy(
        turn,
        compose.mantra_ssml(turn.catalog),
        card=(turn.catalog.text("mantra.card_title"), turn.catalog.mantra),
    )
