"""CanFulfillIntentRequest: can the skill take this request, asked before it is sent here.

Per Alexa's rules the answer must have no side effects: nothing is read from or written to the
store, nothing is said. Which intents qualify, and how their slots are judged, is declared with
each handler (``can_fulfill=`` in :mod:`skill.alexa.registry`).
"""

from __future__ import annotations

from typing import Any

from ask_sdk_model import Response
from ask_sdk_model.canfulfill import (
    CanFulfillIntent,
    CanFulfillIntentValues,
    CanFulfillSlot,
    CanFulfillSlotValues,
    CanUnderstandSlotValues,
)

from skill.alexa.registry import REGISTRY, SlotVerdict, handles_request
from skill.alexa.turn import Turn
from speech.catalog import Catalog

YES_SLOT: SlotVerdict = (CanUnderstandSlotValues.YES, CanFulfillSlotValues.YES)
NO_SLOT: SlotVerdict = (CanUnderstandSlotValues.NO, CanFulfillSlotValues.NO)


def judge(intent: Any, catalog: Catalog) -> CanFulfillIntent:
    """The CanFulfill answer for one intent with its slots."""
    judges = REGISTRY.can_fulfill_table.get(getattr(intent, "name", None) or "")
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


@handles_request("CanFulfillIntentRequest")
def can_fulfill(turn: Turn) -> Response:
    """Answers CanFulfillIntentRequest from the intent and its slots alone."""
    verdict = judge(getattr(turn.request, "intent", None), turn.catalog)
    turn.input.response_builder.set_can_fulfill_intent(verdict)
    return turn.silent()
