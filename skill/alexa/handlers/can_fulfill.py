"""CanFulfillIntentRequest: can the skill take this request, asked before it is sent here.

Per Alexa's rules the answer must have no side effects: nothing is read from or written to the
store, nothing is said.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from ask_sdk_model.canfulfill import (
    CanFulfillIntent,
    CanFulfillIntentValues,
    CanFulfillSlot,
    CanFulfillSlotValues,
    CanUnderstandSlotValues,
)

from skill.alexa.handlers.base import catalog_of, resolved_id
from skill.domain import kidtime
from skill.domain.strategies import match_topic
from speech.catalog import Catalog

#: Per slot: (can understand, can fulfill).
SlotVerdict = tuple[CanUnderstandSlotValues, CanFulfillSlotValues]
YES_SLOT: SlotVerdict = (CanUnderstandSlotValues.YES, CanFulfillSlotValues.YES)
NO_SLOT: SlotVerdict = (CanUnderstandSlotValues.NO, CanFulfillSlotValues.NO)


def _duration(slot: Any, catalog: Catalog) -> SlotVerdict:
    """A duration is fulfilled as asked only within 5–60 minutes; outside, it would be clamped."""
    minutes = kidtime.parse_duration_minutes(getattr(slot, "value", None))
    if minutes is None:
        return NO_SLOT
    if kidtime.MIN_MINUTES <= minutes <= kidtime.MAX_MINUTES:
        return YES_SLOT
    return CanUnderstandSlotValues.YES, CanFulfillSlotValues.NO


def _topic(slot: Any, catalog: Catalog) -> SlotVerdict:
    """A topic is fulfilled when it names one of the strategies."""
    spoken = getattr(slot, "value", None)
    spoken = spoken if isinstance(spoken, str) and spoken.strip() else None
    if match_topic(catalog.strategy_ids, resolved_id(slot), spoken) is not None:
        return YES_SLOT
    return CanUnderstandSlotValues.MAYBE, CanFulfillSlotValues.NO


#: Intents the skill answers without the user naming it, and how each of their slots is judged.
#: Anything else (the built-ins, forgetting data) is a NO: those need the skill opened by name.
INTENT_SLOTS: Mapping[str, Mapping[str, Callable[[Any, Catalog], SlotVerdict]]] = {
    "StartKidTimeIntent": {"duration": _duration},
    "GetStrategyIntent": {"topic": _topic},
    "ReadLetterIntent": {},
    "HearMantraIntent": {},
    "KidTimeSummaryIntent": {},
}


def judge(intent: Any, catalog: Catalog) -> CanFulfillIntent:
    """The CanFulfill answer for one intent with its slots."""
    judges = INTENT_SLOTS.get(getattr(intent, "name", None) or "")
    if judges is None:
        return CanFulfillIntent(can_fulfill=CanFulfillIntentValues.NO)
    verdicts: dict[str, SlotVerdict] = {}
    for name, slot in (getattr(intent, "slots", None) or {}).items():
        if getattr(slot, "value", None) in (None, ""):
            continue  # a slot Alexa did not fill is not part of the question
        judge_slot = judges.get(name)
        verdicts[name] = judge_slot(slot, catalog) if judge_slot is not None else NO_SLOT
    everything_fits = all(verdict == YES_SLOT for verdict in verdicts.values())
    return CanFulfillIntent(
        can_fulfill=CanFulfillIntentValues.YES if everything_fits else CanFulfillIntentValues.MAYBE,
        slots={
            name: CanFulfillSlot(can_understand=understand, can_fulfill=fulfill)
            for name, (understand, fulfill) in verdicts.items()
        }
        or None,
    )


class CanFulfillHandler(AbstractRequestHandler):
    """Answers CanFulfillIntentRequest from the intent and its slots alone."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("CanFulfillIntentRequest")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        intent = getattr(handler_input.request_envelope.request, "intent", None)
        verdict = judge(intent, catalog_of(handler_input))
        handler_input.response_builder.set_can_fulfill_intent(verdict)
        response: Response = handler_input.response_builder.response
        return response
