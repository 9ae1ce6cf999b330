"""The local web console: type what you would say to Alexa and see what the skill answers.

Development only: a :class:`ConsoleExtension` handed to ``create_app(extensions=...)`` adds it
(``skill.app`` does so when ``Config.dev_console`` is true, which ``mama-moments run --dev`` sets);
the web app itself never imports this module. Each turn goes through the app's own
``POST /alexa`` in-process (the simulator's :class:`~skill.devtools.simulator.Conversation` over
an :class:`AppTransport`), so the console exercises exactly the skill, checks and store that Alexa
would reach.

The server keeps no conversation state: every answer carries a ``session`` object (user id,
session id, session attributes) that the page sends back with its next utterance.

Routes:

* ``GET /console`` — the page (static files under ``skill/devtools/console/``);
* ``GET /console/api/model?locale=`` — invocation name, locales and example utterances;
* ``POST /console/api/say`` — ``{"text", "locale", "session"}`` → one turn as JSON;
* ``POST /console/api/audio`` — ``{"ssml", "locale"}`` → ``audio/wav`` from the offline voice.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_file

from skill.config import Config
from skill.devtools.simulator import (
    BUILTIN_PHRASES,
    DEFAULT_SKILL_ID,
    FALLBACK_INTENT,
    AppTransport,
    Conversation,
    EnvelopeFactory,
    InteractionModel,
    Match,
    ModelError,
    SessionState,
    Turn,
    UtteranceMatcher,
    available_locales,
    load_model,
)
from skill.web.errors import error_response
from speech.catalog import Catalogs
from speech.offline import OfflineSpeaker, SpeechError, ssml_to_segments

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("console")

#: Longest utterance accepted: far more than anyone says in one breath.
MAX_TEXT_CHARS = 500
#: Longest SSML the audio endpoint renders (the letter, the longest answer, is well below it).
MAX_SSML_CHARS = 20_000
#: Session attributes sent back by the page; the skill's own stay far smaller.
MAX_ATTRIBUTES_BYTES = 32 * 1024

_USER_ID = re.compile(r"^amzn1\.ask\.account\.[A-Za-z0-9._-]{1,128}$")
_SESSION_ID = re.compile(r"^amzn1\.echo-api\.session\.[A-Za-z0-9._-]{1,128}$")
_SLOT = re.compile(r"\{(\w+)\}")
_EXAMPLE_BUILTINS = (
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
    "AMAZON.HelpIntent",
    "AMAZON.StopIntent",
)

# Pages served by the console may only load what the console itself serves (no CDN, offline).
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class ConsoleError(Exception):
    """A console request that cannot be served; becomes a JSON error with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------


def example_utterances(model: InteractionModel) -> list[str]:
    """Clickable examples, all taken from the model: launch, one sample per intent, built-ins.

    Samples without slots come first; a custom-slot sample is filled with the type's first
    value so the example resolves. Built-in intents use the matcher's own phrases.
    """
    examples = [f"open {model.invocation_name}"]
    for intent in model.intents:
        plain = [s for s in intent.samples if not _SLOT.search(s)]
        if plain:
            examples.append(plain[0])
        for sample in intent.samples:
            filled = _fill_custom_slots(model, intent.name, sample)
            if filled is not None and filled != sample:
                examples.append(filled)
                break
    declared = set(model.intent_names)
    for name in _EXAMPLE_BUILTINS:
        if name in declared and BUILTIN_PHRASES.get(name):
            examples.append(BUILTIN_PHRASES[name][0])
    return list(dict.fromkeys(examples))


def _fill_custom_slots(model: InteractionModel, intent_name: str, sample: str) -> str | None:
    """``sample`` with each slot replaced by its custom type's first value; None if impossible."""
    intent = model.intent(intent_name)
    if intent is None:
        return None
    filled = sample
    for name in _SLOT.findall(sample):
        slot = intent.slot(name)
        slot_type = model.types.get(slot.type) if slot else None
        if slot_type is None or not slot_type.values:
            return None
        filled = filled.replace("{" + name + "}", slot_type.values[0].name, 1)
    return filled


def _speech_json(ssml: str | None, text: str | None) -> dict[str, str] | None:
    return None if ssml is None else {"ssml": ssml, "text": text or ""}


def turn_json(
    turn: Turn, match: Match, locale: str, user_id: str, session: SessionState | None
) -> dict[str, Any]:
    """Everything the page shows about one turn, plus the state it sends back next time."""
    return {
        "utterance": turn.utterance,
        "locale": locale,
        "intent": turn.intent,
        "slots": dict(turn.slots),
        "sample": match.sample,
        "score": match.score,
        "did_you_mean": [{"intent": i, "score": sc} for i, sc in turn.did_you_mean],
        "status": turn.status,
        "error": turn.error,
        "speech": _speech_json(turn.speech, turn.text),
        "reprompt": _speech_json(turn.reprompt, turn.reprompt_text),
        "card": turn.card,
        "session_attributes": turn.session_attributes,
        "ended": turn.ended,
        "request": turn.request,
        "response": turn.response,
        "session": {
            "user_id": user_id,
            "session_id": session.session_id if session is not None else None,
            "attributes": dict(session.attributes) if session is not None else {},
        },
    }


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


def _json_body() -> dict[str, Any]:
    # Requiring a JSON content type also keeps other web pages from posting plain forms here.
    if not request.is_json:
        raise ConsoleError(415, "unsupported_media_type", "send application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ConsoleError(400, "malformed_json", "the body must be a JSON object")
    return body


def _string(body: Mapping[str, Any], key: str, limit: int, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConsoleError(400, f"missing_{key}", f"'{key}' must be a non-empty string")
    if len(value) > limit:
        raise ConsoleError(400, f"{key}_too_long", f"'{key}' is limited to {limit} characters")
    return value


def _session_state(raw: object, *, open_session: bool) -> tuple[str, SessionState | None]:
    """The user id and open session the page sent back (or fresh ones)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConsoleError(400, "invalid_session", "'session' must be an object")
    user_id = raw.get("user_id")
    if user_id is None:
        # One anonymous user per browser: the page keeps this id and sends it back.
        user_id = f"amzn1.ask.account.CONSOLE-{uuid.uuid4()}"
    elif not isinstance(user_id, str) or not _USER_ID.match(user_id):
        raise ConsoleError(400, "invalid_session", "'session.user_id' is not an Alexa user id")
    session_id = raw.get("session_id")
    if session_id is None or not open_session:
        return user_id, None
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise ConsoleError(400, "invalid_session", "'session.session_id' is not a session id")
    attributes = raw.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ConsoleError(400, "invalid_session", "'session.attributes' must be an object")
    if len(json.dumps(attributes)) > MAX_ATTRIBUTES_BYTES:
        raise ConsoleError(400, "invalid_session", "'session.attributes' is too large")
    return user_id, SessionState(session_id, new=False, attributes=attributes)


# --------------------------------------------------------------------------------------------
# The blueprint
# --------------------------------------------------------------------------------------------


class _Models:
    """Interaction models and matchers per locale, loaded once (they never change at run time)."""

    def __init__(self, default_locale: str) -> None:
        self.default_locale = default_locale
        self.locales = tuple(available_locales()) or (default_locale,)
        self._matchers: dict[str, UtteranceMatcher] = {}
        self._lock = threading.Lock()

    def locale(self, raw: object) -> str:
        if raw is None or raw == "":
            return self.default_locale
        if not isinstance(raw, str) or raw not in self.locales:
            raise ConsoleError(400, "unknown_locale", f"locale must be one of {list(self.locales)}")
        return raw

    def matcher(self, locale: str) -> UtteranceMatcher:
        with self._lock:
            if locale not in self._matchers:
                try:
                    self._matchers[locale] = UtteranceMatcher(load_model(locale))
                except ModelError as exc:
                    raise ConsoleError(400, "unknown_locale", str(exc)) from None
            return self._matchers[locale]


def console_blueprint(
    config: Config,
    catalogs: Catalogs,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> Blueprint:
    """The console's routes. ``clock`` must be the skill's clock, so request timestamps pass."""
    models = _Models(config.default_locale)
    skill_id = config.skill_id or DEFAULT_SKILL_ID
    blueprint = Blueprint(
        "console",
        __name__,
        static_folder=str(STATIC_DIR),
        static_url_path="/console/static",
    )

    @blueprint.after_request
    def security_headers(response: Response) -> Response:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @blueprint.errorhandler(ConsoleError)
    def consoleerror_response(exc: ConsoleError) -> tuple[Response, int]:
        return error_response(exc.status, exc.code, exc.message)

    @blueprint.get("/console")
    def page() -> Response:
        return send_file(STATIC_DIR / "index.html", mimetype="text/html", max_age=0)

    @blueprint.get("/console/api/model")
    def model() -> Response:
        locale = models.locale(request.args.get("locale"))
        matcher = models.matcher(locale)
        return jsonify(
            {
                "locale": locale,
                "locales": list(models.locales),
                "invocation_name": matcher.model.invocation_name,
                "examples": example_utterances(matcher.model),
            }
        )

    @blueprint.post("/console/api/say")
    def say() -> tuple[Response, int]:
        body = _json_body()
        text = _string(body, "text", MAX_TEXT_CHARS)
        locale = models.locale(body.get("locale"))
        matcher = models.matcher(locale)
        match = matcher.match(text) or Match(FALLBACK_INTENT)
        # Naming the skill starts a new session, as on a device; otherwise continue the page's.
        user_id, session = _session_state(body.get("session"), open_session=not match.invoked)
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        conversation = Conversation(
            AppTransport(app),
            EnvelopeFactory(skill_id, user_id, locale, clock),
            matcher,
        )
        conversation.session = session
        turn = conversation.send(match, text)
        result = turn_json(turn, match, locale, user_id, conversation.session)
        if not turn.ok:
            # The console worked but the skill refused or failed: show why, never a bare 500.
            result["message"] = turn.error
            return jsonify({**result, "error": "skill_error"}), 502
        return jsonify(result), 200

    own_speaker: list[OfflineSpeaker] = []  # made on first use when the app shares none

    def _speaker() -> OfflineSpeaker:
        # Prefer the app's shared speaker: one cache, one set of counters for all audio routes.
        speaker_for = current_app.extensions.get("mama_moments", {}).get("speaker_for")
        shared = speaker_for() if callable(speaker_for) else None
        if isinstance(shared, OfflineSpeaker):
            return shared
        if not own_speaker:
            own_speaker.append(OfflineSpeaker(config.audio_cache_dir))
        return own_speaker[0]

    @blueprint.post("/console/api/audio")
    def audio() -> Response | tuple[Response, int]:
        body = _json_body()
        ssml = _string(body, "ssml", MAX_SSML_CHARS)
        locale = models.locale(body.get("locale"))
        try:
            # Pure: bad or empty SSML is the caller's fault, not the engine's.
            if not ssml_to_segments(ssml):
                return error_response(400, "invalid_ssml", "the SSML has nothing to say")
        except SpeechError as exc:
            return error_response(400, "invalid_ssml", str(exc))
        voice = catalogs.for_locale(locale).offline_voice
        try:
            wav = _speaker().render(ssml, voice)
        except SpeechError as exc:
            return error_response(503, "speech_unavailable", str(exc))
        return send_file(wav, mimetype="audio/wav", max_age=0)

    return blueprint


class ConsoleExtension:
    """Adds the console to a built app (Flask's ``init_app`` pattern).

    The app it runs, its config, content and clock are the app's own (``app.extensions``), so
    the console is given what it drives instead of building an app itself.
    """

    def init_app(self, app: Flask) -> None:
        state = app.extensions["mama_moments"]
        app.register_blueprint(
            console_blueprint(state["config"], state["catalogs"], clock=state["clock"])
        )


__all__ = ["ConsoleError", "ConsoleExtension", "console_blueprint", "example_utterances"]
