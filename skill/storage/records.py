"""The stored envelope of one user and its migrations; pure (bytes and dicts in and out).

A user file holds TinyDB's layout around one record::

    {"user": {"1": {"schema_version": 1, "revision": R, "attributes": {...}}}}

``attributes`` is what handlers see; keys starting with ``_`` belong to the store and are
never written (``"_revision"`` carries the revision between load and save).

With ``MAMA_DURABILITY`` ``normal`` or ``off`` the file is a *twin*: two copies of that
layout, each in its own pages and padded with spaces, each with a checksum and a sequence number::

    {"_twin":"<crc32: 8 hex><seq: 16 hex>","tables":{"user":...}}      (then spaces, twice)

A write overwrites the older copy in place (:class:`Twin`), so a write cut short (a killed
writer, a power cut, a reader that looks mid-write) leaves at most that copy torn; readers take
the newest copy whose checksum holds (:func:`parse_file`). Files from before the twin layout may
start ``{"_check":"<crc32>",...}`` (one copy, checksummed): they still read.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

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
    """The tables in a user file's bytes; ``DamagedFile`` when it holds none (see
    :func:`parse_file`)."""
    return parse_file(raw)[0]


def parse_file(raw: bytes) -> tuple[dict[str, Any], Twin | None]:
    """The tables in a user file's bytes, and where its twin copies are (``None``: one copy).

    An empty file is damaged: TinyDB would silently treat it as an empty database.
    """
    if raw.startswith(TWIN_MARKER):
        return _parse_twin(raw)
    if not raw.strip():
        raise DamagedFile("empty file")
    checked = raw.startswith(CHECK_MARKER)
    if checked and not _checksum_matches(raw):
        raise DamagedFile("checksum mismatch (a write caught half done, or a torn file)")
    data = _object(raw)
    if checked:
        del data[CHECK_KEY]
    return data, None


def _object(raw: bytes) -> dict[str, Any]:
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
    return data


class Twin(NamedTuple):
    """Where a twin file's copies are: ``half`` bytes each; copy ``newest`` (0 or 1) holds
    sequence number ``seq``."""

    half: int
    newest: int
    seq: int

    def next_write(self, tables: dict[str, Any]) -> tuple[int, bytes] | None:
        """(offset, bytes) that overwrite the older copy with ``tables``; ``None`` when they
        do not fit in a copy, and the file must be written anew (:func:`twin_file`)."""
        copy = twin_copy(tables, self.seq + 1)
        if len(copy) > self.half:
            return None
        return (1 - self.newest) * self.half, copy.ljust(self.half, b" ")

    def after_write(self) -> Twin:
        """The file once :meth:`next_write`'s bytes are on it: the other copy is the newest."""
        return Twin(self.half, 1 - self.newest, self.seq + 1)


TWIN_KEY = "_twin"
#: How each copy of a twin file starts; 8 + 16 hex digits and ``",`` follow.
TWIN_MARKER = b'{"' + TWIN_KEY.encode() + b'":"'
_TWIN_CRC_END = len(TWIN_MARKER) + 8
_TWIN_SEQ_END = _TWIN_CRC_END + 16
#: Copies are whole multiples of this (the page and disk block size of nearly every machine).
TWIN_BLOCK = 4096


def twin_copy(tables: dict[str, Any], seq: int) -> bytes:
    """One copy of a twin file: ``tables`` at sequence number ``seq``, unpadded."""
    rest = b'%016x","tables":%s}' % (seq, dumps(tables))
    return b"%s%08x%s" % (TWIN_MARKER, zlib.crc32(rest), rest)


def twin_file(tables: dict[str, Any], seq: int = 1) -> tuple[bytes, Twin]:
    """A new twin file with ``tables`` in both copies, and its :class:`Twin`.

    Each copy gets whole pages with a quarter to spare, so the record can grow a while before
    the file is written anew, and writing one copy never rewrites a page of the other.
    """
    copy = twin_copy(tables, seq)
    half = -(-(len(copy) + len(copy) // 4) // TWIN_BLOCK) * TWIN_BLOCK
    padded = copy.ljust(half, b" ")
    return padded + padded, Twin(half, 0, seq)


def _whole_copy(half: bytes) -> tuple[int, bytes] | None:
    """(sequence number, copy without its padding) of one half; ``None`` unless the checksum
    holds."""
    # A copy ends with its only "}" past the tables; the padding after it is spaces. (rfind is
    # one memrchr; rstrip of a page of spaces costs more than the JSON parse.)
    copy = half[: half.rfind(b"}") + 1]
    if not copy.startswith(TWIN_MARKER) or copy[_TWIN_SEQ_END : _TWIN_SEQ_END + 2] != b'",':
        return None
    try:
        expected = int(copy[len(TWIN_MARKER) : _TWIN_CRC_END], 16)
        seq = int(copy[_TWIN_CRC_END:_TWIN_SEQ_END], 16)
    except ValueError:
        return None
    return (seq, copy) if zlib.crc32(copy[_TWIN_CRC_END:]) == expected else None


def _parse_twin(raw: bytes) -> tuple[dict[str, Any], Twin]:
    half = len(raw) // 2
    first, second = _whole_copy(raw[:half]), _whole_copy(raw[half:])
    if first is None and second is None:
        raise DamagedFile("checksum mismatch in both copies (a torn file)")
    # The newest whole copy; on a tie (a file just written anew) the first.
    newest = 1 if first is None or (second is not None and second[0] > first[0]) else 0
    seq, copy = (first, second)[newest]  # type: ignore[misc]
    data = _object(copy)
    tables = data.get("tables")
    if set(data) != {TWIN_KEY, "tables"} or not isinstance(tables, dict):
        raise DamagedFile("a twin copy holds more than its tables")
    return tables, Twin(half, newest, seq)


CHECK_KEY = "_check"
#: How a checksummed file from before the twin layout starts: 8 hex digits, ``",``, the rest.
CHECK_MARKER = b'{"' + CHECK_KEY.encode() + b'":"'
_CHECK_END = len(CHECK_MARKER) + 8


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
