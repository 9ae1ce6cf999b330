"""Assembles the ask-sdk-core skill from handlers, interceptors and the persistence adapter."""

from __future__ import annotations

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.alexa.handlers.base import Deps
from skill.alexa.handlers.can_fulfill import CanFulfillHandler
from skill.alexa.handlers.content import (
    OFFER_STRATEGY,
    ContentPieceHandler,
    LetterHandler,
    MantraHandler,
    NextHandler,
    ReadAlongHandler,
    RepeatHandler,
    SetNameHandler,
    StrategyHandler,
)
from skill.alexa.handlers.conversation import (
    OFFER_FORGET,
    FallbackHandler,
    ForgetMeHandler,
    HelpHandler,
    LaunchHandler,
    MenuHandler,
    NoHandler,
    SessionEndedHandler,
    SkillDisabledHandler,
    SkillEventHandler,
    StopHandler,
    YesHandler,
)
from skill.alexa.handlers.errors import ApologyExceptionHandler
from skill.alexa.handlers.first_steps import (
    OFFER_FOCUS_CHECK,
    OFFER_SET_TRIGGER,
    ChooseFocusHandler,
    FeelingGuiltyHandler,
    FirstStepsHandler,
    SetGuiltTriggerHandler,
    elicit_trigger,
    focus_not_tried,
    focus_tried,
)
from skill.alexa.handlers.kid_time import (
    OFFER_KID_TIME,
    EndKidTimeHandler,
    KidTimeSummaryHandler,
    StartKidTimeHandler,
    TimerPermissionHandler,
)
from skill.alexa.interceptors import FreshStartInterceptor, LocalizationInterceptor
from skill.alexa.visuals import LetterScreenInterceptor
from speech import compose
from speech.catalog import Catalogs

#: Intents the handlers answer, checked against interaction_models/ by the tests.
HANDLED_INTENTS = frozenset(
    {
        "StartKidTimeIntent",
        "EndKidTimeIntent",
        "KidTimeSummaryIntent",
        "GetStrategyIntent",
        "ReadLetterIntent",
        "HearMantraIntent",
        "ForgetMeIntent",
        "SetGuiltTriggerIntent",
        "ChooseFocusIntent",
        "FirstStepsIntent",
        "FeelingGuiltyIntent",
        "WhyGuiltyIntent",
        "SetNameIntent",
        "ReadAlongIntent",
        "ShortLetterIntent",
        "AMAZON.HelpIntent",
        "AMAZON.StopIntent",
        "AMAZON.CancelIntent",
        "AMAZON.FallbackIntent",
        "AMAZON.RepeatIntent",
        "AMAZON.NextIntent",
        "AMAZON.YesIntent",
        "AMAZON.NoIntent",
        "AMAZON.StartOverIntent",
        "AMAZON.NavigateHomeIntent",
    }
)
#: Request types the skill accepts; anything else is refused before it reaches the SDK.
HANDLED_REQUEST_TYPES = frozenset(
    {
        "LaunchRequest",
        "IntentRequest",
        "SessionEndedRequest",
        "CanFulfillIntentRequest",
        "Connections.Response",
        "AlexaSkillEvent.SkillDisabled",
        "AlexaSkillEvent.SkillEnabled",
        "AlexaSkillEvent.SkillPermissionAccepted",
        "AlexaSkillEvent.SkillPermissionChanged",
        "AlexaSkillEvent.SkillAccountLinked",
    }
)


def request_handlers(deps: Deps) -> list[AbstractRequestHandler]:
    """Every request handler, most specific first (the fallback catches any other intent)."""
    start = StartKidTimeHandler(deps)
    strategy = StrategyHandler()
    read_along = ReadAlongHandler(deps)
    yes = YesHandler(
        {
            OFFER_KID_TIME: start.start,
            OFFER_STRATEGY: strategy.tell,
            OFFER_FORGET: ForgetMeHandler.forget,
            OFFER_SET_TRIGGER: elicit_trigger,
            OFFER_FOCUS_CHECK: focus_tried,
        }
    )
    no = NoHandler({OFFER_FORGET: ForgetMeHandler.keep, OFFER_FOCUS_CHECK: focus_not_tried})
    return [
        LaunchHandler(deps),
        start,
        EndKidTimeHandler(deps),
        KidTimeSummaryHandler(deps),
        TimerPermissionHandler(deps),
        CanFulfillHandler(),
        strategy,
        NextHandler(strategy.tell, read_along.step),
        LetterHandler(deps),
        ContentPieceHandler(
            "ShortLetterIntent", compose.short_letter_ssml, "letter_short.card_title"
        ),
        read_along,
        SetNameHandler(),
        MantraHandler(),
        SetGuiltTriggerHandler(),
        ChooseFocusHandler(deps),
        FirstStepsHandler(),
        FeelingGuiltyHandler(),
        ContentPieceHandler("WhyGuiltyIntent", compose.causes_ssml, "causes.card_title"),
        ForgetMeHandler(),
        HelpHandler(),
        MenuHandler(),
        StopHandler(),
        yes,
        no,
        RepeatHandler(),
        SessionEndedHandler(),
        SkillDisabledHandler(),
        SkillEventHandler(),
        FallbackHandler(),
    ]


def build_skill(
    catalogs: Catalogs,
    adapter: AbstractPersistenceAdapter,
    *,
    skill_id: str | None = None,
    deps: Deps | None = None,
) -> CustomSkill:
    """The skill, ready for ``invoke``."""
    builder = CustomSkillBuilder(persistence_adapter=adapter)
    builder.skill_id = skill_id  # type: ignore[assignment]  # typed None in ask-sdk, takes a str
    for handler in request_handlers(deps or Deps()):
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(LocalizationInterceptor(catalogs))
    builder.add_global_response_interceptor(LetterScreenInterceptor())
    builder.add_global_response_interceptor(FreshStartInterceptor())
    builder.add_exception_handler(ApologyExceptionHandler(catalogs))
    skill: CustomSkill = builder.create()
    return skill
