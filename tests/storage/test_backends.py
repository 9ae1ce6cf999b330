"""What every back end promises through ask-sdk's interface, run against TinyDB and DynamoDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import Context, RequestEnvelope, User
from ask_sdk_model.application import Application
from ask_sdk_model.interfaces.system import SystemState

from skill.config import Config
from skill.domain.user import UserRecord
from skill.storage import adapter_from_config
from tests.domain.test_user_record import DOCUMENTED
from tests.storage.test_dynamodb_store import config, dynamodb_url, fake_aws  # noqa: F401

USER = "amzn1.ask.account.BACKEND-CONTRACT"


def envelope(user_id: str = USER) -> RequestEnvelope:
    system = SystemState(application=Application(application_id="x"), user=User(user_id=user_id))
    return RequestEnvelope(context=Context(system=system))


def mine(attributes: dict[str, Any]) -> dict[str, Any]:
    """Without the store's own keys (the TinyDB revision)."""
    return {k: v for k, v in attributes.items() if not k.startswith("_")}


@pytest.fixture(params=["tinydb", "dynamodb"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AbstractPersistenceAdapter:
    if request.param == "tinydb":
        return adapter_from_config(Config(data_dir=tmp_path / "data"))
    dynamo: Config = request.getfixturevalue("config")
    return adapter_from_config(dynamo)


def test_a_new_user_has_no_attributes(backend: AbstractPersistenceAdapter) -> None:
    assert mine(backend.get_attributes(request_envelope=envelope())) == {}


def test_the_documented_record_round_trips_with_its_types(
    backend: AbstractPersistenceAdapter,
) -> None:
    attributes = {**backend.get_attributes(request_envelope=envelope()), **DOCUMENTED}
    backend.save_attributes(request_envelope=envelope(), attributes=attributes)
    loaded = backend.get_attributes(request_envelope=envelope())
    assert mine(loaded) == DOCUMENTED
    assert type(loaded["visits"]) is int
    assert UserRecord.from_attributes(loaded) == UserRecord.from_attributes(DOCUMENTED)


def test_store_keys_are_never_saved_and_a_second_save_works(
    backend: AbstractPersistenceAdapter,
) -> None:
    attributes = backend.get_attributes(request_envelope=envelope())
    attributes.update(visits=1, _scratch="not stored")
    backend.save_attributes(request_envelope=envelope(), attributes=attributes)
    attributes["visits"] = 2
    backend.save_attributes(request_envelope=envelope(), attributes=attributes)
    assert mine(backend.get_attributes(request_envelope=envelope())) == {"visits": 2}


def test_delete_is_idempotent_and_touches_only_that_user(
    backend: AbstractPersistenceAdapter,
) -> None:
    for user in (USER, "someone-else"):
        attributes = backend.get_attributes(request_envelope=envelope(user))
        backend.save_attributes(request_envelope=envelope(user), attributes={**attributes, "v": 1})
    backend.delete_attributes(request_envelope=envelope())
    backend.delete_attributes(request_envelope=envelope())
    assert mine(backend.get_attributes(request_envelope=envelope())) == {}
    assert mine(backend.get_attributes(request_envelope=envelope("someone-else"))) == {"v": 1}
