"""The lost-write load test on DynamoDB: gunicorn, 4 workers, MAMA_STORE=dynamodb on dynalite.

16 client threads cycle start → done kid time for 8 shared users (two threads per user, so
their requests overlap) for at least 20 s. Every "done" the skill acknowledged must be one
stored session: none lost, none doubled. (A user slot moves on to a fresh user before its
record would reach the kept-sessions cap, so a fast machine cannot make pruning look like loss.)
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from skill.config import Config
from skill.domain.user import MAX_SESSIONS
from skill.storage.dynamodb import dynamodb_adapter
from skill.storage.keys import user_hash
from tests import envelopes as E
from tests.servers import gunicorn
from tests.storage.dynamodb_servers import dynalite, fake_aws_environment

pytest.importorskip("boto3")

WORKERS = 4
CLIENTS = 16
USERS = 8
SECONDS = 20.0

# gunicorn checks timestamps against the real clock, so the envelopes use it too.
pytestmark = [pytest.mark.slow, pytest.mark.real_clock]


@pytest.fixture
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env: dict[str, str] = {}
    fake_aws_environment(env, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def server(tmp_path: Path, aws_env: dict[str, str]) -> Iterator[tuple[str, Config]]:
    """dynalite on LevelDB on disk, and gunicorn like `make serve-prod` with MAMA_STORE=dynamodb."""
    with dynalite(path=tmp_path / "leveldb") as dynamodb_url:
        config = Config(
            store="dynamodb",
            dynamodb_endpoint_url=dynamodb_url,
            dynamodb_table=f"mama-load-{uuid.uuid4().hex[:12]}",
        )
        env = {
            **os.environ,
            **aws_env,
            "MAMA_STORE": "dynamodb",
            "MAMA_DYNAMODB_ENDPOINT_URL": dynamodb_url,
            "MAMA_DYNAMODB_TABLE": config.dynamodb_table,
            "MAMA_DATA_DIR": str(tmp_path / "data"),
            "MAMA_VERIFY_SIGNATURES": "0",
        }
        # The four workers start together on a missing table: they race to create it.
        with gunicorn(["--workers", str(WORKERS), "skill.app:create_app()"], env) as url:
            yield url, config


#: A record keeps at most MAX_SESSIONS stretches, so a slot moves to a new user before that:
#: always 8 users shared at once, and no record ever prunes what the test counts.
ROTATE_AT = MAX_SESSIONS - 20


def _user(slot: int, generation: int) -> str:
    return f"amzn1.ask.account.LOAD{slot:02d}G{generation:03d}"


def _post(session: requests.Session, url: str, envelope: dict[str, Any]) -> requests.Response:
    return session.post(f"{url}/alexa", json=envelope, timeout=30)


def test_overlapping_kid_time_on_dynamodb_loses_and_doubles_nothing(
    server: tuple[str, Config],
) -> None:
    url, config = server
    deadline = time.monotonic() + SECONDS
    acknowledged: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    generations = [0] * USERS
    used: set[str] = set()
    lock = threading.Lock()

    def client(n: int) -> None:
        slot = n % USERS  # two threads per user: their requests overlap
        with requests.Session() as session:
            while time.monotonic() < deadline:
                with lock:
                    user = _user(slot, generations[slot])
                    used.add(user)
                for intent in ("StartKidTimeIntent", "EndKidTimeIntent"):
                    reply = _post(
                        session, url, E.intent(intent, now=datetime.now(UTC), user_id=user)
                    )
                    body = reply.json() if reply.status_code == 200 else {}
                    # "Done" ends the session; "no kid time is running" keeps it open.
                    ended = bool(body.get("response", {}).get("shouldEndSession"))
                    with lock:
                        statuses[reply.status_code] += 1
                        if intent == "EndKidTimeIntent" and ended:
                            acknowledged[user] += 1
                            if acknowledged[user] >= ROTATE_AT and user == _user(
                                slot, generations[slot]
                            ):
                                generations[slot] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        for job in [pool.submit(client, n) for n in range(CLIENTS)]:
            job.result()
    elapsed = time.monotonic() - started

    store = dynamodb_adapter(config, create_table=False)
    stored: dict[str, int] = {}
    for user in used:
        record = store.read(user_hash(user))
        sessions = [] if record is None else record.attributes.get("kid_time", {}).get("sessions")
        stored[user] = len(sessions or [])
    total_ack, total_stored = sum(acknowledged.values()), sum(stored.values())
    print(
        f"\nDynamoDB load test: {elapsed:.1f} s, {sum(statuses.values())} requests "
        f"({dict(statuses)}), {len(used)} users, {total_ack} acknowledged sessions, "
        f"{total_stored} stored"
    )
    assert elapsed >= SECONDS
    assert set(statuses) <= {200, 503}, statuses  # 503 "busy": retries ran out, nothing stored
    assert max(acknowledged.values()) < MAX_SESSIONS, "the record would prune sessions"
    assert stored == {user: acknowledged[user] for user in used}, "per user: none lost or doubled"
    assert total_ack == total_stored and total_ack > USERS * 10
