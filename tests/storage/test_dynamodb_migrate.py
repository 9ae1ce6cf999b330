"""`mama-moments migrate-store`: TinyDB ⇄ DynamoDB (dynalite), resumable and idempotent."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from skill.cli import main
from skill.config import Config
from skill.storage import StaleWriteError, StoreError, TinyDBPersistenceAdapter
from skill.storage.dynamodb import DynamoDbStore, dynamodb_adapter
from skill.storage.keys import user_hash
from skill.storage.migrate import DynamoDbSide, Side, TinyDBSide, migrate
from skill.storage.records import StoredRecord
from tests.clock import START
from tests.storage.dynamodb_servers import dynalite, fake_aws, fake_aws_environment  # noqa: F401 (fake_aws is autouse)

pytest.importorskip("boto3")
# Talks to dynalite in another process; no step depends on the wall clock's date.
pytestmark = pytest.mark.real_clock

USERS = 230  # more than two pages of 100


def user(i: int) -> str:
    return f"amzn1.ask.account.MIGRATE{i:05d}"


def attributes_of(i: int) -> dict[str, Any]:
    """A realistic record that differs per user, dated from the pinned clock (in the form the
    store's validator writes, so it reads back as it is)."""
    started = START - timedelta(days=i % 30, hours=1)
    return {
        "visits": i + 1,
        "last_visit": (START - timedelta(days=i % 7)).isoformat(),
        "kid_time": {
            "active": None,
            "sessions": [
                {"started_at": started.isoformat(), "minutes": 10 + i % 40, "planned_minutes": 15}
            ],
        },
        "strategies_heard": ["good-enough", "boundaries"][: 1 + i % 2],
        "given_name": f"Parent{i}",
        "future_field": {"ratio": 0.5 + i, "flags": [True, None]},  # kept as it is
    }


@pytest.fixture(scope="module")
def dynamodb_url() -> Iterator[str]:
    with dynalite() as url:
        yield url


@pytest.fixture
def config(dynamodb_url: str, tmp_path: Path) -> Config:
    return Config(
        data_dir=tmp_path / "data",
        dynamodb_endpoint_url=dynamodb_url,
        dynamodb_table=f"mama-migrate-{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture
def tiny(config: Config) -> TinyDBPersistenceAdapter:
    store = TinyDBPersistenceAdapter(config.data_dir, durable=False)
    store.ensure_ready()
    return store


@pytest.fixture
def dynamo(config: Config) -> DynamoDbStore:
    return dynamodb_adapter(config)


def fill(store: TinyDBPersistenceAdapter | DynamoDbStore, count: int = USERS) -> None:
    """Users written the way requests write them (load, change, save)."""
    for i in range(count):
        loaded = store.load(user(i))
        store.save(user(i), {**loaded, **attributes_of(i)})


def mine(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if not k.startswith("_")}


def assert_every_user_is_in(store: TinyDBPersistenceAdapter | DynamoDbStore) -> None:
    for i in range(USERS):
        assert mine(store.load(user(i))) == attributes_of(i), f"user {i}"


def revisions(store: DynamoDbStore) -> dict[str, int]:
    return {key: record.revision for page in store.scan() for key, record in page}


def test_tinydb_to_dynamodb_copies_everyone_and_a_second_run_changes_nothing(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore
) -> None:
    fill(tiny)
    done: list[int] = []
    report = migrate(TinyDBSide(tiny), DynamoDbSide(dynamo), progress=done.append)
    assert (report.source_users, report.copied, report.unchanged) == (USERS, USERS, 0)
    assert report.verified and report.destination_users == USERS and report.missing == 0
    assert sum(done) == USERS and len(done) == 3, "progress after each page of 100"
    assert_every_user_is_in(dynamo)
    before = revisions(dynamo)
    assert set(before) == {user_hash(user(i)) for i in range(USERS)}

    again = migrate(TinyDBSide(tiny), DynamoDbSide(dynamo))
    assert (again.copied, again.unchanged, again.verified) == (0, USERS, True)
    assert revisions(dynamo) == before, "nothing was rewritten"


def test_dynamodb_to_tinydb_copies_everyone_and_a_second_run_changes_nothing(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore
) -> None:
    fill(dynamo)
    report = migrate(DynamoDbSide(dynamo), TinyDBSide(tiny))
    assert (report.source_users, report.copied, report.verified) == (USERS, USERS, True)
    assert_every_user_is_in(tiny)
    assert tiny.check() == [], "every file the migration wrote is a readable record"
    stamps = {p: p.stat().st_mtime_ns for p in tiny.users_dir.glob("*/*.json")}
    assert len(stamps) == USERS

    again = migrate(DynamoDbSide(dynamo), TinyDBSide(tiny))
    assert (again.copied, again.unchanged, again.verified) == (0, USERS, True)
    assert {p: p.stat().st_mtime_ns for p in tiny.users_dir.glob("*/*.json")} == stamps


def test_copied_users_keep_working_in_the_new_store(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore
) -> None:
    """The copy carries a revision the new store's conditional writes accept."""
    fill(tiny, 3)
    migrate(TinyDBSide(tiny), DynamoDbSide(dynamo))
    loaded = dynamo.load(user(1))
    assert loaded["_revision"] >= 1
    dynamo.save(user(1), {**loaded, "visits": 50})
    with pytest.raises(StaleWriteError):
        dynamo.save(user(1), {**loaded, "visits": 60})
    assert dynamo.load(user(1))["visits"] == 50


class StopsAfter:
    """A destination that dies after ``writes`` writes, like a run interrupted by Ctrl-C."""

    def __init__(self, inner: Side, writes: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.left = writes
        self.lock = threading.Lock()  # the migration writes on several threads

    def count(self) -> int:
        return self.inner.count()

    def pages(self) -> Any:
        return self.inner.pages()

    def keys(self) -> Iterator[str]:
        return self.inner.keys()

    def read_many(self, keys: Any) -> dict[str, StoredRecord]:
        return self.inner.read_many(keys)

    def write(self, key: str, record: StoredRecord, *, expected: int) -> None:
        with self.lock:
            if self.left == 0:
                raise KeyboardInterrupt
            self.left -= 1
        self.inner.write(key, record, expected=expected)


@pytest.mark.parametrize("direction", ["to-dynamodb", "to-tinydb"])
def test_an_interrupted_run_is_resumed_by_running_it_again(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore, direction: str
) -> None:
    if direction == "to-dynamodb":
        fill(tiny)
        source, destination, result = TinyDBSide(tiny), DynamoDbSide(dynamo), dynamo
    else:
        fill(dynamo)
        source, destination, result = DynamoDbSide(dynamo), TinyDBSide(tiny), tiny
    with pytest.raises(KeyboardInterrupt):
        migrate(source, StopsAfter(destination, writes=150))
    resumed = migrate(source, destination)
    assert (resumed.copied, resumed.unchanged, resumed.verified) == (USERS - 150, 150, True)
    assert_every_user_is_in(result)


def test_the_source_wins_over_a_differing_destination_record(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore
) -> None:
    fill(tiny, 2)
    dynamo.save(user(0), {"visits": 999})
    dynamo.save(user(0), {**dynamo.load(user(0)), "visits": 1000})  # revision 2
    report = migrate(TinyDBSide(tiny), DynamoDbSide(dynamo))
    assert (report.copied, report.verified) == (2, True)
    loaded = dynamo.load(user(0))
    assert mine(loaded) == attributes_of(0)
    assert loaded["_revision"] == 3, "a new revision: a request holding revision 2 is stale"


class RacedOnce:
    """Another writer changes the destination between the migration's read and its write."""

    def __init__(self, inner: DynamoDbSide, store: DynamoDbStore) -> None:
        self.inner, self.store, self.name = inner, store, inner.name
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write(self, key: str, record: StoredRecord, *, expected: int) -> None:
        if not self.raced:
            self.raced = True
            self.store.save(user(0), {"visits": 1})  # a live request creates the user first
        self.inner.write(key, record, expected=expected)


def test_a_write_that_races_a_live_request_is_re_read_and_retried(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore
) -> None:
    fill(tiny, 1)
    report = migrate(TinyDBSide(tiny), RacedOnce(DynamoDbSide(dynamo), dynamo))
    assert (report.copied, report.verified) == (1, True)
    loaded = dynamo.load(user(0))
    assert mine(loaded) == attributes_of(0) and loaded["_revision"] == 2


def test_unreadable_source_users_are_reported_and_fail_verification(
    tiny: TinyDBPersistenceAdapter, dynamo: DynamoDbStore
) -> None:
    fill(tiny, 3)
    tiny.path_for(user(1)).write_bytes(b'{"user": {"1": ')  # truncated
    report = migrate(TinyDBSide(tiny), DynamoDbSide(dynamo))
    assert report.copied == 2 and not report.verified
    [(key, reason)] = report.unreadable
    assert key == user_hash(user(1)) and reason.startswith("invalid JSON")
    assert tiny.path_for(user(1)).read_bytes() == b'{"user": {"1": ', "source left alone"


# the command


def _env(config: Config, tmp_path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    fake_aws_environment(env, tmp_path)
    return {
        **env,
        "MAMA_DATA_DIR": str(config.data_dir),
        "MAMA_DYNAMODB_ENDPOINT_URL": str(config.dynamodb_endpoint_url),
        "MAMA_DYNAMODB_TABLE": config.dynamodb_table,
    }


def test_the_command_both_ways_with_a_progress_bar_and_verified_counts(
    config: Config, tiny: TinyDBPersistenceAdapter, tmp_path: Path
) -> None:
    fill(tiny, 120)
    runner = CliRunner()
    env = _env(config, tmp_path)
    there = runner.invoke(main, ["migrate-store", "--from", "tinydb", "--to", "dynamodb"], env=env)
    assert there.exit_code == 0, there.output
    assert "tinydb -> dynamodb" in there.output, "the progress bar's label"
    assert "tinydb: 120 user(s); copied 120, already there 0, unreadable 0" in there.output
    assert "dynamodb: 120 user(s), 0 source user(s) missing" in there.output
    assert "verified" in there.output
    assert not any(user(i) in there.output for i in range(120)), "no user id is printed"

    again = runner.invoke(main, ["migrate-store", "--from", "tinydb", "--to", "dynamodb"], env=env)
    assert again.exit_code == 0 and "copied 0, already there 120" in again.output

    back_dir = tmp_path / "back"
    back = runner.invoke(
        main,
        ["migrate-store", "--from", "dynamodb", "--to", "tinydb", "--data-dir", str(back_dir)],
        env=env,
    )
    assert back.exit_code == 0, back.output
    assert "dynamodb: 120 user(s); copied 120" in back.output
    round_trip = TinyDBPersistenceAdapter(back_dir)
    for i in range(120):
        assert mine(round_trip.load(user(i))) == attributes_of(i)
    marker = json.loads((back_dir / "STORE.json").read_text())
    assert marker == {"layout": 1}, "the destination folder got the store's layout"


def test_the_command_exits_1_when_a_user_could_not_be_copied(
    config: Config, tiny: TinyDBPersistenceAdapter, tmp_path: Path
) -> None:
    fill(tiny, 2)
    tiny.path_for(user(0)).write_bytes(b"")
    result = CliRunner().invoke(
        main, ["migrate-store", "--from", "tinydb", "--to", "dynamodb"], env=_env(config, tmp_path)
    )
    assert result.exit_code == 1
    assert f"not copied: {user_hash(user(0))} (empty file)" in result.output
    assert "NOT complete" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "tinydb", "--to", "tinydb"], "must name different stores"),
        (["--from", "tinydb", "--to", "redis"], "'redis' is not one of"),
        (["--from", "dynamodb", "--to", "tinydb"], "not reachable"),  # no table: not created
    ],
)
def test_the_command_refuses_clearly(
    config: Config, tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["migrate-store", *args], env=_env(config, tmp_path))
    assert result.exit_code in (1, 2)  # 2: click's usage errors, 1: the store's
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_missing_source_table_is_not_created(config: Config) -> None:
    with pytest.raises(StoreError, match="not reachable"):
        dynamodb_adapter(config, create_table=False)
    with pytest.raises(StoreError, match="not reachable"):
        dynamodb_adapter(config, create_table=False)  # still missing: nothing was created
