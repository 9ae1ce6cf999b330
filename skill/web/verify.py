"""Alexa request verification: the signing certificate, the Signature-256 header and the timestamp.

Written on ``cryptography`` because the ASK SDK webservice verifier does not import here (see
docs/ARCHITECTURE.md). Every failure raises :class:`VerificationError`, whose message is a short
public reason the endpoint may return in a 400 body.
"""

from __future__ import annotations

import base64
import functools
import logging
import posixpath
import re
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

# X.509 (~55 ms), requests and the CA bundle load on the first chain validation (it fetches the
# certificate over the network anyway), never at start-up or with signature checks off.
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509 import verification as x509v

__all__ = [
    "ECHO_API_DNS_NAME",
    "MAX_CERT_BYTES",
    "SKILL_EVENT_TOLERANCE_SECONDS",
    "TIMESTAMP_TOLERANCE_SECONDS",
    "SignatureVerifier",
    "VerificationError",
    "canonical_cert_url",
    "fetch_https",
    "tolerance_for",
    "verify_timestamp",
]

ECHO_API_DNS_NAME = "echo-api.amazon.com"
CERT_HOST = "s3.amazonaws.com"
CERT_PATH_PREFIX = "/echo.api/"
MAX_CERT_BYTES = 64 * 1024
TIMESTAMP_TOLERANCE_SECONDS = 150
SKILL_EVENT_TOLERANCE_SECONDS = 3600

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)
_log = logging.getLogger(__name__)


class VerificationError(Exception):
    """Raised when a request fails a check; str(exc) is a short public reason, safe to return in a
    400 JSON body (no secrets, no stack)."""


# --- certificate URL ------------------------------------------------------------------------


# Pure, and Alexa names the same few URLs on every request: checked once each (errors are not
# cached, so a bad URL is refused every time).
@functools.lru_cache(maxsize=64)
def canonical_cert_url(cert_url: str) -> str:
    """Check a SignatureCertChainUrl against Alexa's rules; return the normalised URL to fetch."""
    try:
        parts = urlsplit(cert_url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise VerificationError("certificate URL is malformed") from None
    if parts.scheme.lower() != "https":
        raise VerificationError("certificate URL must use https")
    # A naive host check lets "https://user@s3.amazonaws.com/..." through; refuse any userinfo.
    if "@" in parts.netloc or (parts.hostname or "").lower() != CERT_HOST:
        raise VerificationError("certificate URL host must be s3.amazonaws.com")
    if port not in (None, 443):
        raise VerificationError("certificate URL port must be 443")
    # Decode first so "%2e%2e" cannot smuggle a ".." segment past the normalisation.
    path = posixpath.normpath(unquote(parts.path)) if parts.path else ""
    if not path.startswith(CERT_PATH_PREFIX):
        raise VerificationError("certificate URL path must start with /echo.api/")
    # Fetch exactly what was checked: fixed scheme and host, normalised path, no fragment.
    query = f"?{quote(parts.query, safe='=&%+')}" if parts.query else ""
    return f"https://{CERT_HOST}{quote(path)}{query}"


# --- fetching -------------------------------------------------------------------------------


def fetch_https(url: str, *, timeout: float, max_bytes: int = MAX_CERT_BYTES) -> bytes:
    """GET an https URL: no redirects, a per-read timeout, an overall deadline and a size cap."""
    if urlsplit(url).scheme != "https":
        raise VerificationError("certificate URL must use https")
    import requests  # lazy: see the imports above

    deadline = time.monotonic() + timeout
    with requests.get(url, timeout=timeout, allow_redirects=False, stream=True) as response:
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code}")
        data = bytearray()
        for chunk in response.iter_content(chunk_size=8192):
            data += chunk
            if len(data) > max_bytes:
                raise OSError("certificate document too large")
            # requests' timeout is per socket operation; a slow drip could otherwise hold a thread.
            if time.monotonic() > deadline:
                raise TimeoutError("certificate download too slow")
    return bytes(data)


# --- certificate chain ----------------------------------------------------------------------


@dataclass(frozen=True)
class _TrustedKey:
    """A validated leaf's public key and the window in which it may be used."""

    key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime

    def usable_at(self, now: datetime) -> bool:
        return self.not_before <= now <= self.not_after


def _load_chain(pem: bytes) -> list[x509.Certificate]:
    """Parse the PEM document (leaf first, then intermediates)."""
    from cryptography import x509  # lazy: see the imports above

    try:
        return x509.load_pem_x509_certificates(pem)
    except (ValueError, TypeError):
        raise VerificationError("certificate chain is not valid PEM") from None


def _has_echo_api_san(leaf: x509.Certificate) -> bool:
    from cryptography import x509  # lazy: see the imports above

    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return ECHO_API_DNS_NAME in san.get_values_for_type(x509.DNSName)


def _validate_chain(pem: bytes, store: x509v.Store, now: datetime) -> _TrustedKey:
    """Validate dates, SAN and the chain to a trusted root; return the leaf's RSA key."""
    from cryptography import x509  # lazy: see the imports above
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509 import verification as x509v

    leaf, *intermediates = _load_chain(pem)
    not_before, not_after = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    # The policy verifier below is the authority; these pre-checks only give a clearer reason.
    if now > not_after:
        raise VerificationError("signing certificate has expired")
    if now < not_before:
        raise VerificationError("signing certificate is not yet valid")
    if not _has_echo_api_san(leaf):
        raise VerificationError("signing certificate is not for echo-api.amazon.com")
    verifier = (
        x509v.PolicyBuilder()
        .store(store)
        .time(now)
        .build_server_verifier(x509.DNSName(ECHO_API_DNS_NAME))
    )
    try:
        verifier.verify(leaf, intermediates)
    except (x509v.VerificationError, ValueError):
        raise VerificationError("signing certificate is not trusted") from None
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationError("signing certificate key is not RSA")
    return _TrustedKey(key, not_before, not_after)


def _certifi_roots() -> list[x509.Certificate]:
    """certifi's CA bundle, skipping any root this version of cryptography cannot load."""
    import certifi  # lazy: see the imports above
    from cryptography import x509
    from cryptography.utils import CryptographyDeprecationWarning

    with open(certifi.where(), "rb") as bundle:
        blocks = _PEM_CERT.findall(bundle.read())
    roots = []
    # A few old roots (e.g. Starfield G2) have serial number 0: a deprecation warning today, an
    # error in a later cryptography. Skip them rather than fail; Amazon's chains end at Amazon
    # Root CA 1, which loads fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in blocks:
            try:
                roots.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    return roots


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- signature ------------------------------------------------------------------------------


def _decode_signature(signature: str) -> bytes:
    try:
        return base64.b64decode(signature, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII str
        raise VerificationError("Signature-256 header is not valid base64") from None


class SignatureVerifier:
    """Checks SignatureCertChainUrl + Signature-256; caches each validated chain per URL.

    Thread-safe. Only successful validations are cached, each until its leaf's notAfter.
    """

    def __init__(
        self,
        *,
        trust_roots: Sequence[x509.Certificate] | None = None,
        fetch_cert: Callable[[str], bytes] | None = None,
        clock: Callable[[], datetime] | None = None,
        fetch_timeout: float = 3.0,
    ) -> None:
        """fetch_timeout applies to the default fetcher only; clock must return aware datetimes."""
        self._roots = list(trust_roots) if trust_roots is not None else None
        self._store: x509v.Store | None = None  # built on the first validation (lazy imports)
        self._fetch = fetch_cert or partial(fetch_https, timeout=fetch_timeout)
        self._clock = clock or _utc_now
        self._cache: dict[str, _TrustedKey] = {}
        self._lock = threading.Lock()

    def verify(self, cert_url: str | None, signature: str | None, body: bytes) -> None:
        """Header SignatureCertChainUrl, header Signature-256 (base64 RSA-SHA256 over the raw body
        bytes)."""
        if not cert_url:
            raise VerificationError("missing SignatureCertChainUrl header")
        if not signature:
            raise VerificationError("missing Signature-256 header")
        url = canonical_cert_url(cert_url)
        raw_signature = _decode_signature(signature)
        key = self._trusted_key(url)
        pad, hash_algorithm, invalid = self._scheme
        try:
            key.verify(raw_signature, body, pad, hash_algorithm)
        except (invalid, ValueError, TypeError):
            raise VerificationError("signature does not match the request body") from None

    @cached_property
    def _scheme(self) -> tuple[padding.AsymmetricPadding, hashes.HashAlgorithm, type[Exception]]:
        """PKCS #1 v1.5 with SHA-256, and the error a mismatch raises: made once, on the first
        check rather than at import (see the imports above); both objects are stateless."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.hashes import SHA256

        return padding.PKCS1v15(), SHA256(), InvalidSignature

    def _trusted_key(self, url: str) -> rsa.RSAPublicKey:
        """The cached key for url if still valid now, else fetch and validate the chain."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and not cached.usable_at(now):
                del self._cache[url]
                cached = None
        if cached is not None:
            return cached.key
        # Fetch outside the lock so one slow download does not stall every other request.
        trusted = _validate_chain(self._fetch_pem(url), self._trust_store(), now)
        with self._lock:
            self._cache[url] = trusted
        return trusted.key

    def _trust_store(self) -> x509v.Store:
        """The trusted roots, parsed on the first chain validation rather than at start-up."""
        with self._lock:
            if self._store is None:
                from cryptography.x509 import verification as x509v  # lazy: see the imports

                roots = self._roots if self._roots is not None else _certifi_roots()
                self._store = x509v.Store(roots)
            return self._store

    def _fetch_pem(self, url: str) -> bytes:
        try:
            return self._fetch(url)
        except Exception as exc:  # any fetcher failure (network, HTTP, size, timeout) is a 400
            _log.warning("could not fetch Alexa signing certificate %s: %r", url, exc)
            raise VerificationError("signing certificate could not be fetched") from None


# --- timestamp ------------------------------------------------------------------------------


def tolerance_for(request_type: object) -> int:
    """Allowed timestamp skew in seconds: one hour for skill events, else 150 s."""
    if isinstance(request_type, str) and request_type.startswith("AlexaSkillEvent."):
        return SKILL_EVENT_TOLERANCE_SECONDS
    return TIMESTAMP_TOLERANCE_SECONDS


def verify_timestamp(timestamp: object, now: datetime, *, tolerance_seconds: int) -> None:
    """Check an ISO-8601 request timestamp (e.g. "2026-11-25T03:00:00Z") is within tolerance of
    now, in either direction."""
    if not isinstance(timestamp, str):
        raise VerificationError("request timestamp must be a string")
    try:
        stamp = datetime.fromisoformat(timestamp)
    except ValueError:
        raise VerificationError("request timestamp is not an ISO-8601 date-time") from None
    if stamp.utcoffset() is None:
        raise VerificationError("request timestamp has no timezone")
    skew = (now - stamp).total_seconds()
    if skew > tolerance_seconds:
        raise VerificationError("request timestamp is too old")
    if -skew > tolerance_seconds:
        raise VerificationError("request timestamp is in the future")
