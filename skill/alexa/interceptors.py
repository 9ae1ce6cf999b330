"""Request interceptors."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor
from ask_sdk_core.handler_input import HandlerInput

from skill.alexa.handlers.base import CATALOG
from speech.catalog import Catalogs


class LocalizationInterceptor(AbstractRequestInterceptor):
    """Attaches the content catalog for the request's locale (or the default one)."""

    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs

    def process(self, handler_input: HandlerInput) -> None:
        locale = getattr(handler_input.request_envelope.request, "locale", None)
        handler_input.attributes_manager.request_attributes[CATALOG] = self.catalogs.for_locale(
            locale
        )
