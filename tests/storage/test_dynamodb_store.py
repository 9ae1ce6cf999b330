"""MAMA_STORE=dynamodb against local DynamoDB-compatible servers (dynalite, moto); never AWS."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.alexa.handlers.base import Deps
from skill.app import create_app
from skill.config import Config, ConfigError
from skill.storage import StoreError, TinyDBPersistenceAdapter, adapter_from_config
from skill.storage.dynamodb import DynamoDbStore, _from_dynamodb, _to_dynamodb, hashed_user_key
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.conftest import Clock, Skill
from tests.storage.dynamodb_servers import dynalite, fake_aws  # noqa: F401 (fake_aws is autouse)

boto3 = pytest.importorskip("boto3")

US = load_catalogs().for_locale("en-US")
USER_KEY = hashlib.sha256(E.USER_ID.encode()).hexdigest()


@pytest.fixture(scope="module")
def dynamodb_url() -> Iterator[str]:
    """dynalite, a real DynamoDB-compatible server in its own process, for this module.

    (The versioned-write contract also runs on moto: tests/storage/test_dynamodb_versions.py.)
    """
    with dynalite() as url:
        yield url


@pytest.fixture
def config(dynamodb_url: str, tmp_path: Path) -> Config:
    # A fresh table per test keeps tests independent on the shared server.
    return Config(
        store="dynamodb",
        dynamodb_endpoint_url=dynamodb_url,
        dynamodb_table=f"mama-test-{uuid.uuid4().hex[:12]}",
        verify_signatures=False,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def items(config: Config) -> Callable[[], list[dict[str, Any]]]:
    """Every item in the test's table, read straight from the server."""
    resource = boto3.resource(
        "dynamodb", endpoint_url=config.dynamodb_endpoint_url, region_name=config.aws_region
    )

    def scan() -> list[dict[str, Any]]:
        return list(resource.Table(config.dynamodb_table).scan(ConsistentRead=True)["Items"])

    return scan


@pytest.fixture
def dynamo_skill(config: Config, clock: Clock) -> Skill:
    app = create_app(
        config,
        adapter=adapter_from_config(config),
        deps=Deps(clock=clock, rng=random.Random(7)),
    )
    return Skill(app, app.test_client(), clock, config.data_dir)


def test_kid_time_flow_is_stored_under_the_hashed_user_id(
    dynamo_skill: Skill, items: Callable[[], list[dict[str, Any]]]
) -> None:
    skill = dynamo_skill
    first = skill.post(E.launch(now=skill.clock()))
    assert first.status == 200 and "elcome to Mama Moments" in first.text
    # DynamoDB returns numbers as Decimal: "returning" proves visits came back as an int.
    again = skill.post(E.launch(now=skill.clock()))
    assert "elcome to Mama Moments" not in again.text and not again.ended

    start = skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=skill.clock()))
    assert start.status == 200 and "20 minutes" in start.text and start.ended
    skill.clock.advance(minutes=18)
    done = skill.post(E.intent("EndKidTimeIntent", now=skill.clock()))
    assert done.text.startswith(US.text("kidtime.done", count=18))
    summary = skill.post(E.intent("KidTimeSummaryIntent", now=skill.clock()))
    assert US.text("summary.sessions", count=1) in summary.text
    assert US.text("summary.minutes", count=18) in summary.text

    [item] = items()
    assert item["id"] == USER_KEY
    assert E.USER_ID not in repr(item), "the raw Alexa user id must never be stored"
    attributes = item["attributes"]
    assert attributes["visits"] == 2
    assert "_revision" not in attributes
    assert attributes["kid_time"]["active"] is None
    assert [s["minutes"] for s in attributes["kid_time"]["sessions"]] == [18]


def test_strategies_rotate_with_dynamodb(
    dynamo_skill: Skill, items: Callable[[], list[dict[str, Any]]]
) -> None:
    skill = dynamo_skill
    first = skill.post(E.intent("GetStrategyIntent", now=skill.clock()))
    second = skill.post(
        E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=first.attributes)
    )
    assert first.card and second.card and first.card["title"] != second.card["title"]
    [item] = items()
    assert len(item["attributes"]["strategies_heard"]) == 2


def test_forget_me_then_yes_deletes_the_item(
    dynamo_skill: Skill, items: Callable[[], list[dict[str, Any]]]
) -> None:
    skill = dynamo_skill
    skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    other = skill.post(E.launch(now=skill.clock(), user_id="amzn1.ask.account.SOMEONEELSE"))
    assert other.status == 200 and len(items()) == 2
    ask = skill.post(E.intent("ForgetMeIntent", now=skill.clock()))
    no = skill.post(E.intent("AMAZON.NoIntent", now=skill.clock(), attributes=ask.attributes))
    assert no.text.startswith(US.text("forget.kept")) and len(items()) == 2
    ask = skill.post(E.intent("ForgetMeIntent", now=skill.clock()))
    yes = skill.post(E.intent("AMAZON.YesIntent", now=skill.clock(), attributes=ask.attributes))
    assert yes.text == US.text("forget.done") and yes.ended
    assert [item["id"] for item in items()] == [
        hashlib.sha256(b"amzn1.ask.account.SOMEONEELSE").hexdigest()
    ]


@pytest.mark.parametrize(("status", "deleted"), [("NOT_PERSISTED", True), ("PERSISTED", False)])
def test_skill_disabled_deletes_unless_persisted(
    dynamo_skill: Skill,
    items: Callable[[], list[dict[str, Any]]],
    status: str,
    deleted: bool,
) -> None:
    skill = dynamo_skill
    skill.post(E.intent("StartKidTimeIntent", now=skill.clock()))
    reply = skill.post(E.skill_disabled(status, now=skill.clock()))
    assert reply.status == 200
    assert (items() == []) is deleted


def test_skill_disabled_for_unknown_user_is_fine(dynamo_skill: Skill) -> None:
    skill = dynamo_skill
    for _ in range(2):  # idempotent
        reply = skill.post(E.skill_disabled("NOT_PERSISTED", now=skill.clock(), user_id="x"))
        assert reply.status == 200


# adapter_from_config and the adapter itself


def test_adapter_from_config_tinydb(tmp_path: Path) -> None:
    adapter = adapter_from_config(Config(data_dir=tmp_path / "store"))
    assert isinstance(adapter, TinyDBPersistenceAdapter)
    assert (tmp_path / "store" / "STORE.json").is_file(), "ensure_ready() ran"


def test_adapter_from_config_tinydb_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError):
        adapter_from_config(Config(data_dir=blocker))


def test_adapter_from_config_dynamodb_creates_the_table(
    config: Config, items: Callable[[], list[dict[str, Any]]]
) -> None:
    adapter = adapter_from_config(config)
    assert isinstance(adapter, DynamoDbStore)
    resource = boto3.resource(
        "dynamodb", endpoint_url=config.dynamodb_endpoint_url, region_name=config.aws_region
    )
    table = resource.Table(config.dynamodb_table)
    assert table.key_schema == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert items() == []
    # A second start (another container) finds the table and is fine with it.
    assert isinstance(adapter_from_config(config), DynamoDbStore)


def _request_for(user_id: str) -> Any:
    raw = json.dumps(E.launch(now=Clock()(), user_id=user_id))
    return DefaultSerializer().deserialize(raw, RequestEnvelope)


def test_dynamodb_adapter_round_trips_plain_json_types(config: Config) -> None:
    adapter = adapter_from_config(config)
    request = _request_for("amzn1.ask.account.ROUNDTRIP")
    assert adapter.get_attributes(request_envelope=request) == {"_revision": 0}
    attributes = {
        "visits": 3,
        "ratio": 0.25,
        "flag": True,
        "nothing": None,
        "nested": {"list": [1, 2.5, "x"], "empty": {}},
        "_scratch": 7,  # reserved for the store: never saved
    }
    adapter.save_attributes(request_envelope=request, attributes=attributes)
    loaded = adapter.get_attributes(request_envelope=request)
    assert loaded == {
        "_revision": 1,
        "visits": 3,
        "ratio": 0.25,
        "flag": True,
        "nothing": None,
        "nested": {"list": [1, 2.5, "x"], "empty": {}},
    }
    assert type(loaded["visits"]) is int and type(loaded["ratio"]) is float
    adapter.delete_attributes(request_envelope=request)
    adapter.delete_attributes(request_envelope=request)  # idempotent
    assert adapter.get_attributes(request_envelope=request) == {"_revision": 0}


def test_non_finite_floats_are_refused() -> None:
    with pytest.raises(StoreError):
        _to_dynamodb({"x": [float("nan")]})


def test_type_conversion_helpers() -> None:
    assert _to_dynamodb({"a": 0.1, "b": (1, 2)}) == {"a": Decimal("0.1"), "b": [1, 2]}
    assert _from_dynamodb({"a": Decimal("2"), "b": Decimal("0.5"), "c": {"x"}}) == {
        "a": 2,
        "b": 0.5,
        "c": ["x"],
    }


def test_partition_key_is_the_sha256_of_the_user_id() -> None:
    assert hashed_user_key(_request_for(E.USER_ID)) == USER_KEY


def test_partition_key_needs_a_user_id() -> None:
    class NoUser:
        context = None

    with pytest.raises(PersistenceException):
        hashed_user_key(NoUser())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"store": "redis"}, "store must be one of tinydb, dynamodb"),
        ({"store": "dynamodb", "dynamodb_table": " "}, "MAMA_DYNAMODB_TABLE"),
        ({"store": "dynamodb", "aws_region": ""}, "AWS_REGION"),
        ({"store": "dynamodb", "dynamodb_endpoint_url": "localhost:8000"}, "http(s) URL"),
        ({"store": "dynamodb", "dynamodb_endpoint_url": "ftp://x"}, "http(s) URL"),
    ],
)
def test_adapter_from_config_refuses_bad_settings(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        adapter_from_config(Config(**changes))


def test_config_from_env_reads_the_store_settings() -> None:
    config = Config.from_env(
        {
            "MAMA_STORE": " DynamoDB ",
            "MAMA_DYNAMODB_TABLE": "moments-prod",
            "MAMA_DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:8000",
            "AWS_REGION": "eu-west-1",
        }
    )
    assert config.store == "dynamodb"
    assert config.dynamodb_table == "moments-prod"
    assert config.dynamodb_endpoint_url == "http://127.0.0.1:8000"
    assert config.aws_region == "eu-west-1"


def test_config_from_env_store_defaults() -> None:
    config = Config.from_env({})
    assert (config.store, config.dynamodb_table) == ("tinydb", "mama-moments")
    assert (config.dynamodb_endpoint_url, config.aws_region) == (None, "us-east-1")


def test_config_from_env_refuses_an_unknown_store() -> None:
    with pytest.raises(
        ConfigError, match=r"MAMA_STORE must be one of tinydb, dynamodb; got 'mongo'"
    ):
        Config.from_env({"MAMA_STORE": "mongo"})


def test_lambda_handler_with_dynamodb(
    monkeypatch: pytest.MonkeyPatch, config: Config, items: Callable[[], list[dict[str, Any]]]
) -> None:
    """The documented Lambda set-up: MAMA_STORE=dynamodb, settings from the environment."""
    from skill import lambda_handler

    monkeypatch.setenv("MAMA_STORE", "dynamodb")
    monkeypatch.setenv("MAMA_DYNAMODB_TABLE", config.dynamodb_table)
    monkeypatch.setenv("MAMA_DYNAMODB_ENDPOINT_URL", str(config.dynamodb_endpoint_url))
    monkeypatch.setenv("MAMA_SKILL_ID", E.SKILL_ID)
    lambda_handler.lambda_runner.cache_clear()
    try:
        now = datetime.now(UTC)
        for _ in range(2):
            lambda_handler.handler(E.launch(now=now), None)
        [item] = items()
        assert item["id"] == USER_KEY and item["attributes"]["visits"] == 2
        lambda_handler.handler(E.skill_disabled("NOT_PERSISTED", now=now), None)
        assert items() == []
    finally:
        lambda_handler.lambda_runner.cache_clear()


def test_works_without_a_region_in_the_environment(config: Config) -> None:
    """ask-sdk-dynamodb builds a boto3 resource at import time, which needs a region."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    code = (
        "import sys\n"
        "from skill.config import Config\n"
        "from skill.storage import adapter_from_config\n"
        "adapter_from_config(Config(store='dynamodb', dynamodb_endpoint_url=sys.argv[1],"
        " dynamodb_table=sys.argv[2]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(config.dynamodb_endpoint_url), config.dynamodb_table],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
