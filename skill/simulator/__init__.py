"""A local stand-in for Alexa: utterance matcher, request envelopes and conversations.

Everything here is driven by ``interaction_models/<locale>.json`` (the single source of truth
for intents and sample utterances). The package is split by responsibility:

* :mod:`~skill.simulator.model` — :func:`load_model` reads one locale's model into small frozen
  dataclasses;
* :mod:`~skill.simulator.matcher` — :class:`UtteranceMatcher` turns typed text into an intent
  and slots the way Alexa would (sample utterances become regular expressions, custom slot
  values are resolved through their synonyms), with :func:`normalize` from
  :mod:`~skill.simulator.text`;
* :mod:`~skill.simulator.durations` — ``AMAZON.DURATION`` values become ISO-8601 durations;
* :mod:`~skill.simulator.envelopes` — :class:`EnvelopeFactory` builds real Alexa request
  envelopes (plain dicts);
* :mod:`~skill.simulator.conversation` — :class:`Conversation` carries a session from turn to
  turn through a transport, either the Flask app in-process (:class:`AppTransport`) or a
  running server (:class:`HttpTransport`);
* :mod:`~skill.simulator.replay` — :func:`run_replay` checks a recorded dialog
  (``tests/dialogs/*.json``) against a skill;
* :mod:`~skill.simulator.commands` — ``simulate``, ``chat`` and ``replay`` are click commands
  that ``skill/cli.py`` registers;
* :mod:`~skill.simulator.constants` — request types, default ids and the ``JSON`` alias.

Every public name is re-exported here, so ``from skill.simulator import ...`` keeps working.
"""

from __future__ import annotations

from skill.simulator.commands import (
    COMMANDS,
    chat_command,
    format_slots,
    format_turn,
    replay_command,
    simulate_command,
)
from skill.simulator.commands import _speaker as _speaker
from skill.simulator.constants import (
    API_ENDPOINT,
    DEFAULT_DEVICE_ID,
    DEFAULT_SKILL_ID,
    DEFAULT_USER_ID,
    FALLBACK_INTENT,
    JSON,
    LAUNCH_REQUEST,
)
from skill.simulator.conversation import (
    AppTransport,
    Conversation,
    HttpTransport,
    Transport,
    Turn,
    ssml_to_text,
)
from skill.simulator.durations import spoken_duration_to_iso
from skill.simulator.envelopes import EnvelopeFactory, SessionState
from skill.simulator.matcher import BUILTIN_PHRASES, Match, SlotValue, UtteranceMatcher
from skill.simulator.model import (
    IntentDef,
    InteractionModel,
    ModelError,
    SlotDef,
    SlotTypeDef,
    TypeValue,
    available_locales,
    default_models_dir,
    load_model,
    parse_model,
)
from skill.simulator.replay import ReplayResult, load_replay, replay_from_turns, run_replay
from skill.simulator.text import normalize

__all__ = [
    "API_ENDPOINT",
    "BUILTIN_PHRASES",
    "COMMANDS",
    "DEFAULT_DEVICE_ID",
    "DEFAULT_SKILL_ID",
    "DEFAULT_USER_ID",
    "FALLBACK_INTENT",
    "JSON",
    "LAUNCH_REQUEST",
    "AppTransport",
    "Conversation",
    "EnvelopeFactory",
    "HttpTransport",
    "IntentDef",
    "InteractionModel",
    "Match",
    "ModelError",
    "ReplayResult",
    "SessionState",
    "SlotDef",
    "SlotTypeDef",
    "SlotValue",
    "Transport",
    "Turn",
    "TypeValue",
    "UtteranceMatcher",
    "available_locales",
    "chat_command",
    "default_models_dir",
    "format_slots",
    "format_turn",
    "load_model",
    "load_replay",
    "normalize",
    "parse_model",
    "replay_command",
    "replay_from_turns",
    "run_replay",
    "simulate_command",
    "spoken_duration_to_iso",
    "ssml_to_text",
]
