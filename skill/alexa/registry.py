"""Where each handler is declared once, next to its code: the intents or request types it
answers, how it answers CanFulfillIntentRequest, and which offers a "yes" or "no" to it settles.

The handler list given to ask-sdk-core, ``HANDLED_INTENTS``, ``HANDLED_REQUEST_TYPES`` and the
CanFulfill slot table are all derived from the declarations here, so a new intent is one
decorated function. ask-sdk-core still dispatches: each route becomes one small
``AbstractRequestHandler``; the catch-all routes (the fallback) come last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.canfulfill import CanFulfillSlotValues, CanUnderstandSlotValues
from ask_sdk_runtime.dispatch_components.request_components import (
    GenericRequestHandlerChain,
    GenericRequestMapper,
)

from skill.alexa.turn import Deps, Turn
from speech.catalog import Catalog

Handle = Callable[[Turn], Response]
#: A handler function, keeping its own signature through the decorators.
H = TypeVar("H", bound=Callable[..., Response])
#: Per slot: (can understand, can fulfill).
SlotVerdict = tuple[CanUnderstandSlotValues, CanFulfillSlotValues]
SlotJudge = Callable[[Any, Catalog], SlotVerdict]


@dataclass(frozen=True)
class Route:
    """One declared handler."""

    handle: Handle
    #: Intent names (for ``IntentRequest``) or other request types this route answers.
    intents: tuple[str, ...] = ()
    request_types: tuple[str, ...] = ()
    #: ``None``: CanFulfill says NO (the skill must be opened by name); otherwise the judges for
    #: each slot the intent can carry.
    can_fulfill: Mapping[str, SlotJudge] | None = None
    #: Matches any request of these types: the fallback (kept last).
    catch_all: bool = False

    @property
    def keys(self) -> tuple[tuple[str, str | None], ...]:
        """(request type, intent name) of every request this route answers, unless catch-all."""
        return (
            *(("IntentRequest", name) for name in self.intents),
            *((request_type, None) for request_type in self.request_types),
        )

    def matches(self, request_type: str, intent: str | None) -> bool:
        """True when this route answers a request of this type (and intent)."""
        if request_type == "IntentRequest" and intent in self.intents:
            return True
        return request_type in self.request_types


@dataclass
class Registry:
    """The routes and the yes/no answers to offers, filled in by the handler modules."""

    routes: list[Route] = field(default_factory=list)
    yes_actions: dict[str, Handle] = field(default_factory=dict)
    no_actions: dict[str, Handle] = field(default_factory=dict)

    def intent(
        self,
        *names: str,
        can_fulfill: Mapping[str, SlotJudge] | None = None,
        yes_to: Iterable[str] = (),
    ) -> Callable[[H], H]:
        """Declare a handler for intents; ``yes_to``: offers a "yes" answers by calling it."""

        def register(handle: H) -> H:
            self._add(Route(handle, intents=names, can_fulfill=can_fulfill))
            for offer in yes_to:
                self._offer(self.yes_actions, offer, handle)
            return handle

        return register

    def request(
        self, *types: str, catch_all: bool = False, intents: tuple[str, ...] = ()
    ) -> Callable[[H], H]:
        """Declare a handler for request types (launch, events); ``catch_all``: the fallback,
        which takes any request of these types (and names ``intents`` as its own)."""

        def register(handle: H) -> H:
            self._add(Route(handle, intents=intents, request_types=types, catch_all=catch_all))
            return handle

        return register

    def yes(self, *offers: str) -> Callable[[H], H]:
        """Declare what a "yes" to these offers does (when it is not an intent's handler)."""

        def register(handle: H) -> H:
            for offer in offers:
                self._offer(self.yes_actions, offer, handle)
            return handle

        return register

    def no(self, *offers: str) -> Callable[[H], H]:
        """Declare what a "no" to these offers does (other offers get a warm goodbye)."""

        def register(handle: H) -> H:
            for offer in offers:
                self._offer(self.no_actions, offer, handle)
            return handle

        return register

    def _add(self, route: Route) -> None:
        if "IntentRequest" in route.request_types and not route.catch_all:
            # Only the fallback takes any intent; everything else is looked up by name.
            raise ValueError("a route for every IntentRequest must be the catch_all fallback")
        taken = {name for r in self.routes for name in (*r.intents, *r.request_types)}
        twice = taken & {*route.intents, *route.request_types}
        if twice:
            raise ValueError(f"declared twice: {', '.join(sorted(twice))}")
        self.routes.append(route)

    @staticmethod
    def _offer(actions: dict[str, Handle], offer: str, handle: Handle) -> None:
        if offer in actions and actions[offer] is not handle:
            raise ValueError(f"offer {offer!r} has two answers")
        actions[offer] = handle

    # --- what is derived ----------------------------------------------------------------------

    @property
    def intents(self) -> frozenset[str]:
        """Every intent some handler answers."""
        return frozenset(name for route in self.routes for name in route.intents)

    @property
    def request_types(self) -> frozenset[str]:
        """Every request type the skill takes (intents arrive as ``IntentRequest``)."""
        types = {t for route in self.routes for t in route.request_types}
        return frozenset({*types, "IntentRequest"} if self.intents else types)

    @property
    def can_fulfill_table(self) -> dict[str, Mapping[str, SlotJudge]]:
        """Intents the skill can take without being named, with their slot judges."""
        return {
            name: route.can_fulfill
            for route in self.routes
            if route.can_fulfill is not None
            for name in route.intents
        }

    def handlers(self, deps: Deps) -> list[AbstractRequestHandler]:
        """ask-sdk request handlers, one per route; the catch-all ones last."""
        ordered = sorted(self.routes, key=lambda route: route.catch_all)
        return [RouteHandler(route, deps) for route in ordered]


class RouteHandler(AbstractRequestHandler):
    """Adapts one route to ask-sdk-core's dispatch."""

    def __init__(self, route: Route, deps: Deps) -> None:
        self.route = route
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        request_type = getattr(request, "object_type", None)
        if not isinstance(request_type, str):
            return False
        if self.route.catch_all:
            return request_type in self.route.request_types
        intent = getattr(getattr(request, "intent", None), "name", None)
        return self.route.matches(request_type, intent)

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.route.handle(Turn(handler_input, self.deps))


class RouteMapper(GenericRequestMapper):
    """ask-sdk's request mapper, finding the route by request type and intent name in one look-up
    instead of asking some 30 handlers' ``can_handle`` in turn (a tenth of a request's CPU).

    No two routes answer the same request (``Registry`` refuses it), so the look-up picks what
    the scan in order would; a request no route names goes to the catch-all ones, in order.
    """

    def __init__(self, chains: list[GenericRequestHandlerChain]) -> None:
        super().__init__(request_handler_chains=chains)
        self._by_key: dict[tuple[str, str | None], GenericRequestHandlerChain] = {}
        self._in_order: list[GenericRequestHandlerChain] = []
        for chain in chains:
            handler = chain.request_handler
            if isinstance(handler, RouteHandler) and not handler.route.catch_all:
                self._by_key.update(dict.fromkeys(handler.route.keys, chain))
            else:
                self._in_order.append(chain)

    def get_request_handler_chain(  # type: ignore[override]  # ask-sdk: an unbound TypeVar
        self, handler_input: HandlerInput
    ) -> GenericRequestHandlerChain | None:
        request = handler_input.request_envelope.request
        request_type = getattr(request, "object_type", None)
        intent = None
        if request_type == "IntentRequest":
            intent = getattr(getattr(request, "intent", None), "name", None)
        if isinstance(request_type, str) and (intent is None or isinstance(intent, str)):
            chain = self._by_key.get((request_type, intent))
            if chain is not None:
                return chain
        for chain in self._in_order:
            if chain.request_handler.can_handle(handler_input):
                return chain
        return None


#: The one registry the handler modules in ``skill.alexa.handlers`` declare themselves in.
REGISTRY = Registry()
handles = REGISTRY.intent
handles_request = REGISTRY.request
answers_yes = REGISTRY.yes
answers_no = REGISTRY.no
