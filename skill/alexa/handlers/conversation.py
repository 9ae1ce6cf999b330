"""Welcome, help and the follow-ups every real skill needs (stop, yes/no, fallback, ...)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.alexa.handlers.base import (
    OFFER,
    Deps,
    answer,
    answer_then_menu,
    catalog_of,
    menu_reprompt,
    save_user_state,
    session,
    user_state,
)
from skill.alexa.handlers.first_steps import ask_about_focus, focus_to_check
from skill.alexa.handlers.kid_time import running_minutes

logger = logging.getLogger(__name__)

#: Offer names understood by the Yes and No handlers.
OFFER_FORGET = "forget_me"

#: What a "yes" or a "no" does for each offer; filled in by the builder from the handlers.
OfferActions = Mapping[str, Callable[[HandlerInput], Response]]


class LaunchHandler(AbstractRequestHandler):
    """A short welcome naming the three things; returning users are greeted differently."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("LaunchRequest")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        now = self.deps.clock()
        state = user_state(handler_input)
        visits = state.get("visits")
        visits = visits if isinstance(visits, int) and visits >= 0 else 0
        running = running_minutes(state, now)
        focus = focus_to_check(handler_input) if running is None else None
        state["visits"] = visits + 1
        state["last_visit"] = now.isoformat()
        if focus is not None:
            return ask_about_focus(handler_input, focus, catalog.say("welcome.returning_short"))
        save_user_state(handler_input)
        if running is not None:
            speech = catalog.say("welcome.kid_time_running", count=running)
        elif visits:
            speech = catalog.say("welcome.returning")
        else:
            speech = catalog.say("welcome.new")
        return answer(handler_input, speech, reprompt=menu_reprompt(catalog))


class HelpHandler(AbstractRequestHandler):
    """Explains what to say."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("AMAZON.HelpIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer(handler_input, catalog.say("help"), reprompt=menu_reprompt(catalog))


class MenuHandler(AbstractRequestHandler):
    """Start over and navigate home: back to the three choices."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(
            is_intent_name("AMAZON.StartOverIntent")(handler_input)
            or is_intent_name("AMAZON.NavigateHomeIntent")(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer_then_menu(handler_input, catalog.say("start_over"))


class StopHandler(AbstractRequestHandler):
    """Stop and cancel end the session kindly."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(
            is_intent_name("AMAZON.StopIntent")(handler_input)
            or is_intent_name("AMAZON.CancelIntent")(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        return answer(handler_input, catalog_of(handler_input).say("goodbye"))


class YesHandler(AbstractRequestHandler):
    """A "yes" carries out whatever the last answer offered."""

    def __init__(self, actions: OfferActions) -> None:
        self.actions = actions

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("AMAZON.YesIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        offer = session(handler_input).get(OFFER)
        action = self.actions.get(offer) if isinstance(offer, str) else None
        if action is not None:
            return action(handler_input)
        catalog = catalog_of(handler_input)
        return answer_then_menu(handler_input, catalog.say("yes_no.unexpected"))


class NoHandler(AbstractRequestHandler):
    """A "no" declines the offer: some offers have their own answer, the rest say goodbye."""

    def __init__(self, actions: OfferActions) -> None:
        self.actions = actions

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("AMAZON.NoIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        offer = session(handler_input).get(OFFER)
        action = self.actions.get(offer) if isinstance(offer, str) else None
        if action is not None:
            return action(handler_input)
        if offer is None:
            return answer_then_menu(handler_input, catalog.say("yes_no.unexpected"))
        return answer(handler_input, catalog.say("no.goodbye"))


class ForgetMeHandler(AbstractRequestHandler):
    """Asks to confirm "forget me"; the Yes handler then calls :meth:`forget`."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_intent_name("ForgetMeIntent")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer(
            handler_input,
            catalog.say("forget.confirm"),
            reprompt=catalog.say("forget.reprompt"),
            offer=OFFER_FORGET,
        )

    @staticmethod
    def forget(handler_input: HandlerInput) -> Response:
        """Delete everything stored for this user."""
        handler_input.attributes_manager.delete_persistent_attributes()
        return answer(handler_input, catalog_of(handler_input).say("forget.done"))

    @staticmethod
    def keep(handler_input: HandlerInput) -> Response:
        """The user said no: nothing is deleted."""
        catalog = catalog_of(handler_input)
        return answer_then_menu(handler_input, catalog.say("forget.kept"))


class FallbackHandler(AbstractRequestHandler):
    """AMAZON.FallbackIntent, and any intent this skill does not know, get a gentle redirect."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("IntentRequest")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        catalog = catalog_of(handler_input)
        return answer(handler_input, catalog.say("fallback"), reprompt=menu_reprompt(catalog))


class SessionEndedHandler(AbstractRequestHandler):
    """The session ended (user left, silence, or an error on the device): nothing to say."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("SessionEndedRequest")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        error = getattr(handler_input.request_envelope.request, "error", None)
        if error is not None:
            logger.warning("session ended with a device error: %s", getattr(error, "type", "?"))
        response: Response = handler_input.response_builder.response
        return response


class SkillDisabledHandler(AbstractRequestHandler):
    """The user disabled the skill: delete their data unless Alexa says it is kept."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("AlexaSkillEvent.SkillDisabled")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        # ask-sdk-model drops the event body, so the endpoint passes the raw request as context.
        raw = handler_input.context if isinstance(handler_input.context, dict) else {}
        body = raw.get("request", {}).get("body")
        status = body.get("userInformationPersistenceStatus") if isinstance(body, dict) else None
        if status != "PERSISTED":
            handler_input.attributes_manager.delete_persistent_attributes()
        response: Response = handler_input.response_builder.response
        return response


class SkillEventHandler(AbstractRequestHandler):
    """Other skill events (enabled, permissions changed) need only an acknowledgement."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request_type = getattr(handler_input.request_envelope.request, "object_type", None)
        return isinstance(request_type, str) and request_type.startswith("AlexaSkillEvent.")

    def handle(self, handler_input: HandlerInput) -> Response:
        response: Response = handler_input.response_builder.response
        return response
