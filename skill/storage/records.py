"""The stored envelope of one user and its migrations; pure (bytes and dicts in and out).

A user file holds TinyDB's layout around one record::

    {"user": {"1": {"schema_version": 1, "revision": R, "attributes": {...}}}}

``attributes`` is what handlers see; keys starting with ``_`` belong to the store and are
never written (``"_revision"`` carries the revision between load and save).

A file written with ``MAMA_DURABILITY=off`` may be overwritten in place, so it starts with a
checksum of the rest (:func:`dumps_checked`): ``{"_check":"<crc32 hex>","user":...}`` plus
padding. A reader that catches such a write half done sees a wrong checksum and reads again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skill.domain.user import SCHEMA_VERSION
from skill.storage.errors import DamagedFile, SchemaError, StoreError

#: Version of the attribute schema this code writes. Bump it and add a migration together.
CURRENT_SCHEMA = SCHEMA_VERSION
#: Reserved attribute carrying the record revision between get and save.
REVISION_KEY = "_revision"
#: Reserved attribute set on load when a damaged record was just replaced (never stored):
#: the name of the evidence kept in ``corrupt/``.
FRESH_START_KEY = "_fresh_start"

#: ``MIGRATIONS[v]`` turns the attributes of a schema-``v`` record into schema ``v + 1``.
#: Applied in memory on load; the next save writes the record at ``CURRENT_SCHEMA``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

TABLE = "user"
DOC_ID = 1
_RECORD_KEYS = ("schema_version", "revision", "attributes")


@dataclass(frozen=True)
class StoredRecord:
    """One user's record as stored: its schema version, revision and attributes."""

    schema_version: int
    revision: int
    attributes: dict[str, Any]


def parse_tables(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``; ``DamagedFile`` when it is not one.

    An empty file is damaged: TinyDB would silently treat it as an empty database.
    """
    if not raw.strip():
        raise DamagedFile("empty file")
    checked = raw.startswith(CHECK_MARKER)
    if checked and not _checksum_matches(raw):
        raise DamagedFile("checksum mismatch (a write caught half done, or a torn file)")
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise DamagedFile("not UTF-8 text") from None
    except ValueError as exc:  # JSONDecodeError; the message holds a position, not content
        raise DamagedFile(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise DamagedFile("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise DamagedFile("top level is not an object")
    if checked:
        del data[CHECK_KEY]
    return data


CHECK_KEY = "_check"
#: How a checksummed file starts; 8 hex digits and ``",`` follow, then the checksummed rest.
CHECK_MARKER = b'{"' + CHECK_KEY.encode() + b'":"'
_CHECK_END = len(CHECK_MARKER) + 8


def dumps_checked(tables: dict[str, Any]) -> bytes:
    """``dumps(tables)`` with a CRC-32 of everything after it in front (see the module doc)."""
    body = dumps(tables)
    if not tables:
        return body  # "{}" has no rest to put the checksum before
    rest = body[1:]
    return b'%s%08x",%s' % (CHECK_MARKER, zlib.crc32(rest), rest)


def _checksum_matches(raw: bytes) -> bool:
    if raw[_CHECK_END : _CHECK_END + 2] != b'",':
        return False
    try:
        expected = int(raw[len(CHECK_MARKER) : _CHECK_END], 16)
    except ValueError:
        return False
    # The padding left by an in-place overwrite of a longer file is not checksummed.
    return zlib.crc32(raw[_CHECK_END + 2 :].rstrip(b" ")) == expected


def shape_problem(tables: dict[str, Any]) -> str | None:
    """Why ``tables`` is not a single user record, or ``None`` if it is one."""
    table = tables.get(TABLE)
    if not isinstance(table, dict) or set(table) != {str(DOC_ID)}:
        return f"expected exactly one document in table {TABLE!r}"
    record = table[str(DOC_ID)]
    if not isinstance(record, dict):
        return "record is not an object"
    for key in _RECORD_KEYS:
        if key not in record:
            return f"record has no {key!r}"
    for key in ("schema_version", "revision"):
        value = record[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{key!r} is not a non-negative integer"
    if not isinstance(record["attributes"], dict):
        return "'attributes' is not an object"
    return None


def unpack(tables: dict[str, Any]) -> StoredRecord:
    """The record in a parsed file; ``DamagedFile`` when it is not exactly one record."""
    problem = shape_problem(tables)
    if problem is not None:
        raise DamagedFile(problem)
    record = tables[TABLE][str(DOC_ID)]
    return StoredRecord(record["schema_version"], record["revision"], dict(record["attributes"]))


def make_record(attributes: dict[str, Any], revision: int) -> dict[str, Any]:
    """The stored document for ``attributes`` at ``revision`` and the current schema."""
    return {"schema_version": CURRENT_SCHEMA, "revision": revision, "attributes": attributes}


def make_tables(attributes: dict[str, Any], revision: int) -> dict[str, dict[str, Any]]:
    """The full file content for one user record (also used to pre-populate benchmarks)."""
    return {TABLE: {str(DOC_ID): make_record(attributes, revision)}}


def is_newer(schema_version: int) -> bool:
    """True when a record was written by a newer version of this code."""
    return schema_version > CURRENT_SCHEMA


def migrate(where: str, version: int, attributes: dict[str, Any]) -> dict[str, Any]:
    """Bring ``attributes`` from schema ``version`` up to ``CURRENT_SCHEMA``.

    ``where`` names the record in messages (a file path or hashed key, never a user id).
    """
    if version > CURRENT_SCHEMA:
        raise SchemaError(
            f"user record {where} has schema {version}, newer than this code's "
            f"{CURRENT_SCHEMA}; upgrade the service (the file was left untouched)"
        )
    while version < CURRENT_SCHEMA:
        step = MIGRATIONS.get(version)
        if step is None:
            raise SchemaError(f"no migration from schema {version} for user record {where}")
        migrated = step(attributes)
        if not isinstance(migrated, dict):
            raise SchemaError(f"migration from schema {version} did not return a dict")
        attributes = migrated
        version += 1
    return attributes


def storable(attributes: dict[str, Any]) -> dict[str, Any]:
    """``attributes`` without the store's own keys (those starting with ``_``)."""
    return {k: v for k, v in attributes.items() if not (isinstance(k, str) and k.startswith("_"))}


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON; ``StoreError`` for values JSON cannot hold."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except (TypeError, ValueError) as exc:
        # The message names a type or "out of range float", never a value.
        raise StoreError(f"attributes are not JSON-serialisable: {exc}") from None
