"""A local stand-in for Alexa: utterance matcher, request envelopes and conversations.

Everything here is driven by ``interaction_models/<locale>.json`` (the single source of truth
for intents and sample utterances). The package is split by responsibility:

* ``model`` — :func:`load_model` reads one locale's model into small frozen
  dataclasses;
* ``matcher`` — :class:`UtteranceMatcher` turns typed text into an intent
  and slots the way Alexa would (sample utterances become regular expressions, custom slot
  values are resolved through their synonyms), with :func:`normalize` from
  ``text``;
* ``nlu`` — the matcher's fuzzy second layer (rapidfuzz template likeness plus word
  evidence) when no sample matches: Fallback below a threshold, runner-ups for "did you mean";
* ``nlu_eval`` — annotation sets in the Alexa NLU Evaluation Tool's CSV and JSON formats,
  scoring, and the ``nlu-eval`` command;
* ``durations`` — ``AMAZON.DURATION`` values become ISO-8601 durations;
* ``envelopes`` — :class:`EnvelopeFactory` builds real Alexa request
  envelopes (plain dicts);
* ``conversation`` — :class:`Conversation` carries a session from turn to
  turn through a transport, either the Flask app in-process (:class:`AppTransport`) or a
  running server (:class:`HttpTransport`);
* ``replay`` — :func:`run_replay` checks a recorded dialog
  (``tests/dialogs/*.json``) against a skill;
* ``commands`` — ``simulate``, ``chat`` and ``replay`` are click commands
  that ``skill/cli.py`` registers;
* ``constants`` — request types, default ids and the ``JSON`` alias.

Every public name is re-exported here, so ``from skill.devtools.simulator import ...`` works.
"""

from __future__ import annotations

from skill.devtools.simulator.commands import (
    COMMANDS,
    chat_command,
    format_slots,
    format_turn,
    replay_command,
    simulate_command,
)
from skill.devtools.simulator.commands import _speaker as _speaker
from skill.devtools.simulator.constants import (
    API_ENDPOINT,
    DEFAULT_DEVICE_ID,
    DEFAULT_SKILL_ID,
    DEFAULT_USER_ID,
    FALLBACK_INTENT,
    JSON,
    LAUNCH_REQUEST,
)
from skill.devtools.simulator.conversation import (
    AppTransport,
    Conversation,
    HttpTransport,
    Transport,
    Turn,
    ssml_to_text,
)
from skill.devtools.simulator.durations import spoken_duration_to_iso
from skill.devtools.simulator.envelopes import EnvelopeFactory, SessionState
from skill.devtools.simulator.matcher import BUILTIN_PHRASES, Match, SlotValue, UtteranceMatcher
from skill.devtools.simulator.model import (
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
from skill.devtools.simulator.replay import ReplayResult, load_replay, replay_from_turns, run_replay
from skill.devtools.simulator.text import normalize

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
