"""The Flask application factory and the Alexa endpoint.

Order matters on ``POST /alexa``: size limit, then the signature over the raw bytes, then JSON and
shape checks, then the timestamp, and only then ask-sdk. Every failure before the skill runs is a
4xx with a JSON body ``{"error": code, "message": reason}``; nothing reaches the user as a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from flask import Flask, Response, jsonify, request

from skill.alexa.alexa_api import AlexaApi
from skill.alexa.builder import build_skill
from skill.alexa.handlers.base import Deps
from skill.config import Config
from skill.storage import adapter_from_config
from skill.web.errors import error_response, register_json_errors
from skill.web.runner import RequestRefused, SkillBusy, SkillRunner
from skill.web.speech_routes import speech_blueprint
from skill.web.verify import SignatureVerifier, VerificationError, tolerance_for, verify_timestamp
from speech.catalog import Catalogs, load_catalogs

if TYPE_CHECKING:
    from speech.offline import OfflineSpeaker

logger = logging.getLogger(__name__)


class Extension(Protocol):
    """A plug-in in the style of Flask's ``init_app``: it adds routes to a built app.

    It finds the app's collaborators in ``app.extensions["mama_moments"]`` (config, catalogs,
    adapter, clock, and ``speaker_for()``, the shared offline speaker made on first use), so the
    web layer never needs to know about it.
    """

    def init_app(self, app: Flask) -> None: ...


class AlexaEndpoint:
    """Checks a request, runs the skill and serializes its answer."""

    def __init__(
        self,
        runner: SkillRunner,
        config: Config,
        verifier: SignatureVerifier | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.runner = runner
        self.config = config
        self.verifier = verifier
        self.clock = clock

    def __call__(self) -> tuple[Response, int]:
        try:
            payload, raw = self._checked_request()
            result = self.runner.run(payload, raw)
        except RequestRefused as refused:
            return error_response(400, refused.code, str(refused))
        except SkillBusy as busy:
            return error_response(503, "busy", str(busy))
        return jsonify(result), 200

    def _checked_request(self) -> tuple[dict[str, Any], str]:
        body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
        if self.verifier is not None:
            try:
                self.verifier.verify(
                    request.headers.get("SignatureCertChainUrl"),
                    request.headers.get("Signature-256"),
                    body,
                )
            except VerificationError as exc:
                raise RequestRefused("invalid_signature", str(exc)) from None
        try:
            raw = body.decode("utf-8")
            data = json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise RequestRefused("malformed_json", "the body is not valid JSON") from None
        payload = self.runner.check(data)
        if self.config.verify_timestamps:
            try:
                verify_timestamp(
                    payload["request"]["timestamp"],
                    self.clock(),
                    tolerance_seconds=tolerance_for(payload["request"]["type"]),
                )
            except VerificationError as exc:
                raise RequestRefused("stale_request", str(exc)) from None
        return payload, raw


def create_app(
    config: Config | None = None,
    *,
    verifier: SignatureVerifier | None = None,
    adapter: AbstractPersistenceAdapter | None = None,
    catalogs: Catalogs | None = None,
    deps: Deps | None = None,
    extensions: Iterable[Extension] = (),
) -> Flask:
    """Build the service. Collaborators can be injected; by default they come from ``config``.

    ``extensions`` (development tools such as the web console) are initialised last.
    """
    config = config or Config.from_env()
    if deps is None:
        # Unsigned requests (local tools) name their own apiEndpoint: never call it.
        api = AlexaApi() if config.verify_signatures else AlexaApi(allowed_hosts=frozenset())
        deps = Deps(alexa_api=api)
    catalogs = catalogs or load_catalogs(default_locale=config.default_locale)
    if adapter is None:
        adapter = adapter_from_config(config)
    if config.verify_signatures:
        verifier = verifier or SignatureVerifier()
    else:
        verifier = None
        logger.warning("Alexa signature verification is OFF: only use this for local testing")

    skill = build_skill(catalogs, adapter, skill_id=config.skill_id, deps=deps)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    shared: dict[str, Any] = {
        "config": config,
        "catalogs": catalogs,
        "adapter": adapter,
        "clock": deps.clock,
    }

    def speaker_for() -> OfflineSpeaker:
        # Made (and imported) on first use: most workers never speak offline. Shared as "speaker".
        if "speaker" not in shared:
            from speech.offline import OfflineSpeaker

            shared.setdefault("speaker", OfflineSpeaker(config.audio_cache_dir))
        speaker: OfflineSpeaker = shared["speaker"]
        return speaker

    shared["speaker_for"] = speaker_for
    app.extensions["mama_moments"] = shared
    app.add_url_rule(
        "/alexa",
        "alexa",
        AlexaEndpoint(SkillRunner(skill, config.skill_id), config, verifier, deps.clock),
        methods=["POST"],
    )
    app.add_url_rule("/healthz", "healthz", lambda: jsonify({"status": "ok"}))
    app.register_blueprint(speech_blueprint(catalogs, speaker_for))
    register_json_errors(app)
    for extension in extensions:
        extension.init_app(app)
    return app
