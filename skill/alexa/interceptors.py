"""Request and response interceptors."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.ui import SsmlOutputSpeech

from skill.alexa.turn import CATALOG
from skill.storage.records import FRESH_START_KEY
from speech import ssml
from speech.catalog import Catalog, Catalogs


class LocalizationInterceptor(AbstractRequestInterceptor):
    """Attaches the content catalog for the request's locale (or the default one)."""

    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs

    def process(self, handler_input: HandlerInput) -> None:
        locale = getattr(handler_input.request_envelope.request, "locale", None)
        handler_input.attributes_manager.request_attributes[CATALOG] = self.catalogs.for_locale(
            locale
        )


class FreshStartInterceptor(AbstractResponseInterceptor):
    """Says once, before the answer, that a damaged record was replaced by a fresh one.

    The store marks the fresh start on the loaded attributes under ``"_fresh_start"``, a key
    it never saves; only a request that loaded them can carry it, so nothing is loaded here.
    """

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        manager = handler_input.attributes_manager
        # ask-sdk's own flag: reading persistent_attributes here would load them for nothing.
        if response is None or not getattr(manager, "_persistent_attributes_set", False):
            return
        if not manager.persistent_attributes.pop(FRESH_START_KEY, None):
            return
        speech = response.output_speech
        if not isinstance(speech, SsmlOutputSpeech) or not speech.ssml:
            return
        catalog = handler_input.attributes_manager.request_attributes.get(CATALOG)
        if not isinstance(catalog, Catalog):
            return
        notice = catalog.say("notice.fresh_start")
        body = speech.ssml.removeprefix("<speak>").removesuffix("</speak>")
        speech.ssml = ssml.speak(ssml.join(notice, body))
