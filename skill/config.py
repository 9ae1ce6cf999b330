"""Service settings, read from ``MAMA_*`` environment variables with safe defaults."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, get_args

from speech.settings import audio_cache_dir

logger = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
#: Persistence back ends ``MAMA_STORE`` may name (built by ``skill.storage``).
STORES = ("tinydb", "dynamodb")
#: Log line formats ``MAMA_LOG_FORMAT`` may name.
LOG_FORMATS = ("text", "json")
#: What a TinyDB write waits for before the request answers (``MAMA_DURABILITY``), in the spirit
#: of SQLite's ``synchronous``: ``full`` fsyncs the file and its folder, ``normal`` the file (the
#: folder only when a user file is created or removed), ``off`` nothing. README "Durability" says
#: what each survives.
Durability = Literal["full", "normal", "off"]
DURABILITY_MODES: tuple[Durability, ...] = get_args(Durability)


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number; got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive; got {value}")
    return value


def _choice(environ: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {raw!r}")
    return value


def _store(environ: Mapping[str, str]) -> str:
    raw = environ.get("MAMA_STORE")
    if raw is None or raw.strip() == "":
        return "tinydb"
    value = raw.strip().lower()
    if value not in STORES:
        raise ConfigError(f"MAMA_STORE must be one of {', '.join(STORES)}; got {raw!r}")
    return value


def _durability(environ: Mapping[str, str]) -> Durability:
    raw = environ.get("MAMA_DURABILITY")
    if raw is None or raw.strip() == "":
        return "full"
    value = raw.strip().lower()
    for mode in DURABILITY_MODES:
        if value == mode:
            return mode
    raise ConfigError(f"MAMA_DURABILITY must be one of {', '.join(DURABILITY_MODES)}; got {raw!r}")


@dataclass(frozen=True)
class Config:
    """Everything the service can be told; defaults run a safe local service."""

    data_dir: Path = Path("data")
    #: When set, requests for any other skill id are refused (ask-sdk-core checks it).
    skill_id: str | None = None
    #: Alexa's signature check. Off only for local tools such as virtual-alexa.
    verify_signatures: bool = True
    #: Reject requests whose timestamp is too old or too far ahead (replay protection).
    verify_timestamps: bool = True
    #: Alexa sends small requests; anything larger is refused with 413.
    max_body_bytes: int = 256 * 1024
    default_locale: str = "en-US"
    #: The local web console (development only).
    dev_console: bool = False
    speech_cache_dir: Path | None = field(default=None)
    #: Where user attributes live: "tinydb" (files under data_dir) or "dynamodb".
    store: str = "tinydb"
    #: The TinyDB store's fsync policy: "full" (default), "normal" or "off" (see ``Durability``).
    durability: Durability = "full"
    #: DynamoDB table (created on first start if missing) when ``store == "dynamodb"``.
    dynamodb_table: str = "mama-moments"
    #: Another DynamoDB-compatible server (local tests, DynamoDB Local); ``None`` means AWS.
    dynamodb_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    #: Seconds a client has to send the whole body; then 408 (Alexa itself gives up after 8 s).
    body_timeout_seconds: int = 3
    #: Prometheus metrics at /metrics (needs the ``metrics`` extra).
    metrics: bool = False
    #: "text" or "json" (one JSON object per line, for log pipelines).
    log_format: str = "text"

    @property
    def audio_cache_dir(self) -> Path:
        """Where rendered offline speech is cached."""
        return audio_cache_dir(self.data_dir, self.speech_cache_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Build a config from ``MAMA_*`` variables; unknown values raise ``ConfigError``."""
        env = os.environ if environ is None else environ
        cache = env.get("MAMA_SPEECH_CACHE_DIR")
        return cls(
            data_dir=Path(env.get("MAMA_DATA_DIR") or "data"),
            skill_id=env.get("MAMA_SKILL_ID") or None,
            verify_signatures=_flag(env, "MAMA_VERIFY_SIGNATURES", True),
            verify_timestamps=_flag(env, "MAMA_VERIFY_TIMESTAMPS", True),
            max_body_bytes=_int(env, "MAMA_MAX_BODY_BYTES", cls.max_body_bytes),
            default_locale=env.get("MAMA_DEFAULT_LOCALE") or "en-US",
            dev_console=_flag(env, "MAMA_DEV_CONSOLE", False),
            speech_cache_dir=Path(cache) if cache else None,
            store=_store(env),
            durability=_durability(env),
            dynamodb_table=(env.get("MAMA_DYNAMODB_TABLE") or "").strip() or cls.dynamodb_table,
            dynamodb_endpoint_url=env.get("MAMA_DYNAMODB_ENDPOINT_URL") or None,
            aws_region=(env.get("AWS_REGION") or "").strip() or cls.aws_region,
            body_timeout_seconds=_int(env, "MAMA_BODY_TIMEOUT_SECONDS", cls.body_timeout_seconds),
            metrics=_flag(env, "MAMA_METRICS", False),
            log_format=_choice(env, "MAMA_LOG_FORMAT", LOG_FORMATS, "text"),
        )

    def with_changes(self, **changes: object) -> Config:
        """A copy with some settings replaced (handy in tests and tools)."""
        return replace(self, **changes)  # type: ignore[arg-type]
