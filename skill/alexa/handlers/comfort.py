"""Comfort: "I feel guilty", "I had a terrible day", and today's affirmation. Comfort comes
first, with a real breath; nothing here gives homework unless she asks for it."""

from __future__ import annotations

import hashlib
from datetime import date

from ask_sdk_model import Response

from skill.alexa.handlers.first_steps import remember_trigger, trigger_of
from skill.alexa.handlers.letter import OFFER_BAD_DAY, read_letter, short_letter
from skill.alexa.handlers.services import local_now
from skill.alexa.registry import answers_no, answers_yes, handles
from skill.alexa.turn import OFFER, Turn
from skill.domain.user import AffirmationHeard
from speech import compose, ssml
from speech.compose import AFFIRMATION_NO_REPEAT_DAYS

#: Offers: after "I feel guilty" (yes: the letter), after a bad day (yes: the short letter),
#: today's affirmation offered (yes: hear it).
OFFER_GUILTY = "guilty"
OFFER_AFFIRMATION = "affirmation"


@handles("FeelingGuiltyIntent")
def feeling_guilty(turn: Turn) -> Response:
    """Comfort first, one real breath, then the mantra; "about missing school events" is
    remembered as her trigger. The turn offers only more comfort, never homework."""
    catalog = turn.catalog
    if turn.session.get(OFFER) == OFFER_BAD_DAY:  # "a breath", after the bad-day offer
        return turn.end(compose.bad_day_breath_ssml(catalog))
    trigger = trigger_of(turn)
    if trigger is None:
        comfort = compose.feeling_guilty_ssml(catalog)
    else:
        remember_trigger(turn, trigger)
        comfort = ssml.join(
            turn.say("guilty.comfort"),
            turn.say("breath.intro"),
            compose.breath_ssml(catalog),
            turn.say("trigger.saved", title=trigger.title),
        )
    return turn.ask(
        ssml.join(comfort, turn.say("guilty.offer")), "guilty.reprompt", offer=OFFER_GUILTY
    )


answers_yes(OFFER_GUILTY)(read_letter)


@handles("BadDayIntent")
def bad_day(turn: Turn) -> Response:
    """ "I had a terrible day": comfort and no fixing, then the short letter or a breath."""
    variant = turn.pick("bad_day.comfort")
    return turn.ask(
        compose.bad_day_ssml(turn.catalog, variant),
        "bad_day.reprompt",
        offer=OFFER_BAD_DAY,
        card=(turn.catalog.text("bad_day.card_title"), turn.catalog.text("bad_day.offer")),
    )


answers_yes(OFFER_BAD_DAY)(short_letter)


@answers_no(OFFER_BAD_DAY, OFFER_GUILTY)
def comfort_declined(turn: Turn) -> Response:
    """ "No thanks" after comfort: a kind goodbye, nothing to do."""
    return turn.end(turn.say("bad_day.goodbye"))


def user_salt(turn: Turn) -> int:
    """A stable number per user, so users do not all hear the same line on the same day."""
    user = getattr(getattr(turn.input.request_envelope.context, "system", None), "user", None)
    user_id = getattr(user, "user_id", None) or ""
    return int(hashlib.sha256(str(user_id).encode()).hexdigest()[:8], 16)


def _today(turn: Turn) -> date:
    return local_now(turn.input, turn.deps.alexa_api, turn.now).date()


def todays_affirmation(turn: Turn) -> tuple[int, bool]:
    """Today's affirmation for her (same all day, no repeat within 30 days) and whether she has
    already heard it today."""
    today = _today(turn)
    history = [(heard.day, heard.index) for heard in turn.user.affirmations_heard]
    heard_today = any(day == today for day, _ in history)
    index = compose.todays_affirmation(
        len(turn.catalog.affirmations), today, history, salt=user_salt(turn)
    )
    return index, heard_today


def affirmation_heard_today(turn: Turn) -> bool:
    """True when she already heard today's affirmation."""
    return todays_affirmation(turn)[1]


@handles("DailyAffirmationIntent", can_fulfill={}, yes_to=[OFFER_AFFIRMATION])
def daily_affirmation(turn: Turn) -> Response:
    """Today's affirmation, a moment of quiet, then the menu."""
    index, _ = todays_affirmation(turn)
    today = _today(turn)
    kept = tuple(
        heard
        for heard in turn.user.affirmations_heard
        if heard.day != today and 0 <= (today - heard.day).days < AFFIRMATION_NO_REPEAT_DAYS
    )
    turn.remember(affirmations_heard=(*kept, AffirmationHeard(today, index)))
    speech = compose.affirmation_ssml(turn.catalog, index, turn.pick("affirmation.intro"))
    card = (turn.catalog.text("affirmation.card_title"), turn.catalog.affirmations[index])
    menu = turn.say("menu.reprompt")
    return turn.answer(ssml.join(speech, menu), reprompt=menu, card=card, offer="menu")
