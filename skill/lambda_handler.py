"""AWS Lambda entry point for the same skill that ``POST /alexa`` serves.

Configure the function with handler ``skill.lambda_handler.handler`` and, in its environment,
``MAMA_STORE=dynamodb`` (a Lambda container's disk is temporary and not shared, so TinyDB would
forget users), ``MAMA_DYNAMODB_TABLE`` and ``MAMA_SKILL_ID``. Every other ``MAMA_*`` setting
works as for the web service (``Config.from_env``).

What differs from the web endpoint, and why:

* No signature or timestamp check. Alexa invokes a Lambda directly through its trigger, not over
  HTTP, so there is nothing to sign; the trigger's skill-id condition is the trust boundary.
  (Test events pasted into the Lambda console also carry old timestamps.)
* The skill id is still checked here when ``MAMA_SKILL_ID`` is set, as defence in depth.
* A bad event raises ``RequestRefused`` (a ``ValueError``), which Lambda reports as a failed
  invocation: there is no HTTP status to answer with, and a made-up response would be worse.

The skill is built on the first invocation and cached for the life of the container, so
importing this module stays cheap and a broken setting surfaces as an invocation error.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from skill.alexa.builder import build_skill
from skill.alexa.handlers.base import Deps
from skill.config import Config
from skill.storage import adapter_from_config
from skill.web.runner import RequestRefused, SkillBusy, SkillRunner
from speech.catalog import load_catalogs

__all__ = ["RequestRefused", "SkillBusy", "handler", "lambda_runner"]

logger = logging.getLogger(__name__)


@cache
def lambda_runner() -> SkillRunner:
    """Build the skill once per container (``lambda_runner.cache_clear()`` rebuilds it)."""
    config = Config.from_env()
    catalogs = load_catalogs(default_locale=config.default_locale)
    skill = build_skill(
        catalogs, adapter_from_config(config), skill_id=config.skill_id, deps=Deps()
    )
    return SkillRunner(skill, config.skill_id)


def handler(event: object, context: object) -> dict[str, Any]:
    """The Lambda handler: an Alexa request envelope in, the response envelope dict out.

    A bad event raises ``RequestRefused`` (a ``ValueError``); ``context`` (Lambda's invocation
    context) is not used by the skill.
    """
    runner = lambda_runner()
    return runner.run(runner.check(event))
