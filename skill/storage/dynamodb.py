"""The DynamoDB back end (``MAMA_STORE=dynamodb``): versioned items, the TinyDB store's guarantees.

Optional extra ``mama-moments[dynamodb]``, for AWS Lambda and for several hosts sharing one
table. One item per user::

    {"id": sha256(userId), "schema_version": 1, "revision": R, "attributes": {...}}

the same envelope as a TinyDB user file. What it promises, as the TinyDB store does:

* **No lost write.** Every save is a conditional ``PutItem`` (``ConditionExpression`` on
  ``revision``): a save based on an older revision writes nothing and raises
  ``StaleWriteError``, and the runner re-runs the request on fresh state with its bounded,
  backed-off retries (``skill/web/runner.py``), exactly as for TinyDB.
* The partition key is ``sha256(userId)`` (:mod:`skill.storage.keys`), the name the TinyDB
  store gives a user's file: no raw Alexa user id is ever stored, logged or put in a message.
* Handlers see plain JSON types: DynamoDB's ``Decimal`` comes back as ``int`` or ``float``.

ask-sdk's ``DynamoDbAdapter`` is kept for what it does well (creating the table, deleting an
item); reads and writes are ours because it drops the revision on read and cannot make a write
conditional (docs/ARCHITECTURE.md, "The DynamoDB store"). boto3 is imported only when this
store is chosen.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import suppress
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

from skill.config import Config, ConfigError
from skill.domain.user import DamagedRecord, normalise
from skill.storage import records
from skill.storage.errors import StaleWriteError, StoreError
from skill.storage.keys import hashed_user_key, user_hash, user_id_of

if TYPE_CHECKING:
    from ask_sdk_model import RequestEnvelope

logger = logging.getLogger(__name__)

#: Item layout in the DynamoDB table (see the module docstring).
PARTITION_KEY = "id"
ATTRIBUTES_FIELD = "attributes"
REVISION_FIELD = "revision"
SCHEMA_FIELD = "schema_version"
REVISION_KEY = records.REVISION_KEY
#: A damaged item is kept as evidence under this prefix + its key (the table's ``corrupt/``);
#: scans, counts and migrations leave these out, and "forget me" deletes them too.
EVIDENCE_PREFIX = "corrupt#"
#: How long a start waits for a table that is being created (DynamoDB takes seconds).
TABLE_ACTIVE_TIMEOUT_S = 60.0
#: Most keys one BatchGetItem may ask for (DynamoDB's limit).
BATCH_GET_LIMIT = 100
#: Checks and repairs attributes before they are saved; raises ``DamagedRecord``.
Validator = Callable[[dict[str, Any]], dict[str, Any]]


def _from_dynamodb(value: Any) -> Any:
    """DynamoDB's types back to plain JSON ones (``Decimal`` → ``int`` or ``float``)."""
    if isinstance(value, Decimal):
        # Handlers check ``isinstance(x, int)``; a Decimal would silently fail those checks.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _from_dynamodb(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_from_dynamodb(v) for v in value]
    return value


def _to_dynamodb(value: Any) -> Any:
    """Plain JSON types to what boto3 accepts (``float`` → ``Decimal``; tuples → lists)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            # Same rule as the TinyDB store: the record must stay valid JSON.
            raise StoreError("attributes are not JSON-serialisable: out of range float")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: _to_dynamodb(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamodb(v) for v in value]
    return value


def _error_code(exc: Exception) -> str:
    """botocore's error code (``ConditionalCheckFailedException``...) or the exception's type.

    Only the code goes into messages: DynamoDB's own texts may quote keys or values.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(exc).__name__


class DynamoDbStore(AbstractPersistenceAdapter):
    """Versioned user items in one DynamoDB table, behind ask-sdk-core's persistence interface.

    ``inner`` is ask-sdk's ``DynamoDbAdapter`` (it created the table and deletes items);
    ``client``, a plain boto3 DynamoDB client (thread-safe, unlike resources), does the
    versioned reads and writes. (Not ``inner``'s resource's client: a resource re-serialises
    every key and item passed to its client.) Keys
    starting with ``_`` belong to the store and are never saved; ``"_revision"`` carries the
    revision from load to save. ``validator`` (default: the typed user record's parse) checks
    attributes before they are saved, so nothing is stored that would not load back.
    """

    def __init__(self, inner: Any, client: Any, *, validator: Validator = normalise) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self.inner = inner
        self.table_name: str = inner.table_name
        self.client = client
        self.validator = validator
        self._serialize = TypeSerializer().serialize
        self._deserialize = TypeDeserializer().deserialize

    # ask-sdk-core interface (argument names matter: the SDK passes them by keyword)

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        """The user's attributes plus ``"_revision"`` (0 for a new user)."""
        return self.load(user_id_of(request_envelope))

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        """Save if ``attributes["_revision"]`` is current, else raise ``StaleWriteError``."""
        self.save(user_id_of(request_envelope), attributes)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        """Delete the user's item; fine for unknown users and when repeated."""
        user_id_of(request_envelope)  # a request without a user is refused, not deleted
        self.inner.delete_attributes(request_envelope=request_envelope)

    # by user id

    def load(self, user_id: str) -> dict[str, Any]:
        """The user's attributes plus ``"_revision"``; ``{"_revision": 0}`` for a new user.

        A damaged item (unreadable, or attributes the typed record refuses) never locks her
        out: it is kept as evidence and replaced by a fresh record, and the answer then also
        holds ``"_fresh_start"`` (the evidence's key), as the TinyDB store does.
        """
        key = user_hash(user_id)
        item = self._get_item(key)
        if item is None:
            return {REVISION_KEY: 0}
        try:
            record = self._record(item)
            migrated = records.migrate(key, record.schema_version, record.attributes)
            attributes = self.validator(migrated)
        except (_DamagedItem, DamagedRecord) as exc:
            return self._start_fresh(key, item, exc.reason)
        attributes[REVISION_KEY] = record.revision
        return attributes

    def save(self, user_id: str, attributes: dict[str, Any]) -> None:
        """Store ``attributes`` (keys starting with ``_`` are not stored) at revision + 1.

        Raises ``StaleWriteError`` (writing nothing) if the stored revision is not
        ``attributes["_revision"]`` (missing means 0: "I expect a new user"). On success
        ``attributes["_revision"]`` is updated, so a second save in one request works.
        """
        expected = attributes.get(REVISION_KEY, 0)
        if not isinstance(expected, int) or isinstance(expected, bool) or expected < 0:
            raise StoreError(f"{REVISION_KEY} must be a non-negative int")
        try:
            clean = self.validator(records.storable(attributes))
        except DamagedRecord as exc:
            raise StoreError(f"attributes would not load back: {exc.reason}") from None
        record = records.StoredRecord(records.CURRENT_SCHEMA, expected + 1, clean)
        self.write(user_hash(user_id), record, expected=expected)
        attributes[REVISION_KEY] = expected + 1

    def delete(self, user_id: str) -> None:
        """Delete the user's item and any evidence of a damaged one; idempotent."""
        key = user_hash(user_id)
        self.delete_key(key)
        self.delete_key(EVIDENCE_PREFIX + key)

    # by hashed key (the migration and the tools; never a raw user id)

    def read(self, key: str) -> records.StoredRecord | None:
        """The stored record under ``key``, or ``None`` when there is none."""
        item = self._get_item(key)
        if item is None:
            return None
        try:
            return self._record(item)
        except _DamagedItem as exc:
            raise StoreError(f"DynamoDB item is damaged: {exc.reason}") from None

    def _get_item(self, key: str) -> dict[str, Any] | None:
        try:
            answer = self.client.get_item(
                TableName=self.table_name,
                Key={PARTITION_KEY: {"S": key}},
                ConsistentRead=True,
            )
        except Exception as exc:  # botocore's ClientError and connection errors
            raise StoreError(f"DynamoDB GetItem failed: {_error_code(exc)}") from None
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def _start_fresh(self, key: str, item: Mapping[str, Any], reason: str) -> dict[str, Any]:
        """Keep the damaged ``item`` as evidence, then replace it with a fresh record, but only
        if it is still the same damaged item (a racing request may have repaired it first:
        then the request is re-run on what that one wrote)."""
        evidence = EVIDENCE_PREFIX + key
        kept = {
            PARTITION_KEY: {"S": evidence},
            "item": {"M": {k: v for k, v in item.items() if k != PARTITION_KEY}},
            "reason": {"S": reason[:200]},
            "kept_at": {"N": str(int(time.time()))},
        }
        try:
            self.client.put_item(TableName=self.table_name, Item=kept)
        except Exception as exc:
            raise StoreError(f"DynamoDB PutItem failed: {_error_code(exc)}") from None
        damaged_revision = item.get(REVISION_FIELD)
        revision = _revision_after(damaged_revision)
        fresh = {
            PARTITION_KEY: {"S": key},
            SCHEMA_FIELD: {"N": str(records.CURRENT_SCHEMA)},
            REVISION_FIELD: {"N": str(revision)},
            ATTRIBUTES_FIELD: {"M": {}},
        }
        if damaged_revision is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(#rev)"}
        else:
            condition = {
                "ConditionExpression": "#rev = :damaged",
                "ExpressionAttributeValues": {":damaged": damaged_revision},
            }
        condition["ExpressionAttributeNames"] = {"#rev": REVISION_FIELD}
        try:
            self.client.put_item(TableName=self.table_name, Item=fresh, **condition)
        except Exception as exc:
            code = _error_code(exc)
            if code == "ConditionalCheckFailedException":
                raise StaleWriteError(
                    "a damaged item changed while it was being replaced"
                ) from None
            raise StoreError(f"DynamoDB PutItem failed: {code}") from None
        # No user id: the hashed key's start is enough to find the evidence.
        logger.warning(
            "damaged DynamoDB item %s… (%s) kept as %s…; fresh record written",
            key[:12],
            reason,
            evidence[:20],
        )
        return {REVISION_KEY: revision, records.FRESH_START_KEY: evidence}

    def write(self, key: str, record: records.StoredRecord, *, expected: int | None) -> None:
        """Put ``record`` under ``key`` if the stored revision is ``expected``.

        ``expected=0`` means "no item, or a legacy item without a revision"; ``None`` writes
        whatever is there. ``StaleWriteError`` when the condition fails (nothing written).
        """
        item = {
            PARTITION_KEY: {"S": key},
            SCHEMA_FIELD: {"N": str(record.schema_version)},
            REVISION_FIELD: {"N": str(record.revision)},
            ATTRIBUTES_FIELD: self._serialize(_to_dynamodb(record.attributes)),
        }
        condition: dict[str, Any] = {}
        if expected == 0:
            condition = {
                "ConditionExpression": "attribute_not_exists(#rev)",
                "ExpressionAttributeNames": {"#rev": REVISION_FIELD},
            }
        elif expected is not None:
            condition = {
                "ConditionExpression": "#rev = :expected",
                "ExpressionAttributeNames": {"#rev": REVISION_FIELD},
                "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
            }
        try:
            self.client.put_item(TableName=self.table_name, Item=item, **condition)
        except Exception as exc:
            code = _error_code(exc)
            if code == "ConditionalCheckFailedException":
                raise StaleWriteError(
                    f"stale write: the item changed since revision {expected} was read"
                ) from None
            raise StoreError(f"DynamoDB PutItem failed: {code}") from None

    def delete_key(self, key: str) -> None:
        """Delete the item under ``key``; idempotent."""
        try:
            self.client.delete_item(TableName=self.table_name, Key={PARTITION_KEY: {"S": key}})
        except Exception as exc:
            raise StoreError(f"DynamoDB DeleteItem failed: {_error_code(exc)}") from None

    def read_many(self, keys: Iterable[str]) -> dict[str, records.StoredRecord]:
        """The readable stored records of ``keys`` that exist (BatchGetItem, 100 keys a call)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, records.StoredRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = wanted[start : start + BATCH_GET_LIMIT]
            pending: dict[str, Any] | None = {
                self.table_name: {
                    "Keys": [{PARTITION_KEY: {"S": k}} for k in chunk],
                    "ConsistentRead": True,
                }
            }
            tries = 0
            while pending:
                try:
                    answer = self.client.batch_get_item(RequestItems=pending)
                except Exception as exc:
                    raise StoreError(f"DynamoDB BatchGetItem failed: {_error_code(exc)}") from None
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    with suppress(_DamagedItem):  # an unreadable item counts as none
                        found[item[PARTITION_KEY]["S"]] = self._record(item)
                # Throttled keys come back as UnprocessedKeys: ask again, backing off.
                pending = answer.get("UnprocessedKeys") or None
                tries += 1
                if pending:
                    time.sleep(min(1.0, 0.01 * 2**tries))
        return found

    def scan(self, page_size: int = BATCH_GET_LIMIT) -> Iterator[list[tuple[str, Any]]]:
        """Every item, a page at a time: ``[(key, StoredRecord or a reason it is damaged)]``."""
        for answer in self._scan_pages(Limit=page_size):
            page: list[tuple[str, Any]] = []
            for item in answer.get("Items", []):
                try:
                    page.append((item[PARTITION_KEY]["S"], self._record(item)))
                except _DamagedItem as exc:
                    page.append((item[PARTITION_KEY]["S"], exc.reason))
            yield page

    def count(self) -> int:
        """How many items the table holds (a counting scan: DynamoDB's ItemCount lags hours)."""
        return sum(int(answer.get("Count", 0)) for answer in self._scan_pages(Select="COUNT"))

    def _scan_pages(self, **options: Any) -> Iterator[dict[str, Any]]:
        """Scan's answers over the users (never the evidence), following LastEvaluatedKey."""
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {"TableName": self.table_name, **options, **_USERS_ONLY}
            if start is not None:
                kwargs["ExclusiveStartKey"] = start
            try:
                answer: dict[str, Any] = self.client.scan(ConsistentRead=True, **kwargs)
            except Exception as exc:
                raise StoreError(f"DynamoDB Scan failed: {_error_code(exc)}") from None
            yield answer
            start = answer.get("LastEvaluatedKey")
            if not start:
                return

    def ensure_ready(self) -> None:
        """The table is reachable and ACTIVE; ``StoreError`` saying why when it is not.

        Cheap (one DescribeTable): suitable for a readiness probe.
        """
        status = self._table_status()
        if status != "ACTIVE":
            raise StoreError(f"DynamoDB table {self.table_name} is {status}, not ACTIVE")

    def wait_until_active(self, timeout: float = TABLE_ACTIVE_TIMEOUT_S) -> None:
        """Wait for a table that is being created (boto3's own waiter polls every 20 s)."""
        deadline = time.monotonic() + timeout
        pause = 0.05
        while True:
            try:
                status = self._table_status()
            except StoreError:
                status = "missing"  # just created: DescribeTable may not see it yet
            if status == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise StoreError(
                    f"DynamoDB table {self.table_name} is {status} after {timeout:.0f} s"
                )
            time.sleep(pause)
            pause = min(1.0, pause * 2)

    # internals

    def _table_status(self) -> str:
        try:
            answer = self.client.describe_table(TableName=self.table_name)
        except Exception as exc:
            raise StoreError(
                f"DynamoDB table {self.table_name} is not reachable: {_error_code(exc)}"
            ) from None
        return str(answer.get("Table", {}).get("TableStatus", "UNKNOWN"))

    def _record(self, item: Mapping[str, Any]) -> records.StoredRecord:
        """A stored item as a record; items written before revisions count as revision 0."""
        try:
            plain = {k: _from_dynamodb(self._deserialize(v)) for k, v in item.items()}
        except (TypeError, ValueError) as exc:
            raise _DamagedItem(f"not readable: {type(exc).__name__}") from None
        attributes = plain.get(ATTRIBUTES_FIELD, {})
        revision = plain.get(REVISION_FIELD, 0)
        schema = plain.get(SCHEMA_FIELD, records.CURRENT_SCHEMA)
        for name, value in ((REVISION_FIELD, revision), (SCHEMA_FIELD, schema)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _DamagedItem(f"a bad {name!r}")
        if not isinstance(attributes, dict):
            raise _DamagedItem(f"{ATTRIBUTES_FIELD!r} is not a map")
        return records.StoredRecord(schema, revision, attributes)


class _DamagedItem(Exception):
    """An item this store cannot read as a record; ``reason`` says why (no user data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: Scans and counts see users only, never the evidence of damaged items.
_USERS_ONLY: dict[str, Any] = {
    "FilterExpression": "NOT begins_with(#key, :evidence)",
    "ExpressionAttributeNames": {"#key": PARTITION_KEY},
    "ExpressionAttributeValues": {":evidence": {"S": EVIDENCE_PREFIX}},
}


def _revision_after(damaged: Any) -> int:
    """The fresh record's revision: one past a readable damaged revision, else 1."""
    try:
        value = int(damaged["N"]) if isinstance(damaged, Mapping) else 0
    except (KeyError, TypeError, ValueError):
        value = 0
    return max(value, 0) + 1


def _check_dynamodb_settings(config: Config) -> None:
    if not config.dynamodb_table.strip():
        raise ConfigError("MAMA_DYNAMODB_TABLE must not be empty")
    if not config.aws_region.strip():
        raise ConfigError("AWS_REGION must not be empty")
    url = config.dynamodb_endpoint_url
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(f"MAMA_DYNAMODB_ENDPOINT_URL must be an http(s) URL; got {url!r}")


def dynamodb_adapter(
    config: Config,
    *,
    validator: Validator = normalise,
    create_table: bool = True,
    check: bool = True,
) -> DynamoDbStore:
    """The DynamoDB-backed adapter: creates the table if missing (unless ``create_table`` is
    false, then a missing table is a ``StoreError``) and waits until it is ACTIVE.

    ``check=False`` (with ``create_table=False``) contacts nothing: the adapter of a worker that
    boots while the table is unreachable, which ``/readyz`` keeps asking about."""
    _check_dynamodb_settings(config)
    try:
        import boto3
        from botocore.config import Config as BotoConfig
        from botocore.exceptions import NoRegionError
    except ImportError:
        raise ConfigError(
            "MAMA_STORE=dynamodb needs the optional dependencies: "
            "pip install 'mama-moments[dynamodb]'"
        ) from None
    try:
        from ask_sdk_dynamodb.adapter import DynamoDbAdapter
    except NoRegionError:
        # ask-sdk-dynamodb builds a default boto3 resource at import time, which fails when
        # no region is configured in the environment. Give boto3's default session ours.
        boto3.setup_default_session(region_name=config.aws_region)
        from ask_sdk_dynamodb.adapter import DynamoDbAdapter
    except ImportError:
        raise ConfigError(
            "MAMA_STORE=dynamodb needs the optional dependencies: "
            "pip install 'mama-moments[dynamodb]'"
        ) from None

    session = boto3.session.Session(region_name=config.aws_region)
    where: dict[str, Any] = {
        "endpoint_url": config.dynamodb_endpoint_url,
        # boto3's defaults (60 s timeouts, legacy retries) would hold a worker for minutes
        # when the table is unreachable; Alexa gives a skill 8 s to answer.
        "config": BotoConfig(
            connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
        ),
    }
    resource = session.resource("dynamodb", **where)
    try:
        inner = DynamoDbAdapter(
            table_name=config.dynamodb_table,
            partition_key_name=PARTITION_KEY,
            attribute_name=ATTRIBUTES_FIELD,
            create_table=create_table,
            partition_keygen=hashed_user_key,
            dynamodb_resource=resource,
        )
    except PersistenceException as exc:  # its CreateTable call, when the table is unreachable
        raise StoreError(
            f"DynamoDB table {config.dynamodb_table} cannot be created: {exc}"
        ) from None
    store = DynamoDbStore(inner, session.client("dynamodb", **where), validator=validator)
    if not check:
        return store
    if create_table:
        store.wait_until_active()
    else:
        store.ensure_ready()
    return store
