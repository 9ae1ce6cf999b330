"""The Flask application factory and the Alexa endpoint.

Order matters on ``POST /alexa``: the body, read whole within a size limit and a deadline, then
the signature over the raw bytes, then JSON and shape checks, then the timestamp, and only then
ask-sdk. Every failure before the skill runs is a 4xx with a JSON body
``{"error": code, "message": reason}``; nothing reaches the user as a 500.

A store that cannot take writes at start-up (a read-only folder) does not stop the app: it boots
degraded, serving reads and apologising for writes, and ``/readyz`` says so until it recovers.
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
from skill.storage import StoreError, TinyDBPersistenceAdapter, adapter_from_config
from skill.web.body import BodyTimeout, BodyTooLarge, BodyUnreadable, read_body
from skill.web.errors import error_response, register_json_errors
from skill.web.health import StoreHealth, health_blueprint
from skill.web.runner import RequestRefused, RunObserver, SkillBusy, SkillRunner
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
            result = self.runner.run(self._checked_request())
        except BodyTooLarge as exc:
            return error_response(413, "request_entity_too_large", str(exc))
        except BodyTimeout as exc:
            return error_response(408, "request_timeout", str(exc))
        except BodyUnreadable as exc:
            return error_response(400, "unreadable_body", str(exc))
        except RequestRefused as refused:
            return error_response(400, refused.code, str(refused))
        except SkillBusy as busy:
            return error_response(503, "busy", str(busy))
        return jsonify(result), 200

    def _checked_request(self) -> dict[str, Any]:
        body = read_body(
            request.environ,
            max_bytes=self.config.max_body_bytes,
            timeout=self.config.body_timeout_seconds,
        )
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
        return payload


def open_store(config: Config) -> AbstractPersistenceAdapter:
    """The configured store; one that is not ready yet is opened all the same.

    Its readiness is asked again by ``/readyz`` (and what fails gets the spoken apology) until
    it recovers: a worker that boots while the disk is read-only serves reads, and one that
    boots while the DynamoDB table is unreachable apologises, instead of exiting, which would
    make gunicorn's master give up on the whole service.
    """
    try:
        return adapter_from_config(config)
    except StoreError as exc:
        logger.error("the store is not ready (%s): what it cannot do is apologised for", exc)
        if config.store == "dynamodb":
            # Imported here: boto3 is an optional extra, loaded only for this store.
            from skill.storage.dynamodb import dynamodb_adapter

            return dynamodb_adapter(config, create_table=False, check=False)
        return TinyDBPersistenceAdapter(config.data_dir, durability=config.durability)


def _metrics_observer(
    app: Flask, config: Config
) -> tuple[RunObserver | None, Callable[[str], None] | None]:
    if not config.metrics:
        return None, None
    # Imported only when asked for: prometheus is an optional extra.
    from skill.web.metrics import install_metrics

    metrics = install_metrics(app)
    return metrics, metrics.apologised


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
        adapter = open_store(config)
    if config.verify_signatures:
        verifier = verifier or SignatureVerifier()
    else:
        verifier = None
        logger.warning("Alexa signature verification is OFF: only use this for local testing")

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    observer, on_apology = _metrics_observer(app, config)
    skill = build_skill(
        catalogs, adapter, skill_id=config.skill_id, deps=deps, on_apology=on_apology
    )
    # The runner's last attempt, for a burst that loses every write race: the same handlers,
    # but a stale write gets the spoken apology instead of an HTTP error Alexa would voice.
    last_attempt = build_skill(
        catalogs,
        adapter,
        skill_id=config.skill_id,
        deps=deps,
        apologise_for_stale_writes=True,
        on_apology=on_apology,
    )
    runner = SkillRunner(skill, config.skill_id, last_attempt=last_attempt, observer=observer)
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
        AlexaEndpoint(runner, config, verifier, deps.clock),
        methods=["POST"],
    )
    app.register_blueprint(health_blueprint(StoreHealth.of(adapter)))
    app.register_blueprint(speech_blueprint(catalogs, speaker_for))
    register_json_errors(app)
    app.after_request(_no_sniffing)
    for extension in extensions:
        extension.init_app(app)
    return app


def _no_sniffing(response: Response) -> Response:
    # Every answer says what it is; a browser must not guess (a JSON error is never a page).
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
