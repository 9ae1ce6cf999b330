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
from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from skill.builder import HANDLED_REQUEST_TYPES, build_skill
from skill.config import Config
from skill.envelope import envelope_problem
from skill.handlers.base import Deps
from skill.store import StaleWriteError, TinyDBPersistenceAdapter
from skill.verify import SignatureVerifier, VerificationError, tolerance_for, verify_timestamp
from speech.catalog import Catalogs, load_catalogs

logger = logging.getLogger(__name__)

#: A stale write means another request for the same user won the race; re-run on fresh state.
WRITE_ATTEMPTS = 3


class RequestRejected(Exception):
    """A request refused before it reaches the skill."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON body every refusal has."""
    return jsonify({"error": code, "message": message}), status


class AlexaEndpoint:
    """Checks a request, runs the skill and serializes its answer."""

    def __init__(
        self,
        skill: CustomSkill,
        config: Config,
        verifier: SignatureVerifier | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.skill = skill
        self.config = config
        self.verifier = verifier
        self.clock = clock
        self.serializer = DefaultSerializer()

    def __call__(self) -> tuple[Response, int]:
        try:
            payload, raw = self._checked_request()
            envelope = self._deserialize(raw)
            result = self._invoke(envelope, payload)
        except RequestRejected as rejected:
            return error_response(rejected.status, rejected.code, rejected.message)
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
                raise RequestRejected(400, "invalid_signature", str(exc)) from None
        try:
            raw = body.decode("utf-8")
            payload = json.loads(raw)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise RequestRejected(400, "malformed_json", "the body is not valid JSON") from None
        problem = envelope_problem(payload, HANDLED_REQUEST_TYPES)
        if problem is not None:
            raise RequestRejected(400, "invalid_request", problem)
        if self.config.verify_timestamps:
            request_type = payload["request"]["type"]
            try:
                verify_timestamp(
                    payload["request"]["timestamp"],
                    self.clock(),
                    tolerance_seconds=tolerance_for(request_type),
                )
            except VerificationError as exc:
                raise RequestRejected(400, "stale_request", str(exc)) from None
        app_id = payload["context"]["System"]["application"]["applicationId"]
        if self.config.skill_id is not None and app_id != self.config.skill_id:
            raise RequestRejected(400, "unknown_skill", "this request is for another skill")
        return payload, raw

    def _deserialize(self, raw: str) -> RequestEnvelope:
        try:
            envelope: RequestEnvelope = self.serializer.deserialize(raw, RequestEnvelope)
        except (AskSdkException, ValueError, TypeError, AttributeError, RecursionError):
            raise RequestRejected(400, "invalid_request", "the request could not be read") from None
        if envelope is None or envelope.request is None or envelope.context is None:
            raise RequestRejected(400, "invalid_request", "the request could not be read")
        return envelope

    def _invoke(self, envelope: RequestEnvelope, payload: dict[str, Any]) -> Any:
        for _ in range(WRITE_ATTEMPTS):
            try:
                response = self.skill.invoke(request_envelope=envelope, context=payload)
            except StaleWriteError:
                continue
            except AskSdkException:
                # The SDK's own checks (for example the skill id) fail before any handler runs.
                raise RequestRejected(400, "invalid_request", "the request was refused") from None
            return self.serializer.serialize(response)
        raise RequestRejected(503, "busy", "too many simultaneous changes; try again")


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
    deps = deps or Deps()
    catalogs = catalogs or load_catalogs(default_locale=config.default_locale)
    if adapter is None:
        store = TinyDBPersistenceAdapter(config.data_dir)
        store.ensure_ready()
        adapter = store
    if config.verify_signatures:
        verifier = verifier or SignatureVerifier()
    else:
        verifier = None
        logger.warning("Alexa signature verification is OFF: only use this for local testing")

    skill = build_skill(catalogs, adapter, skill_id=config.skill_id, deps=deps)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions["mama_moments"] = {"config": config, "catalogs": catalogs, "adapter": adapter}
    app.add_url_rule(
        "/alexa",
        "alexa",
        AlexaEndpoint(skill, config, verifier, deps.clock),
        methods=["POST"],
    )
    app.add_url_rule("/healthz", "healthz", lambda: jsonify({"status": "ok"}))
    _json_errors(app)
    return app
