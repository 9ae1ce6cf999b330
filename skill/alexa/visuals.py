"""APL screens for devices with a display: the letter, and a kid-time countdown.

The documents live in ``skill/alexa/apl/`` and hold layout only; every word shown comes from the
content catalog through the datasource, so the owner edits screen text where she edits speech.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ask_sdk_core.dispatch_components import AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard

from speech.catalog import Catalog

if TYPE_CHECKING:
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

APL_INTERFACE = "Alexa.Presentation.APL"
LETTER_TOKEN = "letter"
KID_TIME_TOKEN = "kid-time"


@cache
def document(name: str) -> dict[str, Any]:
    """An APL document from ``skill/alexa/apl/<name>.json`` (read once per process)."""
    text = (resources.files("skill.alexa") / "apl" / f"{name}.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def supports_apl(handler_input: HandlerInput) -> bool:
    """True when the device can show APL (it says so in ``supportedInterfaces``)."""
    system = getattr(handler_input.request_envelope.context, "system", None)
    interfaces = getattr(getattr(system, "device", None), "supported_interfaces", None)
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


def _render(token: str, name: str, datasources: dict[str, Any]) -> RenderDocumentDirective:
    # ask-sdk's APL models cost ~10 ms to import: only screens need them, so not at start-up.
    from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective

    return RenderDocumentDirective(token=token, document=document(name), datasources=datasources)


def kid_time_screen(catalog: Catalog, minutes: int, activity: str) -> RenderDocumentDirective:
    """The countdown for a kid-time stretch of ``minutes``, with the activity idea."""
    return _render(
        KID_TIME_TOKEN,
        "kid_time",
        {
            "kidTime": {
                "title": catalog.text("kidtime.card_title"),
                "minutes": minutes,
                "durationMs": minutes * 60_000,
                "countdownLabel": catalog.text("apl.countdown_label"),
                "details": catalog.text("kidtime.card", minutes=minutes, activity=activity),
            }
        },
    )


def letter_screen(title: str, text: str) -> RenderDocumentDirective:
    """The letter, scrollable, one text block per paragraph."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return _render(LETTER_TOKEN, "letter", {"letter": {"title": title, "paragraphs": paragraphs}})


class LetterScreenInterceptor(AbstractResponseInterceptor):
    """Shows the letter on a screen, using exactly the text of the letter's card.

    Taking the card keeps screen and card in step (a personalised letter included) without the
    letter handler having to know about screens.
    """

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if response is None or not is_intent_name("ReadLetterIntent")(handler_input):
            return
        card = response.card
        if not isinstance(card, SimpleCard) or not supports_apl(handler_input):
            return
        screen = letter_screen(str(card.title or ""), str(card.content or ""))
        response.directives = [*(response.directives or []), screen]
