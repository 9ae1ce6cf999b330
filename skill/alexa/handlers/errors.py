"""The catch-all: any failure inside the skill becomes a kind apology, logged without user data;
and Alexa's own report that it rejected the skill's previous response."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.alexa.registry import handles_request
from skill.alexa.turn import CATALOG, Deps, Turn
from skill.storage import StaleWriteError
from speech.catalog import Catalog, Catalogs

logger = logging.getLogger(__name__)
#: Alexa's error messages are about our response, but keep the log line short all the same.
_MESSAGE_CHARS = 200


class ApologyExceptionHandler(AbstractExceptionHandler):
    """Speaks an apology and keeps the session open so the user can try again.

    A stale write is normally left to the caller, which re-runs the request on fresh state;
    the skill built for the caller's last attempt (``apologise_for_stale_writes``) apologises
    for it too. ``on_apology`` hears the exception's type name (for metrics).
    """

    def __init__(
        self,
        catalogs: Catalogs,
        deps: Deps,
        *,
        apologise_for_stale_writes: bool = False,
        on_apology: Callable[[str], None] | None = None,
    ) -> None:
        self.catalogs = catalogs
        self.deps = deps
        self.apologise_for_stale_writes = apologise_for_stale_writes
        self.on_apology = on_apology

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return self.apologise_for_stale_writes or not isinstance(exception, StaleWriteError)

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
        if self.on_apology is not None:
            self.on_apology(type(exception).__name__)
        catalog = handler_input.attributes_manager.request_attributes.get(CATALOG)
        if not isinstance(catalog, Catalog):  # the failure came before the interceptor ran
            catalog = self.catalogs.for_locale(getattr(request, "locale", None))
        handler_input.attributes_manager.request_attributes[CATALOG] = catalog
        turn = Turn(handler_input, self.deps)
        return turn.answer(turn.say("error.apology"), reprompt=turn.say("menu.reprompt"))


@handles_request("System.ExceptionEncountered")
def exception_encountered(turn: Turn) -> Response:
    """Alexa rejected the skill's previous response: log why, answer with nothing.

    Alexa ignores any speech in the answer; logging is the only way the reason is kept.
    """
    error = getattr(turn.request, "error", None)
    kind = getattr(error, "object_type", None)
    message = getattr(error, "message", None)
    logger.error(
        "Alexa rejected the previous response: %s: %s",
        getattr(kind, "value", kind) or "?",
        (message if isinstance(message, str) else "?")[:_MESSAGE_CHARS],
    )
    return turn.silent()
