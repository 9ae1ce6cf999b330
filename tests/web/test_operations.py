"""Issue 16 part 4, in process: Prometheus metrics (MAMA_METRICS) and JSON logs."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from skill.config import Config, ConfigError
from skill.storage import StaleWriteError, TinyDBPersistenceAdapter
from skill.web.logs import JsonFormatter, configure_logging, gunicorn_logconfig
from tests import envelopes as E


def _metrics(client: Any) -> str:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    return str(answer.get_data(as_text=True))


def _value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` in Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_are_off_by_default(skill: Any) -> None:
    assert skill.client.get("/metrics").status_code == 404


def test_metrics_count_request_types_and_intents_never_users(make_skill: Any) -> None:
    skill = make_skill(signed=False, metrics=True)
    now = skill.clock()
    user = "amzn1.ask.account.SECRET-USER-ID"
    skill.post(E.launch(now=now, user_id=user))
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=now, user_id=user))
    skill.post(E.intent("StartKidTimeIntent", {"duration": "PT20M"}, now=now, user_id=user))
    skill.post(E.intent("NoSuchIntent", now=now, user_id=user))
    skill.client.get("/speech/" + "x" * 50 + ".wav")
    text = _metrics(skill.client)
    requests = "mama_skill_requests_total"
    assert _value(text, requests, request_type="LaunchRequest", intent="") == 1
    assert _value(text, requests, request_type="IntentRequest", intent="StartKidTimeIntent") == 2
    # An intent the skill does not declare is counted, under a bounded label.
    assert _value(text, requests, request_type="IntentRequest", intent="other") == 1
    assert _value(text, "mama_skill_seconds_count", request_type="IntentRequest") == 3
    assert _value(text, "flask_http_request_total", status="200") >= 4
    # Routes are labelled by their rule, not by what a client typed.
    assert "/speech/<key>.wav" in text and "x" * 50 not in text
    assert user not in text and "SECRET" not in text


class StaleTwice(TinyDBPersistenceAdapter):
    """Loses the first two write races of each run of saves, then saves."""

    lost = 0

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        if StaleTwice.lost < 2:
            StaleTwice.lost += 1
            raise StaleWriteError("stale write")
        super().save_attributes(request_envelope, attributes)


class Broken(TinyDBPersistenceAdapter):
    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        raise OSError("disk on fire")


@pytest.mark.parametrize(
    ("adapter_class", "retries", "apologies"), [(StaleTwice, 2, 0), (Broken, 0, 1)]
)
def test_metrics_count_store_retries_and_apologies(
    tmp_path: Path, make_skill: Any, adapter_class: type, retries: int, apologies: int
) -> None:
    from skill.app import create_app

    StaleTwice.lost = 0
    adapter = adapter_class(tmp_path / "store")
    adapter.ensure_ready()
    config = Config(data_dir=tmp_path / "store", verify_signatures=False, metrics=True)
    client = create_app(config, adapter=adapter).test_client()
    assert client.post("/alexa", json=E.launch(now=make_skill().clock())).status_code == 200
    text = _metrics(client)
    assert _value(text, "mama_store_retries_total") == retries
    assert _value(text, "mama_apologies_total", error="OSError") == apologies


def test_metrics_without_the_extra_is_a_clear_error(
    make_skill: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_flask_exporter", None)
    with pytest.raises(ConfigError, match=r"mama-moments\[metrics\]"):
        make_skill(signed=False, metrics=True)


def test_config_reads_the_operations_settings() -> None:
    config = Config.from_env(
        {"MAMA_METRICS": "1", "MAMA_LOG_FORMAT": "JSON", "MAMA_BODY_TIMEOUT_SECONDS": "5"}
    )
    assert config.metrics and config.log_format == "json" and config.body_timeout_seconds == 5
    with pytest.raises(ConfigError, match="MAMA_LOG_FORMAT"):
        Config.from_env({"MAMA_LOG_FORMAT": "xml"})


# --- JSON logs ---------------------------------------------------------------------------------


def _record(name: str, message: str, args: Any = (), exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("the user said amzn1.ask.account.SECRET")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, args, exc_info)


def test_a_json_line_has_the_fields_and_no_exception_message() -> None:
    line = JsonFormatter().format(_record("skill.web", "handler failed: %s", ("OSError",), True))
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "skill.web"
    assert entry["message"] == "handler failed: OSError" and entry["time"].endswith("+00:00")
    assert entry["error"] == "ValueError" and "test_operations.py" in entry["stack"][0]
    assert "SECRET" not in line


def test_a_gunicorn_access_line_keeps_method_path_status_and_time_only() -> None:
    atoms = {"m": "POST", "U": "/alexa", "s": "200", "B": "812", "M": "3", "h": "203.0.113.9"}
    atoms |= {"a": "Mozilla", "q": "token=abc"}
    entry = json.loads(JsonFormatter().format(_record("gunicorn.access", "%(h)s", atoms)))
    assert entry["method"] == "POST" and entry["path"] == "/alexa"
    assert entry["status"] == 200 and entry["bytes"] == 812 and entry["duration_ms"] == 3
    text = json.dumps(entry)
    assert "203.0.113.9" not in text and "token" not in text and "Mozilla" not in text


def test_the_skill_logs_json_lines(
    make_skill: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    configure_logging("json")
    skill = make_skill(signed=False)
    skill.post(E.launch(now=skill.clock()))
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert any("signature verification is OFF" in entry["message"] for entry in entries)
    assert E.USER_ID not in "\n".join(lines)


def test_gunicorn_logconfig_names_the_json_formatter() -> None:
    config = gunicorn_logconfig("json")
    assert config["formatters"]["mama"] == {"()": "skill.web.logs.JsonFormatter"}
    assert config["loggers"]["gunicorn.access"]["handlers"] == ["stdout"]
    assert "()" not in gunicorn_logconfig("text")["formatters"]["mama"]
