"""One strategy or mental shift at a time, its longer version on request, and the offer of one
that other turns end with."""

from __future__ import annotations

from typing import Any

from ask_sdk_model import Response
from ask_sdk_model.canfulfill import CanFulfillSlotValues, CanUnderstandSlotValues

from skill.alexa.registry import SlotVerdict, answers_yes, handles
from skill.alexa.turn import Turn, resolved_id, spoken_value
from skill.domain.strategies import match_topic, next_strategy
from speech import compose, ssml
from speech.catalog import Catalog

#: Offer names understood by the Yes handler.
OFFER_STRATEGY = "strategy"
#: Offer: "shall I go on?" with the longer version of a strategy.
OFFER_STRATEGY_MORE = "strategy_more"
#: Session attribute: the strategy just told (for "I'll try that one").
LAST_STRATEGY = "last_strategy"


def offer_strategy(turn: Turn, speech: str, card: tuple[str, str] | None = None) -> Response:
    """Say ``speech``, then offer a strategy: a "yes" next tells one."""
    return turn.ask(
        ssml.join(speech, turn.say("offer.strategy")),
        "offer.strategy_reprompt",
        card=card,
        offer=OFFER_STRATEGY,
    )


def _topic(slot: Any, catalog: Catalog) -> SlotVerdict:
    """A topic is fulfilled when it names one of the strategies."""
    if match_topic(catalog.strategy_ids, resolved_id(slot), spoken_value(slot)) is not None:
        return CanUnderstandSlotValues.YES, CanFulfillSlotValues.YES
    return CanUnderstandSlotValues.MAYBE, CanFulfillSlotValues.NO


@handles("GetStrategyIntent", can_fulfill={"topic": _topic}, yes_to=[OFFER_STRATEGY])
def tell_strategy(turn: Turn) -> Response:
    """The next strategy (or the asked-for one), brief, then the offer of more or another."""
    catalog, user = turn.catalog, turn.user
    slot = turn.slot("topic")
    spoken = spoken_value(slot)
    requested = match_topic(catalog.strategy_ids, resolved_id(slot), spoken)
    trigger = catalog.trigger(user.guilt_trigger)
    pick = next_strategy(
        catalog.strategy_ids,
        user.strategies_heard,
        requested,
        prefer=trigger.leans_to if trigger else (),
    )
    turn.remember(strategies_heard=pick.heard)
    turn.session[LAST_STRATEGY] = pick.strategy_id

    strategy = catalog.strategy(pick.strategy_id)
    notes = []
    if spoken is not None and requested is None:
        notes.append(turn.say("strategy.unknown_topic", topic=spoken[:80]))
    if pick.restarted:
        notes.append(turn.say("strategy.restarted", count=len(catalog.strategies)))
    progress = ""
    if compose.progress_note(catalog, len(pick.heard)):  # every third one since a restart
        progress = catalog.say("progress.closing", variant=turn.pick("progress.closing"))
    return turn.ask(
        ssml.join(
            *notes,
            compose.strategy_brief_ssml(catalog, strategy, after_note=bool(notes)),
            progress,
            turn.say("strategy.offer_more"),
        ),
        "strategy.offer_more_reprompt",
        card=(strategy.title, compose.strategy_text(catalog, strategy)),
        offer=OFFER_STRATEGY,
        more={"kind": "strategy", "id": strategy.id, "page": 0},
    )


def strategy_more(turn: Turn, strategy_id: str, page: int) -> Response:
    """One paragraph of a strategy's longer version; "yes" goes on to the next one."""
    catalog = turn.catalog
    strategy = catalog.strategy(strategy_id)
    page = max(0, min(page, compose.strategy_pages(strategy) - 1))
    last = page + 1 >= compose.strategy_pages(strategy)
    speech = compose.strategy_more_ssml(catalog, strategy, page)
    card = (strategy.title, compose.strategy_text(catalog, strategy))
    turn.session[LAST_STRATEGY] = strategy.id
    if last:
        return turn.ask(speech, "strategy.reprompt", card=card, offer=OFFER_STRATEGY)
    return turn.ask(
        speech,
        "strategy.more_reprompt",
        card=card,
        offer=OFFER_STRATEGY_MORE,
        more={"kind": "strategy", "id": strategy.id, "page": page + 1},
    )


@answers_yes(OFFER_STRATEGY_MORE)
def go_on_with_strategy(turn: Turn) -> Response:
    """ "Yes" to "shall I go on?": the next paragraph of the longer version."""
    more = turn.session.get("more")
    if isinstance(more, dict) and more.get("id") in turn.catalog.strategy_ids:
        page = more.get("page")
        return strategy_more(turn, str(more["id"]), page if isinstance(page, int) else 0)
    return tell_strategy(turn)
