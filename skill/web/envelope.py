"""Pure checks of an Alexa request envelope's shape, before ask-sdk deserializes it.

ask-sdk's deserializer trusts its input; a missing ``context`` or a list where an object belongs
would otherwise surface as a server error. Each check returns a short public reason or ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Envelope fields that must be present, with the type each must have.
_REQUIRED: Sequence[tuple[tuple[str, ...], type | tuple[type, ...]]] = (
    (("version",), str),
    (("request",), dict),
    (("request", "type"), str),
    (("request", "requestId"), str),
    (("request", "timestamp"), str),
    (("context",), dict),
    (("context", "System"), dict),
    (("context", "System", "application"), dict),
    (("context", "System", "application", "applicationId"), str),
    (("context", "System", "user"), dict),
    (("context", "System", "user", "userId"), str),
)
#: Optional fields: when present, they must have this type.
_OPTIONAL: Sequence[tuple[tuple[str, ...], type | tuple[type, ...]]] = (
    (("request", "locale"), str),
    (("session",), dict),
    (("session", "new"), bool),
    (("session", "sessionId"), str),
    (("session", "attributes"), dict),
    (("session", "user"), dict),
    (("session", "application"), dict),
    (("context", "System", "device"), dict),
    (("context", "System", "apiEndpoint"), str),
    (("context", "System", "apiAccessToken"), str),
    (("request", "intent", "slots"), dict),
    (("request", "body"), dict),
    # Connections.Response (the answer to a voice permission request).
    (("request", "name"), str),
    (("request", "payload"), dict),
    (("request", "status"), dict),
    (("request", "token"), str),
)
_MISSING = object()


def _get(data: Mapping[str, Any], path: tuple[str, ...]) -> object:
    node: object = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {dict: "object", str: "string", bool: "boolean", list: "array"}
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def envelope_problem(payload: object, request_types: frozenset[str]) -> str | None:
    """Why this payload is not a request the skill can take, or ``None`` if it is."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object"
    for path, expected in _REQUIRED:
        value = _get(payload, path)
        if value is _MISSING:
            return f"missing field {'.'.join(path)}"
        if not isinstance(value, expected):
            return f"field {'.'.join(path)} must be a {_type_name(expected)}"
    for path, expected in _OPTIONAL:
        value = _get(payload, path)
        if value is not _MISSING and value is not None and not isinstance(value, expected):
            return f"field {'.'.join(path)} must be a {_type_name(expected)}"
    request_type = payload["request"]["type"]
    if request_type not in request_types:
        return f"unsupported request type {request_type[:60]!r}"
    if request_type in ("IntentRequest", "CanFulfillIntentRequest"):
        return _intent_problem(payload["request"].get("intent"))
    return None


def _intent_problem(intent: object) -> str | None:
    if not isinstance(intent, dict) or not isinstance(intent.get("name"), str):
        return "an IntentRequest needs request.intent.name"
    for name, slot in (intent.get("slots") or {}).items():
        if not isinstance(slot, dict):
            return f"slot {str(name)[:40]!r} must be an object"
        value = slot.get("value")
        if value is not None and not isinstance(value, str):
            return f"slot {str(name)[:40]!r} value must be a string"
        if "resolutions" in slot and not isinstance(slot["resolutions"], dict | None):
            return f"slot {str(name)[:40]!r} resolutions must be an object"
    return None
