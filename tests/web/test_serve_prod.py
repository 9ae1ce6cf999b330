"""Production mode: gunicorn with several gevent worker processes over one TinyDB data folder,
configured as `make serve-prod` does (skill/web/gunicorn_conf.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from skill.storage import TinyDBPersistenceAdapter
from tests import envelopes as E
from tests.servers import gunicorn

WORKERS = 3
CLIENTS = 4
REQUESTS_PER_CLIENT = 25

# gunicorn checks timestamps against the real clock, so the envelopes use it too.
pytestmark = [pytest.mark.slow, pytest.mark.real_clock]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A gunicorn server like `make serve-prod`, with signature checks off for this client."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "MAMA_DATA_DIR": str(data_dir), "MAMA_VERIFY_SIGNATURES": "0"}
    arguments = ["-c", "python:skill.web.gunicorn_conf", "--workers", str(WORKERS)]
    with gunicorn(arguments, env) as url:
        yield url, data_dir


def _post(session: requests.Session, url: str, envelope: dict[str, object]) -> dict[str, object]:
    reply = session.post(f"{url}/alexa", json=envelope, timeout=30)
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


def test_concurrent_clients_lose_no_writes(server: tuple[str, Path]) -> None:
    url, data_dir = server

    def shared_user_launches(_: int) -> None:
        with requests.Session() as session:
            for _ in range(REQUESTS_PER_CLIENT):
                _post(session, url, E.launch(now=datetime.now(UTC), user_id="shared-user"))

    def own_user_kid_time(client: int) -> None:
        user = f"kid-time-user-{client}"
        with requests.Session() as session:
            for _ in range(REQUESTS_PER_CLIENT):
                now = datetime.now(UTC)
                _post(session, url, E.intent("StartKidTimeIntent", now=now, user_id=user))
                _post(session, url, E.intent("EndKidTimeIntent", now=now, user_id=user))

    with ThreadPoolExecutor(max_workers=2 * CLIENTS) as pool:
        jobs = [pool.submit(shared_user_launches, c) for c in range(CLIENTS)]
        jobs += [pool.submit(own_user_kid_time, c) for c in range(CLIENTS)]
        for job in jobs:
            job.result()

    store = TinyDBPersistenceAdapter(data_dir)
    assert store.check() == [], "every stored file must be readable"
    assert store.load("shared-user")["visits"] == CLIENTS * REQUESTS_PER_CLIENT
    sessions = [
        len(store.load(f"kid-time-user-{c}")["kid_time"]["sessions"]) for c in range(CLIENTS)
    ]
    assert sum(sessions) == CLIENTS * REQUESTS_PER_CLIENT
