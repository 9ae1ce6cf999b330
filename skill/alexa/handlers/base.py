"""Shared pieces of the handlers: dependencies, the catalog lookup and one way to answer."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.slu.entityresolution import StatusCode
from ask_sdk_model.ui import SimpleCard

from skill.alexa.alexa_api import AlexaApi
from speech import ssml
from speech.catalog import Catalog

#: Request attribute under which the localization interceptor puts the catalog.
CATALOG = "catalog"
#: Session attribute: what a following "yes" or "no" answers.
OFFER = "offer"
#: Session attribute: the last speech and reprompt, for AMAZON.RepeatIntent.
LAST = "last"
#: Session attribute: the next read-along step of the letter (only valid for the next turn).
READ_ALONG = "read_along_step"


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Deps:
    """What handlers need from the outside world, injected so tests can pin it."""

    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    #: Timers, Settings and Customer Profile calls (Amazon's API hosts only, by default).
    alexa_api: AlexaApi = field(default_factory=AlexaApi)


def catalog_of(handler_input: HandlerInput) -> Catalog:
    """The content catalog for this request's locale."""
    catalog = handler_input.attributes_manager.request_attributes[CATALOG]
    assert isinstance(catalog, Catalog), "the localization interceptor did not run"
    return catalog


def session(handler_input: HandlerInput) -> dict[str, Any]:
    """This session's attributes (an empty dict outside a session)."""
    attributes = handler_input.attributes_manager.session_attributes
    return attributes if attributes is not None else {}


def user_state(handler_input: HandlerInput) -> dict[str, Any]:
    """The user's stored attributes (loaded once per request by ask-sdk)."""
    attributes: dict[str, Any] = handler_input.attributes_manager.persistent_attributes
    return attributes


def save_user_state(handler_input: HandlerInput) -> None:
    """Write the user's attributes back to the store."""
    handler_input.attributes_manager.save_persistent_attributes()


def answer(
    handler_input: HandlerInput,
    speech: str,
    *,
    reprompt: str | None = None,
    card: tuple[str, str] | None = None,
    offer: str | None = None,
) -> Response:
    """Build the response.

    With a reprompt the session stays open (and remembers what a "yes" would mean); without one
    it ends. The speech is remembered so "repeat that" works.
    """
    builder = handler_input.response_builder.speak(ssml.speak(speech))
    attributes = session(handler_input)
    # What "yes" or "next" would continue only holds for the turn right after it was offered.
    attributes.pop(OFFER, None)
    attributes.pop(READ_ALONG, None)
    if reprompt is not None:
        builder.ask(ssml.speak(reprompt))
        attributes[LAST] = {"speech": speech, "reprompt": reprompt}
        if offer is not None:
            attributes[OFFER] = offer
    else:
        builder.set_should_end_session(True)
        attributes.pop(LAST, None)
    if card is not None:
        builder.set_card(SimpleCard(title=card[0], content=card[1]))
    response: Response = builder.response
    return response


def menu_reprompt(catalog: Catalog) -> str:
    """What to say when the user says nothing: the three things the skill does."""
    return catalog.say("menu.reprompt")


def answer_then_menu(handler_input: HandlerInput, speech: str) -> Response:
    """Say ``speech``, then what the skill can do, and keep listening."""
    menu = menu_reprompt(catalog_of(handler_input))
    return answer(handler_input, ssml.join(speech, menu), reprompt=menu)


def resolved_id(slot: Any) -> str | None:
    """The id Alexa's entity resolution matched for a custom slot, if any."""
    authorities = getattr(getattr(slot, "resolutions", None), "resolutions_per_authority", None)
    for authority in authorities or []:
        status = getattr(getattr(authority, "status", None), "code", None)
        if status == StatusCode.ER_SUCCESS_MATCH and authority.values:
            value_id = authority.values[0].value.id
            return value_id if isinstance(value_id, str) else None
    return None
