"""Log formats: the usual text lines, or one JSON object per line (``MAMA_LOG_FORMAT=json``).

JSON lines are what Lambda and log pipelines index. They carry the same words as the text lines
and no more: the skill's messages never hold user ids or request bodies; an error keeps its type
and the frames it passed (file, line, function) but not its message, which might quote data;
gunicorn's access lines keep the method, path, status, size and duration, but not the client's
address, query or headers.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"

#: gunicorn access-log atoms kept in a JSON line, by the name they get there.
_ACCESS_FIELDS = {"method": "m", "path": "U", "status": "s", "bytes": "B", "duration_ms": "M"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and error, access fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            # gunicorn hands the access atoms over as the record's args.
            entry["message"] = "request"
            entry.update(_access_fields(record.args))
        else:
            entry["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            entry["error"] = kind.__name__
            # Where it failed, frame by frame; no source text and no values.
            entry["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ]
        return json.dumps(entry, ensure_ascii=False, default=str)


def _access_fields(atoms: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, atom in _ACCESS_FIELDS.items():
        value = atoms.get(atom)
        if value in (None, "-"):
            continue
        fields[name] = int(value) if name != "method" and str(value).isdigit() else value
    return fields


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter ``MAMA_LOG_FORMAT`` names (``"text"`` or ``"json"``)."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send every log record to stderr in ``log_format``, replacing earlier root handlers."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter_for(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def gunicorn_logconfig(log_format: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its own loggers and the skill's, in one format."""
    formatter: dict[str, Any] = (
        {"()": "skill.web.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": TEXT_FORMAT, "class": "logging.Formatter"}
    )
    handlers = {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "mama",
            "stream": "ext://sys.stderr",
        },
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "access" if log_format != "json" else "mama",
            "stream": "ext://sys.stdout",
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "mama": formatter,
            # gunicorn formats its text access line itself (access_log_format).
            "access": {"format": "%(message)s", "class": "logging.Formatter"},
        },
        "handlers": handlers,
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
        },
    }
