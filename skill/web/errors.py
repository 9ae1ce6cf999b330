"""The one JSON shape of every refusal and error the web app answers with."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON body every refusal has: ``{"error": code, "message": reason}``."""
    return jsonify({"error": code, "message": message}), status


def register_json_errors(app: Flask) -> None:
    """Every HTTP error the app can raise answers in JSON, never an HTML page or a trace."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or code)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        logger.error("unexpected %s", type(exc).__name__, exc_info=exc)
        return error_response(500, "internal_error", "something went wrong; it was logged")
