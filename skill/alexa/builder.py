"""Assembles the ask-sdk-core skill from the declared handlers, interceptors and the
persistence adapter."""

from __future__ import annotations

from collections.abc import Callable

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.skill import CustomSkill, SkillConfiguration
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.alexa import handlers
from skill.alexa.handlers.errors import ApologyExceptionHandler
from skill.alexa.interceptors import FreshStartInterceptor, LocalizationInterceptor
from skill.alexa.registry import REGISTRY, RouteMapper
from skill.alexa.turn import Deps
from skill.alexa.visuals import LetterScreenInterceptor
from speech.catalog import Catalogs

handlers.load_all()

#: Intents the handlers answer, checked against interaction_models/ by the tests.
HANDLED_INTENTS = REGISTRY.intents
#: Request types the skill accepts; anything else is refused before it reaches the SDK.
HANDLED_REQUEST_TYPES = REGISTRY.request_types


class _RoutedSkillBuilder(CustomSkillBuilder):
    """ask-sdk's builder, with the declared routes found by :class:`RouteMapper`."""

    @property
    def skill_configuration(self) -> SkillConfiguration:
        config: SkillConfiguration = super().skill_configuration
        chains = [
            chain for mapper in config.request_mappers for chain in mapper.request_handler_chains
        ]
        config.request_mappers = [RouteMapper(chains)]
        return config


def build_skill(
    catalogs: Catalogs,
    adapter: AbstractPersistenceAdapter,
    *,
    skill_id: str | None = None,
    deps: Deps | None = None,
    apologise_for_stale_writes: bool = False,
    on_apology: Callable[[str], None] | None = None,
) -> CustomSkill:
    """The skill, ready for ``invoke``.

    A stale write normally escapes ``invoke`` so the caller can retry on fresh state; with
    ``apologise_for_stale_writes`` (a caller's last attempt) it gets the spoken apology too.
    ``on_apology`` hears the failure's type name whenever the apology is spoken.
    """
    deps = deps or Deps()
    builder = _RoutedSkillBuilder(persistence_adapter=adapter)
    builder.skill_id = skill_id  # type: ignore[assignment]  # typed None in ask-sdk, takes a str
    for handler in REGISTRY.handlers(deps):
        builder.add_request_handler(handler)
    builder.add_global_request_interceptor(LocalizationInterceptor(catalogs))
    builder.add_global_response_interceptor(LetterScreenInterceptor())
    builder.add_global_response_interceptor(FreshStartInterceptor())
    builder.add_exception_handler(
        ApologyExceptionHandler(
            catalogs,
            deps,
            apologise_for_stale_writes=apologise_for_stale_writes,
            on_apology=on_apology,
        )
    )
    skill: CustomSkill = builder.create()
    return skill
