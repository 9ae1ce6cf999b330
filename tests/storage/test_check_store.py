"""``mama-moments check-store``: faults 3 and 4 of issue 12, and issue 19's listing and repair."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from skill.cli import main
from skill.storage import TinyDBPersistenceAdapter
from skill.storage.records import make_tables


def _store(tmp_path: Path) -> TinyDBPersistenceAdapter:
    store = TinyDBPersistenceAdapter(tmp_path / "data")
    store.ensure_ready()
    store.save("fine", {"visits": 1})
    return store


def _check(store: TinyDBPersistenceAdapter, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check-store", "--data-dir", str(store.data_dir), *extra])
    return result.exit_code, result.output


def test_a_directory_at_a_user_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (store.path_for("someone") / "x").mkdir(parents=True)
    code, output = _check(store)
    assert code == 1 and "Traceback" not in output
    assert f"unreadable: {store.path_for('someone')} (directory)" in output
    assert "1 unreadable" in output


def test_a_data_dir_that_does_not_exist_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(main, ["check-store", "--data-dir", str(missing)])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not missing.exists()


def test_wrong_typed_records_are_reported(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for user, attributes in (("a", {"kid_time": "oops"}), ("b", {"kid_time": [1, 2]})):
        path = store.path_for(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(make_tables(attributes, 1)))
    path = store.path_for("c")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[1, 2]")
    code, output = _check(store)
    assert code == 1 and "3 unreadable" in output
    assert output.count("(kid_time is not an object)") == 2
    assert "(top level is not an object)" in output


def test_repair_gives_every_damaged_file_a_fresh_start_and_lists_the_evidence(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    damaged = {"x": b"{", "y": b"", "z": json.dumps(make_tables({"kid_time": "oops"}, 4)).encode()}
    for user, content in damaged.items():
        path = store.path_for(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    fine_before = store.path_for("fine").read_bytes()
    code, output = _check(store, "--repair")
    assert code == 0, output
    assert "3 file(s) replaced by a fresh record, 0 failed" in output
    assert "0 unreadable file(s), 3 quarantined" in output
    assert "invalid-json, 1 bytes" in output and "empty-file, 0 bytes" in output
    assert "kid-time-is-not-an-object" in output
    assert store.path_for("fine").read_bytes() == fine_before
    for user in damaged:
        assert store.load(user) == {"_revision": 1}
    kept = sorted(e.path.read_bytes() for e in store.quarantine.entries())
    assert kept == sorted(damaged.values())
    code, output = _check(store)
    assert code == 0 and "0 unreadable file(s), 3 quarantined" in output
