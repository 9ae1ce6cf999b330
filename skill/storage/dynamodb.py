"""The DynamoDB back end: ask-sdk's official ``DynamoDbAdapter`` (``MAMA_STORE=dynamodb``).

Optional extra ``mama-moments[dynamodb]``, for hosts without a durable disk such as AWS Lambda.
Differences from the TinyDB store that matter:

* **Last writer wins.** The adapter does a plain ``put_item``: two requests for the same user
  that overlap both succeed and the later save replaces the earlier one. There is no revision
  and no ``StaleWriteError``. One person's requests rarely overlap, so this is accepted; the
  records hold only counters, timestamps and heard-strategy ids.
* The partition key is ``sha256(userId)`` (:mod:`skill.storage.keys`), the same name the
  TinyDB store gives a user's file, so no raw Alexa user id is ever stored or logged as a key.
* DynamoDB hands numbers back as ``Decimal`` and refuses ``float``; :class:`DynamoDbStore`
  converts both ways so handlers see the same plain JSON types as with TinyDB.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.config import Config, ConfigError
from skill.storage.errors import StoreError
from skill.storage.keys import hashed_user_key

if TYPE_CHECKING:
    from ask_sdk_model import RequestEnvelope

#: Item layout in the DynamoDB table: ``{"id": sha256(userId), "attributes": {...}}``.
PARTITION_KEY = "id"
ATTRIBUTES_FIELD = "attributes"


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


class DynamoDbStore(AbstractPersistenceAdapter):
    """ask-sdk's ``DynamoDbAdapter`` with JSON-faithful types and the store's key rules.

    Keys starting with ``_`` belong to the store (see docs/ARCHITECTURE.md) and are not saved,
    as with TinyDB. No ``"_revision"`` is added on load: this back end is last-writer-wins.
    """

    def __init__(self, inner: AbstractPersistenceAdapter) -> None:
        self.inner = inner

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        """The user's attributes (``{}`` for a new user)."""
        loaded = _from_dynamodb(self.inner.get_attributes(request_envelope=request_envelope))
        return loaded if isinstance(loaded, dict) else {}

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        """Replace the user's item (last writer wins)."""
        clean = {
            k: v for k, v in attributes.items() if not (isinstance(k, str) and k.startswith("_"))
        }
        self.inner.save_attributes(
            request_envelope=request_envelope, attributes=_to_dynamodb(clean)
        )

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        """Delete the user's item; fine for unknown users and when repeated."""
        self.inner.delete_attributes(request_envelope=request_envelope)


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


def dynamodb_adapter(config: Config) -> DynamoDbStore:
    """The DynamoDB-backed adapter; creates the table if it does not exist yet."""
    _check_dynamodb_settings(config)
    try:
        import boto3
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

    resource = boto3.resource(
        "dynamodb",
        endpoint_url=config.dynamodb_endpoint_url,
        region_name=config.aws_region,
    )
    inner = DynamoDbAdapter(
        table_name=config.dynamodb_table,
        partition_key_name=PARTITION_KEY,
        attribute_name=ATTRIBUTES_FIELD,
        create_table=True,
        partition_keygen=hashed_user_key,
        dynamodb_resource=resource,
    )
    return DynamoDbStore(inner)
