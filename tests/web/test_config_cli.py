"""Settings from the environment, and the service commands of the CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from skill.cli import main
from skill.config import Config, ConfigError
from skill.storage import TinyDBPersistenceAdapter


def test_defaults_are_safe() -> None:
    config = Config.from_env({})
    assert config.verify_signatures and config.verify_timestamps
    assert not config.dev_console
    assert config.skill_id is None
    assert config.data_dir == Path("data")
    assert config.audio_cache_dir == Path("data") / "speech-cache"
    assert config.store == "tinydb"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), (" on ", True), ("0", False), ("off", False)],
)
def test_flags_accept_the_usual_spellings(raw: str, expected: bool) -> None:
    assert Config.from_env({"MAMA_DEV_CONSOLE": raw}).dev_console is expected


def test_empty_values_mean_the_default() -> None:
    config = Config.from_env({"MAMA_VERIFY_SIGNATURES": "", "MAMA_MAX_BODY_BYTES": " "})
    assert config.verify_signatures is True
    assert config.max_body_bytes == Config.max_body_bytes


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("MAMA_VERIFY_SIGNATURES", "maybe", "MAMA_VERIFY_SIGNATURES must be one of"),
        ("MAMA_MAX_BODY_BYTES", "lots", "must be a whole number"),
        ("MAMA_MAX_BODY_BYTES", "-5", "must be positive"),
        ("MAMA_STORE", "postgres", "MAMA_STORE"),
    ],
)
def test_bad_values_are_clear_errors(name: str, raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env({name: raw})


def test_settings_are_read(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "MAMA_DATA_DIR": str(tmp_path),
            "MAMA_SKILL_ID": "amzn1.ask.skill.x",
            "MAMA_SPEECH_CACHE_DIR": str(tmp_path / "cache"),
            "MAMA_DEFAULT_LOCALE": "en-GB",
            "MAMA_MAX_BODY_BYTES": "1024",
        }
    )
    assert config.data_dir == tmp_path and config.skill_id == "amzn1.ask.skill.x"
    assert config.audio_cache_dir == tmp_path / "cache"
    assert config.default_locale == "en-GB" and config.max_body_bytes == 1024


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record Flask.run calls and the exec of gunicorn instead of serving forever."""
    calls: list[dict[str, Any]] = []

    def fake_run(app: Flask, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    def fake_execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append({"exec": path, "argv": argv, "env": env})
        raise SystemExit(0)  # what follows a real exec never runs either

    monkeypatch.setattr(Flask, "run", fake_run)
    monkeypatch.setattr(os, "execve", fake_execve)
    return calls


def test_run_serves_with_gunicorn_and_gevent(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(
        main, ["run", "--port", "5099", "--data-dir", str(tmp_path), "--workers", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5099/alexa" in result.output
    [call] = served
    argv = call["argv"]
    assert call["exec"] == sys.executable and argv[1:3] == ["-m", "gunicorn"]
    assert argv[argv.index("-c") + 1] == "python:skill.web.gunicorn_conf"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:5099"
    assert argv[argv.index("--workers") + 1] == "3"
    assert call["env"]["MAMA_DATA_DIR"] == str(tmp_path)
    # The store was checked (and laid out) before gunicorn was started.
    assert (tmp_path / "STORE.json").is_file()


def test_run_binds_ipv6_hosts_in_brackets(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(main, ["run", "--host", "::1", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    argv = served[0]["argv"]
    assert argv[argv.index("--bind") + 1] == "[::1]:5000" and "--workers" not in argv


def test_gunicorn_conf_uses_gevent_and_reads_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    import skill.web.gunicorn_conf as conf

    monkeypatch.setenv("MAMA_WORKERS", "7")
    monkeypatch.setenv("MAMA_BIND", "0.0.0.0:8080")
    monkeypatch.setenv("MAMA_LOG_FORMAT", "json")
    reloaded = importlib.reload(conf)
    try:
        assert reloaded.worker_class == "gevent" and reloaded.workers == 7
        assert reloaded.bind == ["0.0.0.0:8080"]
        assert reloaded.wsgi_app == "skill.app:create_app()"
        formatter = reloaded.logconfig_dict["formatters"]["mama"]
        assert formatter["()"].endswith("JsonFormatter")
        # A stuck worker is replaced well after Alexa's 8 s; a slow client never gets that far.
        assert reloaded.timeout > 8 and reloaded.graceful_timeout > 0 and reloaded.keepalive > 0
    finally:
        monkeypatch.delenv("MAMA_WORKERS")
        monkeypatch.delenv("MAMA_BIND")
        monkeypatch.delenv("MAMA_LOG_FORMAT")
        importlib.reload(conf)


def test_run_dev_turns_off_signatures_and_on_the_console(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    result = CliRunner().invoke(main, ["run", "--dev", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [call] = served
    app = call["app"]
    assert call["threaded"] is True
    settings = app.extensions["mama_moments"]["config"]
    assert not settings.verify_signatures and settings.dev_console
    assert app.test_client().get("/console").status_code == 200


def test_run_with_a_bad_setting_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, Any]]
) -> None:
    monkeypatch.setenv("MAMA_VERIFY_SIGNATURES", "maybe")
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2 and "MAMA_VERIFY_SIGNATURES" in result.output
    assert served == [] and "Traceback" not in result.output


def test_run_with_an_unreadable_store_marker_says_so(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    (tmp_path / "STORE.json").write_text("{ broken")
    result = CliRunner().invoke(main, ["run", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "STORE.json" in result.output and "untouched" in result.output
    assert (tmp_path / "STORE.json").read_text() == "{ broken"
    assert served == []


def test_run_with_a_store_that_cannot_be_written_serves_with_a_warning(
    tmp_path: Path, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    TinyDBPersistenceAdapter(tmp_path).ensure_ready()
    real_open = os.open

    def read_only(path: Any, flags: int, *args: Any) -> int:
        if flags & os.O_CREAT and str(path).startswith(str(tmp_path)):
            raise OSError(30, "Read-only file system")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    result = CliRunner().invoke(main, ["run", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "not writable" in result.output and "reads only" in result.output
    assert len(served) == 1 and "argv" in served[0]


def test_check_store(tmp_path: Path) -> None:
    store = TinyDBPersistenceAdapter(tmp_path)
    store.ensure_ready()
    store.save("someone", {"visits": 1})
    clean = CliRunner().invoke(main, ["check-store", "--data-dir", str(tmp_path)])
    assert clean.exit_code == 0 and "0 unreadable" in clean.output

    store.path_for("someone").write_text("not json")
    broken = CliRunner().invoke(main, ["check-store", "--data-dir", str(tmp_path)])
    assert broken.exit_code == 1
    assert str(store.path_for("someone")) in broken.output and "1 unreadable" in broken.output


def test_check_store_refuses_another_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAMA_STORE", "dynamodb")
    result = CliRunner().invoke(main, ["check-store"])
    assert result.exit_code == 1 and "MAMA_STORE is dynamodb" in result.output
