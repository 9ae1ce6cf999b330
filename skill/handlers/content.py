"""Strategies, the letter, the mantra, and the "next" and "repeat" follow-ups."""

from __future__ import annotations

from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_slot, is_intent_name
from ask_sdk_model import Response
from ask_sdk_model.slu.entityresolution import StatusCode

from skill.handlers.base import (
    LAST,
    answer,
    catalog_of,
    menu_reprompt,
    save_user_state,
    session,
    user_state,
)
from skill.strategies import match_topic, next_strategy
from speech import compose, ssml

#: Offer names understood by the Yes handler.
OFFER_STRATEGY = "strategy"


def _resolved_id(slot: Any) -> str | None:
    """The id Alexa's entity resolution matched for a custom slot, if any."""
    authorities = getattr(getattr(slot, "resolutions", None), "resolutions_per_authority", None)
    for authority in authorities or []:
        status = getattr(getattr(authority, "status", None), "code", None)
        if status == StatusCode.ER_SUCCESS_MATCH and authority.values:
            value_id = authority.values[0].value.id
            return value_id if isinstance(value_id, str) else None
    return None


class StrategyHandler(AbstractRequestHandler):
    """One strategy or mental shift, never repeating until every one was heard."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(
            is_intent_name("GetStrategyIntent")(handler_input)
            or is_intent_name("AMAZON.NextIntent")(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        slot = None
        if is_intent_name("GetStrategyIntent")(handler_input):
            slot = get_slot(handler_input, "topic")
        return self.tell(handler_input, slot)

    def tell(self, handler_input: HandlerInput, slot: Any = None) -> Response:
        """Say the next strategy (or the asked-for one) and offer another."""
        catalog = catalog_of(handler_input)
        spoken = getattr(slot, "value", None)
        spoken = spoken if isinstance(spoken, str) and spoken.strip() else None
        requested = match_topic(catalog.strategy_ids, _resolved_id(slot), spoken)
        state = user_state(handler_input)
        heard = state.get("strategies_heard")
        pick = next_strategy(
            catalog.strategy_ids, heard if isinstance(heard, list) else [], requested
        )
        state["strategies_heard"] = list(pick.heard)
        save_user_state(handler_input)

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

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("ReadLetterIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer(
            handler_input,
            ssml.join(compose.letter_ssml(catalog), catalog.say("offer.strategy")),
            reprompt=catalog.say("offer.strategy_reprompt"),
            card=(catalog.letter.title, compose.letter_text(catalog)),
            offer=OFFER_STRATEGY,
        )


class MantraHandler(AbstractRequestHandler):
    """The short closing mantra, said twice."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("HearMantraIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer(
            handler_input,
            ssml.join(compose.mantra_ssml(catalog), catalog.say("offer.strategy")),
            reprompt=catalog.say("offer.strategy_reprompt"),
            card=(catalog.text("mantra.card_title"), catalog.mantra),
            offer=OFFER_STRATEGY,
        )


class RepeatHandler(AbstractRequestHandler):
    """Says the last answer again."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("AMAZON.RepeatIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        attributes = session(handler_input)
        last = attributes.get(LAST)
        offer = attributes.get("offer")
        if isinstance(last, dict) and isinstance(last.get("speech"), str):
            return answer(
                handler_input,
                last["speech"],
                reprompt=str(last.get("reprompt") or menu_reprompt(catalog)),
                offer=offer if isinstance(offer, str) else None,
            )
        return answer(
            handler_input,
            ssml.join(catalog.say("repeat.nothing"), menu_reprompt(catalog)),
            reprompt=menu_reprompt(catalog),
        )
