"""The benchmarks' anchor: a hello-world ask-sdk-core skill in an equally small Flask app.

One handler answering "hello" to anything, no persistence, no checks: JSON -> ask-sdk's
``DefaultSerializer.deserialize`` -> ``skill.invoke`` -> serialize. Served the same ways as ours
(``create_app()`` in a process, Flask's test client, gunicorn ``'bench.hello_world:create_app()'``).
"""

from __future__ import annotations

import json
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, request


class Hello(AbstractRequestHandler):
    def can_handle(self, handler_input: Any) -> bool:
        return True

    def handle(self, handler_input: Any) -> Any:
        return handler_input.response_builder.speak("hello").response


def create_app() -> Flask:
    """The hello-world app."""
    builder = SkillBuilder()
    builder.add_request_handler(Hello())
    skill = builder.create()
    serializer = DefaultSerializer()
    app = Flask("hello")

    @app.post("/alexa")
    def alexa() -> Response:
        envelope = serializer.deserialize(request.get_data(as_text=True), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        return Response(json.dumps(serializer.serialize(response)), mimetype="application/json")

    return app
