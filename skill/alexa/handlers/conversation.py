"""The follow-ups every real skill needs: help, stop, yes/no, next, more, repeat, fallback, and
the requests that need no words (session end, skill events)."""

from __future__ import annotations

import logging

from ask_sdk_model import Response

from skill.alexa.handlers.comfort import affirmation_heard_today, daily_affirmation
from skill.alexa.handlers.first_steps import (
    OFFER_CAUSES_MORE,
    OFFER_STEPS_MORE,
    go_on_with_topics,
    topic_more,
)
from skill.alexa.handlers.letter import read_along_next, read_along_step
from skill.alexa.handlers.strategies import LAST_STRATEGY, strategy_more, tell_strategy
from skill.alexa.registry import REGISTRY, answers_no, answers_yes, handles, handles_request
from skill.alexa.turn import LAST, MISSES, MORE, OFFER, OFFER_MENU, READ_ALONG, Turn
from speech import compose

logger = logging.getLogger(__name__)

#: Offer names understood by the Yes and No handlers.
OFFER_FORGET = "forget_me"


@handles("AMAZON.HelpIntent")
def help_(turn: Turn) -> Response:
    """Explains what to say."""
    return turn.ask(turn.say("help"), offer=OFFER_MENU)


@handles("AMAZON.StartOverIntent", "AMAZON.NavigateHomeIntent")
def start_over(turn: Turn) -> Response:
    """Start over and navigate home: back to the three choices."""
    return turn.then_menu(turn.say("start_over"))


@handles("AMAZON.StopIntent", "AMAZON.CancelIntent")
def stop(turn: Turn) -> Response:
    """Stop and cancel end the session kindly."""
    return turn.end(turn.say("goodbye"))


@answers_yes(OFFER_MENU)
def yes_to_the_menu(turn: Turn) -> Response:
    """ "Yes" to "kid time, a strategy, or your letter?": today's affirmation if she has not
    heard it yet, otherwise a strategy."""
    if not affirmation_heard_today(turn):
        return daily_affirmation(turn)
    return tell_strategy(turn)


@handles("AMAZON.YesIntent")
def yes(turn: Turn) -> Response:
    """A "yes" carries out whatever the last answer offered."""
    offer = turn.session.get(OFFER)
    action = REGISTRY.yes_actions.get(offer) if isinstance(offer, str) else None
    if action is not None:
        return action(turn)
    return turn.then_menu(turn.say("yes_no.unexpected"))


@handles("AMAZON.NoIntent")
def no(turn: Turn) -> Response:
    """A "no" declines the offer: some offers have their own answer, the rest a warm goodbye."""
    offer = turn.session.get(OFFER)
    action = REGISTRY.no_actions.get(offer) if isinstance(offer, str) else None
    if action is not None:
        return action(turn)
    if offer is None:
        return turn.then_menu(turn.say("yes_no.unexpected"))
    return turn.end(turn.say("no.goodbye"))


@handles("AMAZON.NextIntent")
def next_(turn: Turn) -> Response:
    """ "Next", "another one": continues a read-along or the longer version in progress, the
    next cause or step after "tell me more", otherwise the next strategy."""
    step = read_along_next(turn)
    if step is not None:
        return read_along_step(turn, step)
    if turn.session.get(OFFER) in (OFFER_CAUSES_MORE, OFFER_STEPS_MORE):
        return go_on_with_topics(turn)
    return tell_strategy(turn)


@handles("MoreDetailIntent")
def more_detail(turn: Turn) -> Response:
    """ "Tell me more", "the longer version": more of what was just said."""
    more = turn.session.get(MORE)
    kind = more.get("kind") if isinstance(more, dict) else None
    page = more.get("page") if isinstance(more, dict) else 0
    page = page if isinstance(page, int) and not isinstance(page, bool) else 0
    if kind == "strategy" and isinstance(more, dict):
        strategy_id = more.get("id")
        if strategy_id in turn.catalog.strategy_ids:
            return strategy_more(turn, str(strategy_id), page)
    if kind in ("causes", "first_steps"):
        return topic_more(turn, str(kind), page)
    last = turn.session.get(LAST_STRATEGY)
    if last in turn.catalog.strategy_ids:
        return strategy_more(turn, str(last), 0)
    return turn.then_menu(turn.say("repeat.nothing"))


@handles("AMAZON.RepeatIntent")
def repeat(turn: Turn) -> Response:
    """Says the last answer again, keeping what "yes", "more" or "next" would do."""
    attributes = turn.session
    last = attributes.get(LAST)
    kept = {key: attributes[key] for key in (OFFER, MORE, READ_ALONG) if key in attributes}
    if isinstance(last, dict) and isinstance(last.get("speech"), str):
        response = turn.answer(
            last["speech"], reprompt=str(last.get("reprompt") or turn.say("menu.reprompt"))
        )
        attributes.update(kept)
        return response
    return turn.then_menu(turn.say("repeat.nothing"))


@handles("ForgetMeIntent")
def forget_me(turn: Turn) -> Response:
    """Asks to confirm "forget me"; a "yes" then deletes."""
    return turn.ask(turn.say("forget.confirm"), "forget.reprompt", offer=OFFER_FORGET)


@answers_yes(OFFER_FORGET)
def forget(turn: Turn) -> Response:
    """Delete everything stored for this user."""
    turn.input.attributes_manager.delete_persistent_attributes()
    return turn.end(turn.say("forget.done"))


@answers_no(OFFER_FORGET)
def keep(turn: Turn) -> Response:
    """The user said no: nothing is deleted."""
    return turn.then_menu(turn.say("forget.kept"))


@handles_request("IntentRequest", catch_all=True, intents=("AMAZON.FallbackIntent",))
def fallback(turn: Turn) -> Response:
    """AMAZON.FallbackIntent, and any intent this skill does not know: a gentle redirect that
    helps more each time in a row; the third gives the menu once more and, if she stays
    silent, ends kindly; a fourth says goodbye."""
    misses = turn.session.get(MISSES)
    attempt = (misses if isinstance(misses, int) and not isinstance(misses, bool) else 0) + 1
    if attempt > 3:
        return turn.end(turn.say("fallback.goodbye"))
    speech, reprompt = compose.fallback_ssml(turn.catalog, attempt)
    response = turn.answer(speech, reprompt=reprompt, offer=OFFER_MENU)
    turn.session[MISSES] = attempt
    return response


@handles_request("SessionEndedRequest")
def session_ended(turn: Turn) -> Response:
    """The session ended (user left, silence, or an error on the device): nothing to say."""
    error = getattr(turn.request, "error", None)
    if error is not None:
        # ask-sdk-model names the error's type ``object_type`` (``type`` in the JSON).
        kind = getattr(error, "object_type", None)
        logger.warning("session ended with a device error: %s", getattr(kind, "value", kind) or "?")
    return turn.silent()


@handles_request("AlexaSkillEvent.SkillDisabled")
def skill_disabled(turn: Turn) -> Response:
    """The user disabled the skill: delete their data unless Alexa says it is kept."""
    # ask-sdk-model drops the event body, so the endpoint passes the raw request as context.
    raw = turn.input.context if isinstance(turn.input.context, dict) else {}
    body = raw.get("request", {}).get("body")
    status = body.get("userInformationPersistenceStatus") if isinstance(body, dict) else None
    if status != "PERSISTED":
        turn.input.attributes_manager.delete_persistent_attributes()
    return turn.silent()


@handles_request(
    "AlexaSkillEvent.SkillEnabled",
    "AlexaSkillEvent.SkillPermissionAccepted",
    "AlexaSkillEvent.SkillPermissionChanged",
    "AlexaSkillEvent.SkillAccountLinked",
)
def skill_event(turn: Turn) -> Response:
    """Other skill events (enabled, permissions changed) need only an acknowledgement."""
    return turn.silent()
