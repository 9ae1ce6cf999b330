"""The three first steps: name your guilt trigger, choose one strategy as your focus, reach out;
and comfort for the moment the guilt hits."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_slot, is_intent_name
from ask_sdk_model import Intent, Response, Slot
from ask_sdk_model.dialog import ElicitSlotDirective

from skill.alexa.handlers.base import (
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
from skill.alexa.handlers.content import LAST_STRATEGY, OFFER_STRATEGY, answer_offering_strategy
from speech import compose, ssml

#: Offer names understood by the Yes and No handlers.
OFFER_SET_TRIGGER = "set_trigger"
OFFER_FOCUS_CHECK = "focus_check"

TRIGGER_INTENT = "SetGuiltTriggerIntent"
TRIGGER_SLOT = "trigger"


def elicit_trigger(handler_input: HandlerInput, lead: str = "") -> Response:
    """Ask which trigger weighs most, and have Alexa fill the trigger slot with the answer."""
    catalog = catalog_of(handler_input)
    answer(
        handler_input,
        ssml.join(lead, catalog.say("trigger.ask")),
        reprompt=catalog.say("trigger.reprompt"),
    )
    intent = Intent(name=TRIGGER_INTENT, slots={TRIGGER_SLOT: Slot(name=TRIGGER_SLOT)})
    builder = handler_input.response_builder.add_directive(
        ElicitSlotDirective(updated_intent=intent, slot_to_elicit=TRIGGER_SLOT)
    )
    response: Response = builder.response
    return response


class SetGuiltTriggerHandler(AbstractRequestHandler):
    """First step one: name the biggest guilt trigger; strategies then lean toward it."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name(TRIGGER_INTENT)(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        slot = get_slot(handler_input, TRIGGER_SLOT)
        spoken = getattr(slot, "value", None)
        trigger = catalog.trigger(resolved_id(slot))
        if trigger is None and isinstance(spoken, str):
            trigger = catalog.trigger("-".join(spoken.lower().split()))
        if trigger is None:
            lead = catalog.say("trigger.unknown") if spoken else ""
            return elicit_trigger(handler_input, lead)
        user_state(handler_input)["guilt_trigger"] = trigger.id
        save_user_state(handler_input)
        return answer(
            handler_input,
            ssml.join(
                catalog.say("trigger.saved", title=trigger.title),
                catalog.say("trigger.offer_strategy"),
            ),
            reprompt=catalog.say("offer.strategy_reprompt"),
            offer=OFFER_STRATEGY,
        )


class ChooseFocusHandler(AbstractRequestHandler):
    """First step two: "I'll try that one" makes the last strategy heard the current focus."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("ChooseFocusIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        last = session(handler_input).get(LAST_STRATEGY)
        if last not in catalog.strategy_ids:
            return answer(handler_input, catalog.say("focus.none"), reprompt=menu_reprompt(catalog))
        strategy = catalog.strategy(str(last))
        user_state(handler_input)["focus"] = {
            "strategy": strategy.id,
            "chosen_at": self.deps.clock().isoformat(),
            "checked": False,
        }
        save_user_state(handler_input)
        return answer(handler_input, catalog.say("focus.saved", title=strategy.title))


def focus_to_check(handler_input: HandlerInput) -> str | None:
    """The focus strategy to ask about at launch, if it was not asked about yet."""
    focus = user_state(handler_input).get("focus")
    if not isinstance(focus, dict) or focus.get("checked"):
        return None
    strategy_id = focus.get("strategy")
    return strategy_id if strategy_id in catalog_of(handler_input).strategy_ids else None


def ask_about_focus(handler_input: HandlerInput, strategy_id: str, lead: str) -> Response:
    """At launch: "did you get to try it?" (asked once per chosen focus; saves the state)."""
    catalog = catalog_of(handler_input)
    title = catalog.strategy(strategy_id).title
    user_state(handler_input)["focus"]["checked"] = True
    save_user_state(handler_input)
    return answer(
        handler_input,
        ssml.join(lead, catalog.say("focus.check", title=title)),
        reprompt=catalog.say("focus.check_reprompt", title=title),
        offer=OFFER_FOCUS_CHECK,
    )


def focus_tried(handler_input: HandlerInput) -> Response:
    """Yes, I tried my focus."""
    catalog = catalog_of(handler_input)
    return answer_then_menu(handler_input, catalog.say("focus.tried"))


def focus_not_tried(handler_input: HandlerInput) -> Response:
    """No, I did not get to it."""
    catalog = catalog_of(handler_input)
    return answer_then_menu(handler_input, catalog.say("focus.not_tried"))


class FirstStepsHandler(AbstractRequestHandler):
    """On "where do I start": the three first steps, then an offer to name the trigger."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("FirstStepsIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer(
            handler_input,
            ssml.join(compose.first_steps_ssml(catalog), catalog.say("first_steps.offer_trigger")),
            reprompt=catalog.say("first_steps.reprompt"),
            offer=OFFER_SET_TRIGGER,
        )


class FeelingGuiltyHandler(AbstractRequestHandler):
    """On "I feel guilty": comfort, the mantra, a nudge to reach out, then a strategy offer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("FeelingGuiltyIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer_offering_strategy(
            handler_input,
            ssml.join(
                catalog.say("guilty.comfort"),
                catalog.say("guilty.breathe"),
                ssml.pause(700),
                ssml.prosody(ssml.escape(catalog.mantra), compose.LETTER_RATE),
                ssml.pause(1000),
                catalog.say("guilty.reach_out"),
            ),
        )
