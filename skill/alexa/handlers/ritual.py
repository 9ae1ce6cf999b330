"""The workday shutdown ritual: "ask mama moments to end my workday" (one-shot, so it fits an
Alexa Routine). A breath and the question of one good thing; then, whatever the answer, the
laptop closed and an offer of kid time that a "yes" starts."""

from __future__ import annotations

from ask_sdk_model import Response

from skill.alexa.handlers.kid_time import OFFER_KID_TIME
from skill.alexa.registry import answers_no, handles
from skill.alexa.turn import OFFER, Turn, spoken_value
from speech import ritual

#: Offer name: the ritual's question ("can you name one thing that went well today?").
OFFER_GOOD_THING = "ritual_good_thing"
#: A named good thing is said back; a very long one is cut (Alexa's phrase slot is short).
MAX_THING_CHARS = 80


@handles("EndWorkdayIntent")
def end_workday(turn: Turn) -> Response:
    """Starts the ritual: a breath, then the question."""
    return turn.ask(ritual.opening_ssml(turn.catalog), "ritual.reprompt", offer=OFFER_GOOD_THING)


def _close(turn: Turn, acknowledgement: str) -> Response:
    return turn.ask(
        ritual.closing_ssml(turn.catalog, acknowledgement),
        "kidtime.offer_reprompt",
        offer=OFFER_KID_TIME,
    )


@handles("GoodThingIntent", yes_to=[OFFER_GOOD_THING])
def good_thing(turn: Turn) -> Response:
    """Handles "I finished the report": said back, then the ritual goes on (a plain "yes" too).
    Outside the ritual the good thing is still welcomed, then the menu."""
    in_ritual = turn.session.get(OFFER) == OFFER_GOOD_THING
    thing = spoken_value(turn.slot("thing"))
    if thing:
        said = turn.say("ritual.heard", thing=thing[:MAX_THING_CHARS].rstrip(" .,!?"))
    else:
        said = turn.say("ritual.yes")
    if in_ritual or not thing:
        return _close(turn, said)
    return turn.then_menu(said)


@answers_no(OFFER_GOOD_THING)
def nothing_went_well(turn: Turn) -> Response:
    """Handles "no": some days are only got through; the ritual goes on."""
    return _close(turn, turn.say("ritual.no"))
