"""The DynamoDB store's versioned writes: no lost write, on dynalite and on moto.

Both servers run every test here: dynalite is the real server the load test uses, moto a
second, independent implementation of ``ConditionExpression``; a store relying on one
server's quirks would fail on the other.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from skill.alexa.handlers.base import Deps
from skill.app import create_app
from skill.config import Config
from skill.storage import StaleWriteError, StoreError, adapter_from_config
from skill.storage.dynamodb import DynamoDbStore
from skill.storage.keys import user_hash
from skill.storage.records import FRESH_START_KEY
from speech.catalog import load_catalogs
from tests import envelopes as E
from tests.conftest import Clock, Skill
from tests.servers import free_port
from tests.storage.dynamodb_servers import SERVERS, fake_aws  # noqa: F401 (fake_aws is autouse)

boto3 = pytest.importorskip("boto3")

US = load_catalogs().for_locale("en-US")
USER = "amzn1.ask.account.VERSIONS"


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with SERVERS[request.param]() as url:
        yield url


@pytest.fixture
def config(server_url: str, tmp_path: Path) -> Config:
    return Config(
        store="dynamodb",
        dynamodb_endpoint_url=server_url,
        dynamodb_table=f"mama-versions-{uuid.uuid4().hex[:12]}",
        verify_signatures=False,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def store(config: Config) -> DynamoDbStore:
    adapter = adapter_from_config(config)
    assert isinstance(adapter, DynamoDbStore)
    return adapter


def raw_item(store: DynamoDbStore, user_id: str = USER) -> dict[str, Any] | None:
    """The item as DynamoDB holds it, read past the store."""
    answer = store.client.get_item(
        TableName=store.table_name, Key={"id": {"S": user_hash(user_id)}}, ConsistentRead=True
    )
    item: dict[str, Any] | None = answer.get("Item")
    return item


def test_each_save_bumps_the_revision_stored_beside_the_attributes(store: DynamoDbStore) -> None:
    attributes = store.load(USER)
    assert attributes == {"_revision": 0}
    attributes["visits"] = 1
    store.save(USER, attributes)
    assert attributes["_revision"] == 1, "a second save in the same request must work"
    attributes["visits"] = 2
    store.save(USER, attributes)
    item = raw_item(store)
    assert item is not None
    assert item["revision"] == {"N": "2"} and item["schema_version"] == {"N": "1"}
    assert item["attributes"]["M"]["visits"] == {"N": "2"}
    assert "_revision" not in item["attributes"]["M"]
    assert store.load(USER) == {"visits": 2, "_revision": 2}


def test_a_save_based_on_an_old_revision_writes_nothing(store: DynamoDbStore) -> None:
    first = store.load(USER)
    second = store.load(USER)
    first["visits"] = 1
    store.save(USER, first)
    second["visits"] = 99
    with pytest.raises(StaleWriteError):
        store.save(USER, second)
    assert store.load(USER) == {"visits": 1, "_revision": 1}
    assert second["_revision"] == 0, "a refused save leaves the caller's revision alone"


def test_two_first_saves_for_a_new_user_cannot_both_win(store: DynamoDbStore) -> None:
    store.save(USER, {"visits": 1})  # no "_revision": "I expect a new user"
    with pytest.raises(StaleWriteError):
        store.save(USER, {"visits": 5})
    assert store.load(USER)["visits"] == 1


def test_a_save_after_forget_me_is_stale_and_a_fresh_start_works(store: DynamoDbStore) -> None:
    store.save(USER, {"visits": 3})
    before_forget = store.load(USER)
    store.delete(USER)
    assert raw_item(store) is None
    before_forget["visits"] = 4
    with pytest.raises(StaleWriteError):
        store.save(USER, before_forget)
    assert raw_item(store) is None, "the forgotten user must not come back"
    fresh = store.load(USER)
    assert fresh == {"_revision": 0}
    store.save(USER, {**fresh, "visits": 1})
    assert store.load(USER)["visits"] == 1


def test_an_item_written_by_the_plain_ask_sdk_adapter_is_read_and_versioned(
    store: DynamoDbStore,
) -> None:
    """Tables filled by the last-writer-wins version (no revision, no schema) still work."""
    table = store.inner.dynamodb.Table(store.table_name)
    table.put_item(Item={"id": user_hash(USER), "attributes": {"visits": 7}})
    one, two = store.load(USER), store.load(USER)
    assert one == {"visits": 7, "_revision": 0}
    store.save(USER, {**one, "visits": 8})
    with pytest.raises(StaleWriteError):
        store.save(USER, {**two, "visits": 100})
    assert store.load(USER) == {"visits": 8, "_revision": 1}


def test_attributes_that_would_not_load_back_are_refused(store: DynamoDbStore) -> None:
    with pytest.raises(StoreError, match="would not load back") as refused:
        store.save(USER, {"kid_time": "oops"})
    assert USER not in str(refused.value)
    assert raw_item(store) is None


def test_racing_threads_lose_no_increment(store: DynamoDbStore) -> None:
    """Read-modify-write with retry on stale, as the runner does: every increment lands."""
    threads, each = 4, 15
    stale = 0
    lock = threading.Lock()

    def increment(_: int) -> None:
        nonlocal stale
        for _ in range(each):
            while True:
                attributes = store.load(USER)
                attributes["visits"] = attributes.get("visits", 0) + 1
                try:
                    store.save(USER, attributes)
                    break
                except StaleWriteError:
                    with lock:
                        stale += 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(increment, range(threads)))
    assert store.load(USER)["visits"] == threads * each


class InterleavingStore:
    """Lets another request's save land between this request's load and save, ``times`` times:
    a deterministic overlap of two requests for one user."""

    def __init__(self, store: DynamoDbStore, times: int) -> None:
        self.store = store
        self.times = times

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return self.store.get_attributes(request_envelope=request_envelope)

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        if self.times > 0:
            self.times -= 1
            other = self.store.load(E.USER_ID)
            other["given_name"] = "Ana"  # what the other request changed
            self.store.save(E.USER_ID, other)
        self.store.save_attributes(request_envelope=request_envelope, attributes=attributes)

    def delete_attributes(self, request_envelope: Any) -> None:
        self.store.delete_attributes(request_envelope=request_envelope)


def _skill(adapter: Any, config: Config, clock: Clock) -> Skill:
    app = create_app(config, adapter=adapter, deps=Deps(clock=clock, rng=random.Random(7)))
    return Skill(app, app.test_client(), clock, config.data_dir)


def test_an_overlapping_request_is_re_run_on_fresh_state(
    store: DynamoDbStore, config: Config, clock: Clock
) -> None:
    skill = _skill(InterleavingStore(store, times=2), config, clock)
    reply = skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=clock()))
    assert reply.status == 200 and "20 minutes" in reply.text
    stored = store.load(E.USER_ID)
    assert stored["given_name"] == "Ana", "the other request's write survived"
    assert stored["kid_time"]["active"]["planned_minutes"] == 20, "and so did this one"
    assert stored["_revision"] == 3  # two overlapping writes, then ours on the third try


def test_endless_overlap_gives_up_with_the_spoken_apology(
    store: DynamoDbStore, config: Config, clock: Clock
) -> None:
    skill = _skill(InterleavingStore(store, times=1000), config, clock)
    reply = skill.post(E.intent("StartKidTimeIntent", now=clock()))
    # Issue 12 fault 5: a normal Alexa answer, not an HTTP 503 Alexa would voice on its own.
    assert reply.status == 200 and reply.text == US.text("error.apology")
    assert "active" not in store.load(E.USER_ID).get("kid_time", {}), "nothing half-written"


def test_an_unreachable_table_gets_the_spoken_apology(
    store: DynamoDbStore, config: Config, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    skill = _skill(store, config, clock)
    store.client.delete_table(TableName=store.table_name)
    reply = skill.post(E.launch(now=clock()))
    assert reply.status == 200
    assert reply.text.startswith(US.text("error.apology"))
    assert E.USER_ID not in caplog.text and user_hash(E.USER_ID) not in caplog.text
    with pytest.raises(StoreError, match="not reachable"):
        store.ensure_ready()


def test_readyz_follows_the_table(store: DynamoDbStore, config: Config, clock: Clock) -> None:
    skill = _skill(store, config, clock)
    assert skill.client.get("/readyz").status_code == 200
    store.client.delete_table(TableName=store.table_name)
    # A fresh app: the first app's answer is kept for a second.
    ready = _skill(store, config, clock).client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["store"] == "unreachable"


def test_ensure_ready_on_a_live_table(store: DynamoDbStore) -> None:
    store.ensure_ready()  # no exception: reachable and ACTIVE


# --- a damaged item never locks her out (as a damaged TinyDB file doesn't) ---------------------

DAMAGED_ITEMS: dict[str, dict[str, Any]] = {
    "wrong types": {"revision": {"N": "4"}, "attributes": {"M": {"kid_time": {"S": "oops"}}}},
    "attributes not a map": {"revision": {"N": "2"}, "attributes": {"S": "[1, 2]"}},
    "revision not a number": {"revision": {"S": "two"}, "attributes": {"M": {}}},
}


def put_raw(store: DynamoDbStore, item: dict[str, Any], user_id: str = USER) -> None:
    store.client.put_item(
        TableName=store.table_name, Item={"id": {"S": user_hash(user_id)}, **item}
    )


@pytest.mark.parametrize("damage", sorted(DAMAGED_ITEMS))
def test_a_damaged_item_is_kept_as_evidence_and_replaced_by_a_fresh_record(
    store: DynamoDbStore, damage: str
) -> None:
    put_raw(store, DAMAGED_ITEMS[damage])
    loaded = store.load(USER)
    evidence_key = loaded.pop(FRESH_START_KEY)
    assert USER not in evidence_key and evidence_key.endswith(user_hash(USER))
    evidence = store.client.get_item(
        TableName=store.table_name, Key={"id": {"S": evidence_key}}, ConsistentRead=True
    )["Item"]
    assert evidence["item"]["M"]["attributes"] == DAMAGED_ITEMS[damage]["attributes"]
    assert loaded["_revision"] >= 1 and set(loaded) == {"_revision"}
    # She goes on from the fresh record, and only users are counted or scanned.
    loaded["visits"] = 1
    store.save(USER, loaded)
    assert store.load(USER) == {"visits": 1, "_revision": loaded["_revision"]}
    assert store.count() == 1
    assert [key for page in store.scan() for key, _ in page] == [user_hash(USER)]
    # "Forget me" deletes the evidence too.
    store.delete(USER)
    assert store.count() == 0
    remaining = store.client.scan(TableName=store.table_name, ConsistentRead=True)["Items"]
    assert remaining == []


def test_two_requests_repairing_one_damaged_item_cannot_both_win(store: DynamoDbStore) -> None:
    put_raw(store, DAMAGED_ITEMS["wrong types"])
    item = raw_item(store)
    assert item is not None
    first = store.load(USER)
    assert FRESH_START_KEY in first
    with pytest.raises(StaleWriteError):  # the other request saw the damage before the repair
        store._start_fresh(user_hash(USER), item, "wrong types")
    assert FRESH_START_KEY not in store.load(USER), "the repaired record loads as it is"


def test_a_damaged_item_gets_the_fresh_start_notice_not_the_apology(
    store: DynamoDbStore, config: Config, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    put_raw(store, DAMAGED_ITEMS["wrong types"], E.USER_ID)
    skill = _skill(store, config, clock)
    reply = skill.post(E.launch(now=clock()))
    assert reply.status == 200
    assert reply.text.startswith(US.text("notice.fresh_start"))
    assert US.text("error.apology") not in reply.text
    again = skill.post(E.intent("StartKidTimeIntent", {"duration": "PT15M"}, now=clock()))
    assert again.status == 200 and not again.text.startswith(US.text("notice.fresh_start"))
    assert store.load(E.USER_ID)["kid_time"]["active"]["planned_minutes"] == 15
    assert E.USER_ID not in caplog.text and user_hash(E.USER_ID) not in caplog.text


def test_a_worker_boots_while_the_table_is_unreachable(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault 1 on DynamoDB: nothing listens at the endpoint, yet the app boots, apologises,
    reports itself not ready, and never logs who asked."""
    config = Config(
        store="dynamodb",
        dynamodb_endpoint_url=f"http://127.0.0.1:{free_port()}",
        dynamodb_table="mama-unreachable",
        verify_signatures=False,
        data_dir=tmp_path / "data",
    )
    app = create_app(config, deps=Deps(clock=clock, rng=random.Random(7)))
    skill = Skill(app, app.test_client(), clock, config.data_dir)
    reply = skill.post(E.launch(now=clock()))
    assert reply.status == 200 and reply.text.startswith(US.text("error.apology"))
    assert skill.client.get("/livez").status_code == 200
    ready = skill.client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["store"] == "unreachable"
    assert E.USER_ID not in caplog.text and user_hash(E.USER_ID) not in caplog.text
