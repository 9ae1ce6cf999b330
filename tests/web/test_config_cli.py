"""Settings from the environment, and the service commands of the CLI."""

from __future__ import annotations

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
    """Record Flask.run calls instead of serving forever."""
    calls: list[dict[str, Any]] = []

    def fake_run(app: Flask, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr(Flask, "run", fake_run)
    return calls


def test_run_serves_the_app(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(main, ["run", "--port", "5099", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5099/alexa" in result.output
    [call] = served
    assert call["host"] == "127.0.0.1" and call["port"] == 5099 and call["threaded"] is True
    settings = call["app"].extensions["mama_moments"]["config"]
    assert settings.verify_signatures and not settings.dev_console
    assert (tmp_path / "STORE.json").is_file()


def test_run_dev_turns_off_signatures_and_on_the_console(
    tmp_path: Path, served: list[dict[str, Any]]
) -> None:
    result = CliRunner().invoke(main, ["run", "--dev", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    app = served[0]["app"]
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
