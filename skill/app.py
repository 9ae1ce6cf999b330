"""The Flask application factory and the Alexa endpoint.

Order matters on ``POST /alexa``: size limit, then the signature over the raw bytes, then JSON and
shape checks, then the timestamp, and only then ask-sdk. Every failure before the skill runs is a
4xx with a JSON body ``{"error": code, "message": reason}``; nothing reaches the user as a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from skill.alexa_api import AlexaApi
from skill.builder import build_skill
from skill.config import Config
from skill.console import console_blueprint
from skill.handlers.base import Deps
from skill.persistence import adapter_from_config
from skill.runner import RequestRefused, SkillBusy, SkillRunner
from skill.speech_routes import speech_blueprint
from skill.verify import SignatureVerifier, VerificationError, tolerance_for, verify_timestamp
from speech.catalog import Catalogs, load_catalogs
from speech.offline import OfflineSpeaker

logger = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON body every refusal has."""
    return jsonify({"error": code, "message": message}), status


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


def _json_errors(app: Flask) -> None:
    """Every HTTP error the app can raise answers in JSON, never an HTML page or a trace."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        logger.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return error_response(500, "internal_error", "something went wrong; it was logged")


def create_app(
    config: Config | None = None,
    *,
    verifier: SignatureVerifier | None = None,
    adapter: AbstractPersistenceAdapter | None = None,
    catalogs: Catalogs | None = None,
    deps: Deps | None = None,
) -> Flask:
    """Build the service. Collaborators can be injected; by default they come from ``config``."""
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
    # Nothing is rendered here: audio is made on first request, so start-up stays fast.
    speaker = OfflineSpeaker(config.audio_cache_dir)
    app.extensions["mama_moments"] = {
        "config": config,
        "catalogs": catalogs,
        "adapter": adapter,
        "speaker": speaker,
    }
    app.add_url_rule(
        "/alexa",
        "alexa",
        AlexaEndpoint(SkillRunner(skill, config.skill_id), config, verifier, deps.clock),
        methods=["POST"],
    )
    app.add_url_rule("/healthz", "healthz", lambda: jsonify({"status": "ok"}))
    if config.dev_console:
        app.register_blueprint(console_blueprint(config, catalogs, clock=deps.clock))
    app.register_blueprint(speech_blueprint(catalogs, speaker))
    _json_errors(app)
    return app
