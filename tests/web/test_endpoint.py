"""Bad input at POST /alexa: always a clear 4xx JSON error, never a 500 or lost data."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.storage import TinyDBPersistenceAdapter
from tests import envelopes as E
from tests.alexa_pki import test_pki
from tests.conftest import Skill


def signed_post(skill: Skill, body: bytes, **kw: Any) -> Any:
    return skill.post_raw(body, test_pki().sign(body), content_type="application/json", **kw)


def test_healthz(skill: Skill) -> None:
    reply = skill.client.get("/healthz")
    assert reply.status_code == 200 and reply.get_json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "malformed_json"),
        (b"{not json", "malformed_json"),
        (b'{"version": "1.0"', "malformed_json"),
        (b"\xff\xfe\x00garbage", "malformed_json"),
        (b"[" * 5000 + b"]" * 5000, "malformed_json"),
        (b"null", "invalid_request"),
        (b"[]", "invalid_request"),
        (b'"just a string"', "invalid_request"),
        (b"{}", "invalid_request"),
    ],
)
def test_unreadable_bodies_are_400(skill: Skill, body: bytes, code: str) -> None:
    reply = signed_post(skill, body)
    assert reply.status == 400
    assert reply.body["error"] == code and reply.body["message"]


def _without(envelope: dict[str, Any], *path: str) -> dict[str, Any]:
    node = envelope
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return envelope


def _with(envelope: dict[str, Any], value: object, *path: str) -> dict[str, Any]:
    node = envelope
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return envelope


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: _without(e, "context"),
        lambda e: _without(e, "request"),
        lambda e: _without(e, "request", "type"),
        lambda e: _without(e, "context", "System", "user", "userId"),
        lambda e: _with(e, 42, "request", "timestamp"),
        lambda e: _with(e, [], "context"),
        lambda e: _with(e, "yes", "session", "new"),
        lambda e: _with(e, ["not", "a", "dict"], "session", "attributes"),
        lambda e: _with(e, None, "request", "intent"),
        lambda e: _with(e, [], "request", "intent", "slots"),
        lambda e: _with(e, {"duration": "PT5M"}, "request", "intent", "slots"),
        lambda e: _with(
            e, {"duration": {"name": "duration", "value": 20}}, "request", "intent", "slots"
        ),
        lambda e: _with(e, "Alexa.Presentation.APL.UserEvent", "request", "type"),
        lambda e: _with(e, "yesterday-ish", "request", "timestamp"),
        lambda e: _with(e, "2026-11-25T09:00:00", "request", "timestamp"),
    ],
)
def test_malformed_envelopes_are_400(skill: Skill, mutate: Any) -> None:
    envelope = mutate(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock()))
    reply = signed_post(skill, json.dumps(envelope).encode())
    assert reply.status == 400, reply.body
    assert reply.body["error"] in {"invalid_request", "stale_request"}
    assert not (skill.data_dir / "users").exists() or not any(
        (skill.data_dir / "users").rglob("*.json")
    ), "a refused request must not write anything"


def test_missing_signature_is_400(skill: Skill) -> None:
    body = json.dumps(E.launch(now=skill.clock())).encode()
    reply = skill.post_raw(body, content_type="application/json")
    assert reply.status == 400 and reply.body["error"] == "invalid_signature"


def test_forged_signature_is_400(skill: Skill) -> None:
    body = json.dumps(E.launch(now=skill.clock())).encode()
    headers = test_pki().sign(body)
    tampered = body.replace(b"LaunchRequest", b"LaunchRequesT")
    reply = skill.post_raw(tampered, headers, content_type="application/json")
    assert reply.status == 400 and reply.body["error"] == "invalid_signature"

    garbage = {**headers, "Signature-256": base64.b64encode(b"x" * 256).decode()}
    assert skill.post_raw(body, garbage).status == 400
    not_base64 = {**headers, "Signature-256": "%%%not base64%%%"}
    assert skill.post_raw(body, not_base64).status == 400


@pytest.mark.parametrize(
    "url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "https://evil.example.com/echo.api/echo-api-cert-test.pem",
        "https://user@s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/other/echo-api-cert-test.pem",
        "not a url",
    ],
)
def test_bad_certificate_urls_are_400(skill: Skill, url: str) -> None:
    body = json.dumps(E.launch(now=skill.clock())).encode()
    headers = {**test_pki().sign(body), "SignatureCertChainUrl": url}
    reply = skill.post_raw(body, headers, content_type="application/json")
    assert reply.status == 400 and reply.body["error"] == "invalid_signature"


@pytest.mark.parametrize("seconds", [-151, 151, 3600])
def test_stale_or_future_timestamps_are_400(skill: Skill, seconds: int) -> None:
    envelope = E.launch(now=skill.clock())
    skill.clock.advance(seconds=seconds)
    reply = skill.post(envelope)
    assert reply.status == 400 and reply.body["error"] == "stale_request"


def test_skill_events_get_an_hour_of_tolerance(skill: Skill) -> None:
    envelope = E.skill_disabled("NOT_PERSISTED", now=skill.clock())
    skill.clock.advance(minutes=59)
    assert skill.post(envelope).status == 200
    skill.clock.advance(minutes=2)
    assert skill.post(envelope).status == 400


def test_huge_body_is_413(skill: Skill) -> None:
    envelope = E.launch(now=skill.clock())
    envelope["session"]["attributes"] = {"padding": "x" * 2_000_000}
    reply = signed_post(skill, json.dumps(envelope).encode())
    assert reply.status == 413 and reply.body["error"]


def test_wrong_method_and_path_are_json(skill: Skill) -> None:
    get = skill.client.get("/alexa")
    assert get.status_code == 405 and get.get_json()["error"]
    missing = skill.client.post("/nope")
    assert missing.status_code == 404 and missing.get_json()["error"]


def test_other_skill_id_is_refused(make_skill: Any) -> None:
    skill = make_skill(skill_id="amzn1.ask.skill.someone-else")
    reply = skill.post(E.launch(now=skill.clock()))
    assert reply.status == 400 and reply.body["error"] == "unknown_skill"


def test_own_skill_id_is_accepted(make_skill: Any) -> None:
    skill = make_skill(skill_id=E.SKILL_ID)
    assert skill.post(E.launch(now=skill.clock())).status == 200


def test_unverified_mode_accepts_unsigned_requests(make_skill: Any) -> None:
    skill = make_skill(signed=False)
    body = json.dumps(E.launch(now=skill.clock())).encode()
    assert skill.post_raw(body, content_type="application/json").status == 200


def test_bad_requests_never_touch_stored_data(skill: Skill) -> None:
    skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    store = TinyDBPersistenceAdapter(skill.data_dir)
    before = store.load(E.USER_ID)
    for body in (b"{", b"null", json.dumps({"request": {"type": "IntentRequest"}}).encode()):
        assert signed_post(skill, body).status == 400
    assert store.load(E.USER_ID) == before


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)


def _graft(envelope: dict[str, Any], path: list[str], value: object) -> dict[str, Any]:
    node: Any = envelope
    for key in path[:-1]:
        if not isinstance(node, dict):
            return envelope
        node = node.setdefault(key, {})
    if isinstance(node, dict):
        node[path[-1]] = value
    return envelope


PATHS = st.sampled_from(
    [
        ["request", "intent", "slots"],
        ["request", "intent", "slots", "duration"],
        ["request", "intent", "slots", "topic", "resolutions"],
        ["request", "intent", "name"],
        ["request", "locale"],
        ["request", "type"],
        ["session", "attributes"],
        ["session", "attributes", "offer"],
        ["session", "attributes", "last"],
        ["context", "System", "device"],
        ["request", "body"],
        ["version"],
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=JSON,
    path=PATHS,
    name=st.sampled_from(
        ["StartKidTimeIntent", "GetStrategyIntent", "AMAZON.YesIntent", "AMAZON.RepeatIntent"]
    ),
)
def test_fuzzed_envelopes_never_500(
    make_skill: Any, value: object, path: list[str], name: str
) -> None:
    skill = make_skill(signed=False)
    envelope = _graft(E.intent(name, now=skill.clock()), path, value)
    reply = skill.post(envelope)
    assert reply.status in {200, 400}, (reply.status, reply.body)
    if reply.status == 200:
        assert "response" in reply.body


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode()))
def test_fuzzed_bodies_never_500(make_skill: Any, body: bytes) -> None:
    skill = make_skill(signed=False)
    reply = skill.post_raw(body, content_type="application/json")
    assert reply.status in {400, 413}, (reply.status, reply.body)
