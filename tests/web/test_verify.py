"""Alexa request verification, exercised for real against a locally generated PKI."""

from __future__ import annotations

import base64
import dataclasses
import http.server
import ipaddress
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from skill.web.verify import (
    SKILL_EVENT_TOLERANCE_SECONDS,
    TIMESTAMP_TOLERANCE_SECONDS,
    SignatureVerifier,
    VerificationError,
    canonical_cert_url,
    fetch_https,
    tolerance_for,
    verify_timestamp,
)
from tests.alexa_pki import BadChain, CertFetcher, bad_chain, test_pki
from tests.clock import START

BODY = b'{"version":"1.0","request":{"type":"LaunchRequest"}}'
URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"


def _verify(verifier: SignatureVerifier, headers: dict[str, str], body: bytes = BODY) -> None:
    verifier.verify(headers["SignatureCertChainUrl"], headers["Signature-256"], body)


def _leaf_not_after() -> datetime:
    return x509.load_pem_x509_certificates(test_pki().chain_pem)[0].not_valid_after_utc


# --- signature ------------------------------------------------------------------------------


def test_valid_signature_passes() -> None:
    pki = test_pki()
    _verify(pki.verifier(), pki.sign(BODY))


def test_tampered_body_fails() -> None:
    pki = test_pki()
    with pytest.raises(VerificationError, match="signature does not match"):
        _verify(pki.verifier(), pki.sign(BODY), BODY.replace(b"Launch", b"Lunch"))


def test_signature_of_other_body_fails() -> None:
    pki = test_pki()
    headers = pki.sign(BODY) | {"Signature-256": pki.sign(b"other")["Signature-256"]}
    with pytest.raises(VerificationError, match="signature does not match"):
        _verify(pki.verifier(), headers)


@pytest.mark.parametrize(
    ("cert_url", "signature", "reason"),
    [
        (None, "c2ln", "missing SignatureCertChainUrl"),
        ("", "c2ln", "missing SignatureCertChainUrl"),
        (URL, None, "missing Signature-256"),
        (URL, "", "missing Signature-256"),
        (URL, "not base64!", "not valid base64"),
        (URL, "c2ln\n", "not valid base64"),
        (URL, "é", "not valid base64"),
        (URL, "====", "not valid base64"),
    ],
)
def test_bad_headers_fail(cert_url: str | None, signature: str | None, reason: str) -> None:
    fetcher = test_pki().fetcher()
    with pytest.raises(VerificationError, match=reason):
        test_pki().verifier(fetcher=fetcher).verify(cert_url, signature, BODY)
    assert fetcher.count == 0


# --- certificate URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cert_url",
    [
        "http://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "ftp://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "https://notamazon.com/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com.evil.com/echo.api/echo-api-cert-test.pem",
        "https://user@s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "https://user:pw@s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com@evil.com/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com:8443/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com:abc/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/../evil",
        "https://s3.amazonaws.com/echo.api/%2e%2e/evil",
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/evil/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/",
        "https://s3.amazonaws.com",
        "https://[::1/echo.api/x",
        "s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
    ],
)
def test_bad_cert_url_fails_without_fetching(cert_url: str) -> None:
    pki = test_pki()
    fetcher = pki.fetcher()
    with pytest.raises(VerificationError, match="certificate URL"):
        _verify(pki.verifier(fetcher=fetcher), pki.sign(BODY) | {"SignatureCertChainUrl": cert_url})
    assert fetcher.count == 0


@pytest.mark.parametrize(
    "cert_url",
    [
        URL,
        "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert-test.pem",
        "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/./echo-api-cert-test.pem",
        "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem#fragment",
    ],
)
def test_allowed_cert_url_variants_fetch_the_normalised_url(cert_url: str) -> None:
    pki = test_pki()
    fetcher = pki.fetcher()
    _verify(pki.verifier(fetcher=fetcher), pki.sign(BODY) | {"SignatureCertChainUrl": cert_url})
    assert fetcher.calls == [URL]


def test_canonical_cert_url_keeps_query_and_quotes_path() -> None:
    got = canonical_cert_url("https://s3.amazonaws.com/echo.api/a b.pem?v=1")
    assert got == "https://s3.amazonaws.com/echo.api/a%20b.pem?v=1"


# --- certificate chain ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("expired", "has expired"),
        ("not_yet_valid", "not yet valid"),
        ("wrong_san", "not for echo-api.amazon.com"),
        ("untrusted", "not trusted"),
    ],
)
def test_bad_chain_fails(kind: BadChain, reason: str) -> None:
    pki = dataclasses.replace(test_pki(), chain_pem=bad_chain(kind))
    with pytest.raises(VerificationError, match=reason):
        _verify(pki.verifier(), pki.sign(BODY))


def test_leaf_without_intermediate_is_not_trusted() -> None:
    pki = test_pki()
    leaf_only = x509.load_pem_x509_certificates(pki.chain_pem)[0]
    pki = dataclasses.replace(pki, chain_pem=leaf_only.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(VerificationError, match="not trusted"):
        _verify(pki.verifier(), pki.sign(BODY))


def test_default_trust_roots_do_not_trust_the_test_root() -> None:
    pki = test_pki()
    verifier = SignatureVerifier(fetch_cert=pki.fetcher())
    with pytest.raises(VerificationError, match="not trusted"):
        _verify(verifier, pki.sign(BODY))


@pytest.mark.parametrize("document", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_garbage_pem_fails(document: bytes) -> None:
    pki = dataclasses.replace(test_pki(), chain_pem=document)
    with pytest.raises(VerificationError, match="not valid PEM"):
        _verify(pki.verifier(), pki.sign(BODY))


@pytest.mark.parametrize(
    "error", [OSError("404"), TimeoutError(), requests.Timeout(), RuntimeError("boom")]
)
def test_fetch_failure_fails(error: Exception) -> None:
    def fetch(url: str) -> bytes:
        raise error

    pki = test_pki()
    with pytest.raises(VerificationError, match="could not be fetched"):
        _verify(pki.verifier(fetcher=fetch), pki.sign(BODY))


def test_unknown_url_is_unfetchable() -> None:
    pki = test_pki()
    headers = pki.sign(BODY) | {"SignatureCertChainUrl": URL.replace("test.pem", "other.pem")}
    with pytest.raises(VerificationError, match="could not be fetched"):
        _verify(pki.verifier(), headers)


# --- cache ----------------------------------------------------------------------------------


def test_validated_chain_is_cached() -> None:
    pki = test_pki()
    fetcher = pki.fetcher()
    verifier = pki.verifier(fetcher=fetcher)
    _verify(verifier, pki.sign(BODY))
    _verify(verifier, pki.sign(b"second"), b"second")
    assert fetcher.count == 1


def test_cache_not_used_after_not_after() -> None:
    pki = test_pki()
    fetcher = pki.fetcher()
    now = [START]
    verifier = pki.verifier(clock=lambda: now[0], fetcher=fetcher)
    _verify(verifier, pki.sign(BODY))
    now[0] = _leaf_not_after() + timedelta(seconds=1)
    with pytest.raises(VerificationError, match="has expired"):
        _verify(verifier, pki.sign(BODY))
    assert fetcher.count == 2


def test_fetch_error_is_not_cached() -> None:
    pki = test_pki()
    fetcher = pki.fetcher()
    outcomes: list[Exception | None] = [OSError("flaky"), None]

    def flaky(url: str) -> bytes:
        if error := outcomes.pop(0):
            raise error
        return fetcher(url)

    verifier = pki.verifier(fetcher=flaky)
    with pytest.raises(VerificationError, match="could not be fetched"):
        _verify(verifier, pki.sign(BODY))
    _verify(verifier, pki.sign(BODY))
    assert outcomes == []


def test_failed_validation_is_not_cached() -> None:
    pki = test_pki()
    fetcher = CertFetcher({pki.cert_url: bad_chain("untrusted")})
    verifier = pki.verifier(fetcher=fetcher)
    with pytest.raises(VerificationError):
        _verify(verifier, pki.sign(BODY))
    fetcher.documents[pki.cert_url] = pki.chain_pem
    _verify(verifier, pki.sign(BODY))
    assert fetcher.count == 2


def test_concurrent_requests_share_one_verifier() -> None:
    pki = test_pki()
    verifier = pki.verifier()
    bodies = [f'{{"n":{n}}}'.encode() for n in range(64)]

    def check(body: bytes) -> bool:
        _verify(verifier, pki.sign(body), body)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(check, bodies))


# --- default fetcher against a local HTTPS server -------------------------------------------


class _CertHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/echo.api/cert.pem")
            self.end_headers()
            return
        if self.path == "/missing":
            self.send_error(404)
            return
        body = b"x" * 100_000 if self.path == "/big" else test_pki().chain_pem
        if self.path == "/slow":
            time.sleep(1.0)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietHTTPSServer(http.server.ThreadingHTTPServer):
    """The verifier hangs up on purpose (too large, too slow): a reset is expected, not news."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _self_signed_localhost(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    # OpenSSL checks this server certificate against the machine's real clock, which no test
    # can pin: give it a window that holds on any day the tests could ever run.
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime(2000, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(9999, 12, 31, tzinfo=UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def https_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A loopback HTTPS server; yields its base URL and the CA file that trusts it."""
    cert_path, key_path = _self_signed_localhost(tmp_path_factory.mktemp("tls"))
    server = _QuietHTTPSServer(("127.0.0.1", 0), _CertHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert_path
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_https(https_base: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    base, ca_file = https_base
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    return base


def test_fetch_https_returns_document(local_https: str) -> None:
    got = fetch_https(f"{local_https}/echo.api/cert.pem", timeout=3.0)
    assert got == test_pki().chain_pem


@pytest.mark.parametrize(
    ("path", "reason"), [("/redirect", "HTTP 302"), ("/missing", "HTTP 404"), ("/big", "too large")]
)
def test_fetch_https_refuses_redirect_error_and_oversize(
    local_https: str, path: str, reason: str
) -> None:
    with pytest.raises(OSError, match=reason):
        fetch_https(f"{local_https}{path}", timeout=3.0)


def test_fetch_https_times_out(local_https: str) -> None:
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        fetch_https(f"{local_https}/slow", timeout=0.2)
    assert time.monotonic() - started < 1.0


def test_fetch_https_refuses_plain_http() -> None:
    with pytest.raises(VerificationError, match="https"):
        fetch_https("http://127.0.0.1:9/echo.api/cert.pem", timeout=0.1)


def test_default_fetcher_timeout_becomes_verification_error(local_https: str) -> None:
    pki = test_pki()
    verifier = SignatureVerifier(
        trust_roots=[pki.root],
        fetch_cert=lambda _url: fetch_https(f"{local_https}/slow", timeout=0.2),
    )
    with pytest.raises(VerificationError, match="could not be fetched"):
        _verify(verifier, pki.sign(BODY))


# --- timestamp ------------------------------------------------------------------------------

NOW = START


def _iso(delta_seconds: float) -> str:
    return (NOW + timedelta(seconds=delta_seconds)).isoformat().replace("+00:00", "Z")


#: NOW as Alexa writes it, and without its zone (all relative to the pinned clock).
_NOW_Z = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
_NOW_NAIVE = NOW.strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize(
    "timestamp",
    [
        _NOW_Z,
        _iso(-150),
        _iso(150),
        NOW.astimezone(timezone(timedelta(hours=1))).isoformat(),
        f"{_NOW_NAIVE}.123Z",
    ],
)
def test_timestamp_within_tolerance_passes(timestamp: str) -> None:
    verify_timestamp(timestamp, NOW, tolerance_seconds=TIMESTAMP_TOLERANCE_SECONDS)


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        (_iso(-151), "too old"),
        (_iso(151), "in the future"),
        (_NOW_NAIVE, "no timezone"),
        (NOW.date().isoformat(), "no timezone"),
        ("yesterday", "not an ISO-8601"),
        ("", "not an ISO-8601"),
        (int(NOW.timestamp() * 1000), "must be a string"),
        (None, "must be a string"),
        (NOW, "must be a string"),
    ],
)
def test_bad_timestamp_fails(timestamp: object, reason: str) -> None:
    with pytest.raises(VerificationError, match=reason):
        verify_timestamp(timestamp, NOW, tolerance_seconds=TIMESTAMP_TOLERANCE_SECONDS)


def test_skill_event_tolerance_is_one_hour() -> None:
    tolerance = tolerance_for("AlexaSkillEvent.SkillDisabled")
    assert tolerance == SKILL_EVENT_TOLERANCE_SECONDS == 3600
    verify_timestamp(_iso(-3000), NOW, tolerance_seconds=tolerance)
    with pytest.raises(VerificationError, match="too old"):
        verify_timestamp(_iso(-3601), NOW, tolerance_seconds=tolerance)
    with pytest.raises(VerificationError, match="too old"):
        verify_timestamp(_iso(-3000), NOW, tolerance_seconds=tolerance_for("IntentRequest"))


@pytest.mark.parametrize("request_type", ["LaunchRequest", "IntentRequest", None, 7, "Alexa"])
def test_default_tolerance(request_type: object) -> None:
    assert tolerance_for(request_type) == TIMESTAMP_TOLERANCE_SECONDS == 150


# --- properties -----------------------------------------------------------------------------

_offsets = st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23)).map(
    timezone
)
_b64 = st.binary(max_size=300).map(lambda raw: base64.b64encode(raw).decode())


@given(
    cert_url=st.one_of(st.none(), st.text(), st.text().map(lambda s: URL.rsplit("/", 1)[0] + s)),
    signature=st.one_of(st.none(), st.text(), _b64),
    body=st.binary(),
    document=st.one_of(
        st.binary(), st.just(test_pki().chain_pem), st.just(test_pki().chain_pem[:900])
    ),
)
def test_verify_raises_only_verification_error(
    cert_url: str | None, signature: str | None, body: bytes, document: bytes
) -> None:
    verifier = SignatureVerifier(trust_roots=[test_pki().root], fetch_cert=lambda _: document)
    try:
        verifier.verify(cert_url, signature, body)
    except VerificationError as exc:
        assert str(exc)


@given(
    timestamp=st.one_of(
        st.text(),
        st.integers(),
        st.none(),
        st.datetimes(timezones=_offsets).map(datetime.isoformat),
        st.datetimes().map(datetime.isoformat),
    )
)
def test_verify_timestamp_raises_only_verification_error(timestamp: object) -> None:
    try:
        verify_timestamp(timestamp, NOW, tolerance_seconds=150)
    except VerificationError as exc:
        assert str(exc)


def test_a_checked_certificate_url_is_remembered_and_a_bad_one_refused_every_time() -> None:
    good = "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem"
    hits = canonical_cert_url.cache_info().hits
    first = canonical_cert_url(good)
    assert (
        canonical_cert_url(good) == first == "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"
    )
    assert canonical_cert_url.cache_info().hits > hits
    for _ in range(2):  # a refusal is never cached into an answer
        with pytest.raises(VerificationError, match="host"):
            canonical_cert_url("https://evil.example/echo.api/echo-api-cert.pem")
