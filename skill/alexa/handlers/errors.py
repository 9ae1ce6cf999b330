"""The catch-all: any failure inside the skill becomes a kind apology, logged without user data."""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.alexa.turn import CATALOG, Deps, Turn
from skill.storage import StaleWriteError
from speech.catalog import Catalog, Catalogs

logger = logging.getLogger(__name__)


class ApologyExceptionHandler(AbstractExceptionHandler):
    """Speaks an apology and keeps the session open so the user can try again."""

    def __init__(self, catalogs: Catalogs, deps: Deps) -> None:
        self.catalogs = catalogs
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        # A stale write is not an error: the endpoint re-runs the request on fresh state.
        return not isinstance(exception, StaleWriteError)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        request = handler_input.request_envelope.request
        intent = getattr(getattr(request, "intent", None), "name", None)
        # Type names only: exception messages and request bodies may carry user data.
        logger.error(
            "handler failed: %s on %s %s",
            type(exception).__name__,
            getattr(request, "object_type", "?"),
            intent or "",
        )
        catalog = handler_input.attributes_manager.request_attributes.get(CATALOG)
        if not isinstance(catalog, Catalog):  # the failure came before the interceptor ran
            catalog = self.catalogs.for_locale(getattr(request, "locale", None))
        handler_input.attributes_manager.request_attributes[CATALOG] = catalog
        turn = Turn(handler_input, self.deps)
        return turn.answer(turn.say("error.apology"), reprompt=turn.say("menu.reprompt"))
