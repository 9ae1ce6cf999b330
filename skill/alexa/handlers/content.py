"""Strategies, the letter (whole, short, read-along), the mantra, and "next" and "repeat"."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_slot, is_intent_name
from ask_sdk_model import Response

from skill.alexa.alexa_api import AlexaApi
from skill.alexa.handlers.base import (
    LAST,
    OFFER,
    READ_ALONG,
    Deps,
    answer,
    answer_then_menu,
    catalog_of,
    menu_reprompt,
    resolved_id,
    save_user_state,
    session,
    user_state,
)
from skill.alexa.handlers.services import profile_given_name
from skill.domain.strategies import match_topic, next_strategy
from speech import compose, ssml
from speech.catalog import Catalog

#: Offer names understood by the Yes handler.
OFFER_STRATEGY = "strategy"
#: Session attribute: the strategy just told (for "I'll try that one").
LAST_STRATEGY = "last_strategy"

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


def letter_name(handler_input: HandlerInput, api: AlexaApi) -> str | None:
    """The name the letter greets: the one she told the skill ("call me ..."), else her Alexa
    profile's first name when she has allowed the skill to read it."""
    told = clean_given_name(user_state(handler_input).get("given_name"))
    return told or clean_given_name(profile_given_name(handler_input, api))


def answer_offering_strategy(
    handler_input: HandlerInput, speech: str, card: tuple[str, str] | None = None
) -> Response:
    """Say ``speech``, then offer a strategy: a "yes" next tells one."""
    catalog = catalog_of(handler_input)
    return answer(
        handler_input,
        ssml.join(speech, catalog.say("offer.strategy")),
        reprompt=catalog.say("offer.strategy_reprompt"),
        card=card,
        offer=OFFER_STRATEGY,
    )


class StrategyHandler(AbstractRequestHandler):
    """One strategy or mental shift, never repeating until every one was heard."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("GetStrategyIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.tell(handler_input, get_slot(handler_input, "topic"))

    def tell(self, handler_input: HandlerInput, slot: Any = None) -> Response:
        """Say the next strategy (or the asked-for one) and offer another."""
        catalog = catalog_of(handler_input)
        spoken = getattr(slot, "value", None)
        spoken = spoken if isinstance(spoken, str) and spoken.strip() else None
        requested = match_topic(catalog.strategy_ids, resolved_id(slot), spoken)
        state = user_state(handler_input)
        heard = state.get("strategies_heard")
        trigger = catalog.trigger(state.get("guilt_trigger"))
        pick = next_strategy(
            catalog.strategy_ids,
            heard if isinstance(heard, list) else [],
            requested,
            prefer=trigger.leans_to if trigger else (),
        )
        state["strategies_heard"] = list(pick.heard)
        save_user_state(handler_input)
        session(handler_input)[LAST_STRATEGY] = pick.strategy_id

        strategy = catalog.strategy(pick.strategy_id)
        notes = []
        if spoken is not None and requested is None:
            notes.append(catalog.say("strategy.unknown_topic", topic=spoken[:80]))
        if pick.restarted:
            notes.append(catalog.say("strategy.restarted", count=len(catalog.strategies)))
        return answer(
            handler_input,
            ssml.join(
                *notes,
                compose.strategy_ssml(catalog, strategy),
                catalog.say("strategy.offer_next"),
            ),
            reprompt=catalog.say("strategy.reprompt"),
            card=(strategy.title, compose.strategy_text(catalog, strategy)),
            offer=OFFER_STRATEGY,
        )


class LetterHandler(AbstractRequestHandler):
    """The self-forgiveness letter, read slowly, with its text on a card."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("ReadLetterIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        name = letter_name(handler_input, self.deps.alexa_api)
        return answer_offering_strategy(
            handler_input,
            compose.letter_ssml(catalog, name),
            card=(catalog.letter.title, compose.letter_text(catalog, name)),
        )


class ContentPieceHandler(AbstractRequestHandler):
    """Speaks one composed piece of content (the short letter, the causes of the guilt) with its
    text on a card, then offers a strategy."""

    def __init__(
        self, intent: str, compose_piece: Callable[[Catalog], str], card_title_key: str
    ) -> None:
        self.intent = intent
        self.compose_piece = compose_piece
        self.card_title_key = card_title_key

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name(self.intent)(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        speech = self.compose_piece(catalog)
        return answer_offering_strategy(
            handler_input,
            speech,
            card=(catalog.text(self.card_title_key), ssml.to_plain_text(speech)),
        )


class ReadAlongHandler(AbstractRequestHandler):
    """Read-along: the letter a paragraph per turn, each line followed by a pause to repeat it."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("ReadAlongIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.step(handler_input, 0)

    def step(self, handler_input: HandlerInput, number: int) -> Response:
        """Read step ``number``; "next" reads the one after."""
        catalog = catalog_of(handler_input)
        name = letter_name(handler_input, self.deps.alexa_api)
        steps = compose.read_along_steps(catalog, name)
        attributes = session(handler_input)
        intro = catalog.say("read_along.intro") if number == 0 else ""
        lines = compose.read_along_ssml(catalog, number, name)
        card = (catalog.text("read_along.card_title"), steps[number])
        if number + 1 >= len(steps):
            return answer_offering_strategy(
                handler_input, ssml.join(lines, catalog.say("read_along.done")), card=card
            )
        response = answer(
            handler_input,
            ssml.join(intro, lines, catalog.say("read_along.continue")),
            reprompt=catalog.say("read_along.continue"),
            card=card,
        )
        attributes[READ_ALONG] = number + 1
        return response


class NextHandler(AbstractRequestHandler):
    """On "next": continues a read-along in progress; otherwise it gives the next strategy."""

    def __init__(
        self,
        next_strategy: Callable[[HandlerInput], Response],
        read_along_step: Callable[[HandlerInput, int], Response],
    ) -> None:
        self.next_strategy = next_strategy
        self.read_along_step = read_along_step

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("AMAZON.NextIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        step = session(handler_input).get(READ_ALONG)
        steps = len(compose.read_along_steps(catalog_of(handler_input)))
        if isinstance(step, int) and not isinstance(step, bool) and 0 < step < steps:
            return self.read_along_step(handler_input, step)
        return self.next_strategy(handler_input)


class SetNameHandler(AbstractRequestHandler):
    """On "call me ...": keeps the parent's first name, used in the letter's greeting."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("SetNameIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        name = clean_given_name(getattr(get_slot(handler_input, "name"), "value", None))
        if name is None:
            return answer(
                handler_input, catalog.say("name.invalid"), reprompt=menu_reprompt(catalog)
            )
        user_state(handler_input)["given_name"] = name
        save_user_state(handler_input)
        return answer_then_menu(handler_input, catalog.say("name.saved", name=name))


class MantraHandler(AbstractRequestHandler):
    """The short closing mantra, said twice."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("HearMantraIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer_offering_strategy(
            handler_input,
            compose.mantra_ssml(catalog),
            card=(catalog.text("mantra.card_title"), catalog.mantra),
        )


class RepeatHandler(AbstractRequestHandler):
    """Says the last answer again."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("AMAZON.RepeatIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        attributes = session(handler_input)
        last = attributes.get(LAST)
        offer = attributes.get(OFFER)
        read_along = attributes.get(READ_ALONG)
        if isinstance(last, dict) and isinstance(last.get("speech"), str):
            response = answer(
                handler_input,
                last["speech"],
                reprompt=str(last.get("reprompt") or menu_reprompt(catalog)),
                offer=offer if isinstance(offer, str) else None,
            )
            if read_along is not None:  # repeating a read-along step keeps the place
                attributes[READ_ALONG] = read_along
            return response
        return answer_then_menu(handler_input, catalog.say("repeat.nothing"))
