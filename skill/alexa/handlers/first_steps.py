"""The three first steps (name your guilt trigger, choose one strategy as your focus, reach out),
where the guilt comes from, and the "did you get to try it?" check at launch."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ask_sdk_model import Intent, Response, Slot
from ask_sdk_model.dialog import ElicitSlotDirective

from skill.alexa.handlers.strategies import LAST_STRATEGY, OFFER_STRATEGY
from skill.alexa.registry import answers_no, answers_yes, handles
from skill.alexa.turn import OFFER_MENU, Turn, resolved_id, spoken_value
from skill.domain.user import Focus
from speech import compose, ssml
from speech.catalog import Trigger

#: Offer names understood by the Yes and No handlers.
OFFER_SET_TRIGGER = "set_trigger"
OFFER_FOCUS_CHECK = "focus_check"
OFFER_CAUSES_MORE = "causes_more"
OFFER_STEPS_MORE = "first_steps_more"

TRIGGER_INTENT = "SetGuiltTriggerIntent"
TRIGGER_SLOT = "trigger"


@answers_yes(OFFER_SET_TRIGGER)
def elicit_trigger(turn: Turn, lead: str = "") -> Response:
    """Ask which trigger weighs most, and have Alexa fill the trigger slot with the answer."""
    turn.answer(ssml.join(lead, turn.say("trigger.ask")), reprompt=turn.say("trigger.reprompt"))
    intent = Intent(name=TRIGGER_INTENT, slots={TRIGGER_SLOT: Slot(name=TRIGGER_SLOT)})
    builder = turn.input.response_builder.add_directive(
        ElicitSlotDirective(updated_intent=intent, slot_to_elicit=TRIGGER_SLOT)
    )
    response: Response = builder.response
    return response


def trigger_of(turn: Turn) -> Trigger | None:
    """The guilt trigger named in this intent's trigger slot, if it is one the skill knows."""
    slot = turn.slot(TRIGGER_SLOT)
    trigger = turn.catalog.trigger(resolved_id(slot))
    spoken = spoken_value(slot)
    if trigger is None and spoken is not None:
        trigger = turn.catalog.trigger("-".join(spoken.lower().split()))
    return trigger


def remember_trigger(turn: Turn, trigger: Trigger) -> None:
    """Keep her biggest trigger: strategies lean toward it from now on."""
    turn.remember(guilt_trigger=trigger.id)


@handles(TRIGGER_INTENT)
def set_trigger(turn: Turn) -> Response:
    """First step one: name the biggest guilt trigger; strategies then lean toward it."""
    trigger = trigger_of(turn)
    if trigger is None:
        spoken = spoken_value(turn.slot(TRIGGER_SLOT))
        return elicit_trigger(turn, turn.say("trigger.unknown") if spoken else "")
    remember_trigger(turn, trigger)
    return turn.ask(
        ssml.join(
            turn.say("trigger.saved", title=trigger.title), turn.say("trigger.offer_strategy")
        ),
        "offer.strategy_reprompt",
        offer=OFFER_STRATEGY,
    )


@handles("ChooseFocusIntent")
def choose_focus(turn: Turn) -> Response:
    """First step two: "I'll try that one" makes the last strategy heard the current focus."""
    last = turn.session.get(LAST_STRATEGY)
    if last not in turn.catalog.strategy_ids:
        return turn.ask(turn.say("focus.none"))
    strategy = turn.catalog.strategy(str(last))
    turn.remember(focus=Focus(strategy.id, turn.now))
    return turn.end(turn.say("focus.saved", title=strategy.title))


def focus_to_check(turn: Turn) -> str | None:
    """The focus strategy to ask about at launch, if it was not asked about yet."""
    focus = turn.user.focus
    if focus is None or focus.checked or focus.strategy not in turn.catalog.strategy_ids:
        return None
    return focus.strategy


def focus_checked(turn: Turn) -> Focus | None:
    """Her focus, marked as asked about: "did you get to try it?" is asked once per focus."""
    focus = turn.user.focus
    return None if focus is None else replace(focus, checked=True)


@answers_yes(OFFER_FOCUS_CHECK)
def focus_tried(turn: Turn) -> Response:
    """Yes, I tried my focus."""
    return turn.then_menu(turn.say("focus.tried"))


@answers_no(OFFER_FOCUS_CHECK)
def focus_not_tried(turn: Turn) -> Response:
    """No, I did not get to it."""
    return turn.then_menu(turn.say("focus.not_tried"))


@handles("FirstStepsIntent")
def first_steps(turn: Turn) -> Response:
    """On "where do I start": the three first steps, brief, then an offer to name the trigger."""
    catalog = turn.catalog
    return turn.ask(
        ssml.join(compose.first_steps_ssml(catalog), turn.say("first_steps.offer_trigger")),
        "first_steps.reprompt",
        card=(catalog.text("first_steps.intro"), _topics_text(catalog.first_steps)),
        offer=OFFER_SET_TRIGGER,
        more={"kind": "first_steps", "page": 0},
    )


@handles("WhyGuiltyIntent")
def why_guilty(turn: Turn) -> Response:
    """Where the guilt comes from, one line per cause; more on request, or a strategy."""
    catalog = turn.catalog
    return turn.ask(
        ssml.join(compose.causes_ssml(catalog), turn.say("causes.offer_more")),
        "offer.strategy_reprompt",
        card=(catalog.text("causes.card_title"), compose.causes_text(catalog)),
        offer=OFFER_CAUSES_MORE,
        more={"kind": "causes", "page": 0},
    )


def topic_more(turn: Turn, kind: str, page: int) -> Response:
    """One cause or first step in full ("tell me more"); "yes" or "next" goes on."""
    catalog = turn.catalog
    topics = catalog.causes if kind == "causes" else catalog.first_steps
    page = page % len(topics)
    if kind == "causes":
        speech = compose.cause_detail_ssml(catalog, page)
    else:
        speech = compose.first_step_detail_ssml(catalog, page)
    card = (topics[page].title, topics[page].detail)
    if page + 1 >= len(topics):  # the last one ends on the menu
        return turn.answer(speech, reprompt=turn.say("menu.reprompt"), card=card, offer=OFFER_MENU)
    offer = OFFER_CAUSES_MORE if kind == "causes" else OFFER_STEPS_MORE
    return turn.ask(
        speech, "menu.reprompt", card=card, offer=offer, more={"kind": kind, "page": page + 1}
    )


@answers_yes(OFFER_CAUSES_MORE, OFFER_STEPS_MORE)
def go_on_with_topics(turn: Turn) -> Response:
    """ "Yes" to "would you like more / the next one?" after the causes or the first steps."""
    more = turn.session.get("more")
    kind = more.get("kind") if isinstance(more, dict) else None
    page = more.get("page") if isinstance(more, dict) else 0
    return topic_more(
        turn, kind if kind == "first_steps" else "causes", page if isinstance(page, int) else 0
    )


def _topics_text(topics: Any) -> str:
    return "\n\n".join(f"{topic.title}. {topic.detail}" for topic in topics)
