"""One turn of the conversation: what every handler reads (catalog, user state, session, deps,
clock) and the few ways it answers. Handlers take a :class:`Turn` and return a ``Response``."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_slot
from ask_sdk_model import Response
from ask_sdk_model.slu.entityresolution import StatusCode
from ask_sdk_model.ui import SimpleCard

from skill.alexa.alexa_api import AlexaApi
from skill.domain.user import UserRecord
from speech import compose, ssml
from speech.catalog import Catalog
from speech.lexicon import load_lexicon

#: Request attribute under which the localization interceptor puts the catalog.
CATALOG = "catalog"
#: Session attribute: what a following "yes" or "no" answers.
OFFER = "offer"
#: Session attribute: the last speech and reprompt, for AMAZON.RepeatIntent.
LAST = "last"
#: Session attribute: what "tell me more" continues (only valid for the next turn).
MORE = "more"
#: Session attribute: the next read-along step of the letter (only valid for the next turn).
READ_ALONG = "read_along_step"
#: Session attribute: misunderstandings in a row (the fallback escalates).
MISSES = "misses"
#: Session attribute: the last line picked from each pool this session, so none comes twice.
VARIANTS = "variants"
#: Offer name: the launch question ("kid time, a strategy, or your letter?").
OFFER_MENU = "menu"

#: Session attributes that only hold for the turn right after they were set.
_ONE_TURN = (OFFER, MORE, READ_ALONG, MISSES)


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


def resolved_id(slot: Any) -> str | None:
    """The id Alexa's entity resolution matched for a custom slot, if any."""
    authorities = getattr(getattr(slot, "resolutions", None), "resolutions_per_authority", None)
    for authority in authorities or []:
        status = getattr(getattr(authority, "status", None), "code", None)
        if status == StatusCode.ER_SUCCESS_MATCH and authority.values:
            value_id = authority.values[0].value.id
            return value_id if isinstance(value_id, str) else None
    return None


def spoken_value(slot: Any) -> str | None:
    """What was said for a slot, stripped, or ``None`` when nothing was."""
    value = getattr(slot, "value", None)
    return value.strip() if isinstance(value, str) and value.strip() else None


class Turn:
    """The request being answered, with its catalog, stored state and session."""

    def __init__(self, handler_input: HandlerInput, deps: Deps) -> None:
        self.input = handler_input
        self.deps = deps

    # --- what the turn knows ------------------------------------------------------------------

    @cached_property
    def catalog(self) -> Catalog:
        """The content catalog for this request's locale."""
        catalog = self.input.attributes_manager.request_attributes[CATALOG]
        assert isinstance(catalog, Catalog), "the localization interceptor did not run"
        return catalog

    @cached_property
    def now(self) -> datetime:
        """The time of this turn (one clock reading for the whole turn)."""
        return self.deps.clock()

    @property
    def request(self) -> Any:
        """The ask-sdk request object."""
        return self.input.request_envelope.request

    @property
    def session(self) -> dict[str, Any]:
        """This session's attributes (an empty dict outside a session)."""
        attributes = self.input.attributes_manager.session_attributes
        return attributes if attributes is not None else {}

    @cached_property
    def user(self) -> UserRecord:
        """What the skill remembers about her, typed (the store validated it on load)."""
        return UserRecord.from_attributes(self.input.attributes_manager.persistent_attributes)

    def remember(self, **changes: Any) -> UserRecord:
        """Change fields of her record and save it (a stale save re-runs the whole request)."""
        self.user = replace(self.user, **changes)
        self.user.write_into(self.input.attributes_manager.persistent_attributes)
        self.input.attributes_manager.save_persistent_attributes()
        return self.user

    def slot(self, name: str) -> Any:
        """The named slot of the intent, or ``None``."""
        return get_slot(self.input, name)

    def say(self, key: str, **params: Any) -> str:
        """A content message as SSML."""
        return self.catalog.say(key, **params)

    def pick(self, pool_key: str, last: int | None = None) -> int:
        """A line of a content pool, never the one picked last time for it this session (or
        ``last``, when the caller remembers it for longer)."""
        variants = self.session.setdefault(VARIANTS, {})
        remembered = variants.get(pool_key) if last is None else last
        if not isinstance(remembered, int) or isinstance(remembered, bool):
            remembered = None
        index = compose.pick_variant(self.catalog.pool(pool_key), remembered, self.deps.rng)
        variants[pool_key] = index
        return index

    # --- answers ------------------------------------------------------------------------------

    def for_alexa(self, speech: str) -> str:
        """The SSML document Alexa gets: the locale's pronunciation fixes applied
        (``speech/lexicon/<locale>.json``: ``<w role>`` or ``<phoneme>`` around misread words)."""
        return load_lexicon(self.catalog.locale).for_alexa(ssml.speak(speech))

    def answer(
        self,
        speech: str,
        *,
        reprompt: str | None = None,
        card: tuple[str, str] | None = None,
        offer: str | None = None,
        more: dict[str, Any] | None = None,
    ) -> Response:
        """Build the response.

        With a reprompt the session stays open (and remembers what a "yes" or "tell me more"
        would mean); without one it ends. The speech is remembered so "repeat that" works.
        """
        builder = self.input.response_builder.speak(self.for_alexa(speech))
        attributes = self.session
        for key in _ONE_TURN:
            attributes.pop(key, None)
        if reprompt is not None:
            builder.ask(self.for_alexa(reprompt))
            attributes[LAST] = {"speech": speech, "reprompt": reprompt}
            if offer is not None:
                attributes[OFFER] = offer
            if more is not None:
                attributes[MORE] = more
        else:
            builder.set_should_end_session(True)
            attributes.pop(LAST, None)
        if card is not None:
            builder.set_card(SimpleCard(title=card[0], content=card[1]))
        response: Response = builder.response
        return response

    def end(self, speech: str, card: tuple[str, str] | None = None) -> Response:
        """Say ``speech`` and end the session."""
        return self.answer(speech, card=card)

    def ask(
        self,
        speech: str,
        reprompt_key: str = "menu.reprompt",
        *,
        offer: str | None = None,
        card: tuple[str, str] | None = None,
        more: dict[str, Any] | None = None,
    ) -> Response:
        """Say ``speech`` (which ends in a question) and keep listening."""
        return self.answer(
            speech, reprompt=self.say(reprompt_key), offer=offer, card=card, more=more
        )

    def then_menu(self, speech: str) -> Response:
        """Say ``speech``, then what the skill can do, and keep listening for a choice."""
        menu = self.say("menu.reprompt")
        return self.answer(ssml.join(speech, menu), reprompt=menu, offer=OFFER_MENU)

    def silent(self) -> Response:
        """An empty response (events, session end)."""
        response: Response = self.input.response_builder.response
        return response
