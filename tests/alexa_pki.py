"""A locally generated Alexa-like PKI for tests: root CA -> intermediate CA -> echo-api leaf.

Usage::

    pki = test_pki()
    headers = pki.sign(body)          # SignatureCertChainUrl + Signature-256
    verifier = pki.verifier()         # trusts pki.root, serves pki.chain_pem for pki.cert_url

Bad variants (same leaf key, so ``sign`` still produces a matching signature)::

    dataclasses.replace(pki, chain_pem=bad_chain("expired")).verifier()
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skill.web.verify import ECHO_API_DNS_NAME, SignatureVerifier
from tests.clock import START, pinned_now

DAY = timedelta(days=1)
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"

BadChain = Literal["expired", "not_yet_valid", "wrong_san", "untrusted"]
CAKey = ec.EllipticCurvePrivateKey
LeafKey = rsa.RSAPrivateKey


@dataclass
class CertFetcher:
    """A fake ``fetch_cert``: serves documents by URL, records every call, 404s the rest."""

    documents: dict[str, bytes]
    calls: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        try:
            return self.documents[url]
        except KeyError:
            raise OSError(f"404 for {url}") from None

    @property
    def count(self) -> int:
        return len(self.calls)


@dataclass(frozen=True)
class AlexaTestPKI:
    root: x509.Certificate
    chain_pem: bytes  # leaf + intermediate
    leaf_key: LeafKey
    cert_url: str = CERT_URL

    def sign(self, body: bytes) -> dict[str, str]:
        """Headers Alexa would send with body: SignatureCertChainUrl and Signature-256."""
        signature = self.leaf_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return {
            "SignatureCertChainUrl": self.cert_url,
            "Signature-256": base64.b64encode(signature).decode("ascii"),
        }

    def fetcher(self) -> CertFetcher:
        """A fresh fake fetcher serving chain_pem at cert_url."""
        return CertFetcher({self.cert_url: self.chain_pem})

    def verifier(
        self,
        clock: Callable[[], datetime] | None = None,
        *,
        fetcher: Callable[[str], bytes] | None = None,
    ) -> SignatureVerifier:
        """A verifier trusting only root, on the pinned clock unless told otherwise; pass your own
        ``fetcher()`` to count fetches."""
        return SignatureVerifier(
            trust_roots=[self.root],
            fetch_cert=fetcher or self.fetcher(),
            clock=clock or pinned_now,
        )


# --- generation -----------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Mama Moments Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_cert(
    name: str, key: CAKey, issuer: x509.Certificate | None, issuer_key: CAKey
) -> x509.Certificate:
    """A CA certificate: self-signed when issuer is None."""
    # Validity comes from the pinned test clock, never from the day the tests run.
    now = START
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer.subject if issuer else _name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
    )
    if issuer is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=not cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_cert(
    key: LeafKey,
    issuer: x509.Certificate,
    issuer_key: CAKey,
    *,
    dns_name: str = ECHO_API_DNS_NAME,
    valid_from: timedelta = timedelta(hours=-1),
    valid_for: timedelta = timedelta(days=30),
) -> x509.Certificate:
    """An end-entity certificate shaped like Amazon's (RSA, SAN, serverAuth), valid from
    START + valid_from for valid_for."""
    start = START + valid_from
    return (
        x509.CertificateBuilder()
        .subject_name(_name(dns_name))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + valid_for)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def _ca_pair(tag: str) -> tuple[x509.Certificate, x509.Certificate, CAKey]:
    """A fresh root and intermediate; returns (root, intermediate, intermediate key)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _ca_cert(f"{tag} Root CA", root_key, None, root_key)
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    intermediate = _ca_cert(f"{tag} Intermediate CA", intermediate_key, root, root_key)
    return root, intermediate, intermediate_key


@dataclass(frozen=True)
class _Material:
    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: CAKey
    leaf_key: LeafKey


@functools.cache
def _material() -> _Material:
    root, intermediate, intermediate_key = _ca_pair("Test")
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _Material(root, intermediate, intermediate_key, leaf_key)


@functools.cache
def test_pki() -> AlexaTestPKI:
    """The session's PKI (generated once): a valid echo-api chain and its trusted root."""
    m = _material()
    leaf = _leaf_cert(m.leaf_key, m.intermediate, m.intermediate_key)
    return AlexaTestPKI(root=m.root, chain_pem=_pem(leaf, m.intermediate), leaf_key=m.leaf_key)


# Keep pytest from collecting test_pki as a test when a test module imports it by name.
test_pki.__test__ = False  # type: ignore[attr-defined]


@functools.cache
def bad_chain(kind: BadChain) -> bytes:
    """A leaf + intermediate PEM with the session's leaf key that must fail verification."""
    m = _material()
    issuer, issuer_key = m.intermediate, m.intermediate_key
    match kind:
        case "expired":
            leaf = _leaf_cert(
                m.leaf_key, issuer, issuer_key, valid_from=timedelta(days=-30), valid_for=DAY
            )
        case "not_yet_valid":
            leaf = _leaf_cert(m.leaf_key, issuer, issuer_key, valid_from=DAY)
        case "wrong_san":
            leaf = _leaf_cert(m.leaf_key, issuer, issuer_key, dns_name="evil.example.com")
        case "untrusted":
            _, issuer, issuer_key = _ca_pair("Untrusted")
            leaf = _leaf_cert(m.leaf_key, issuer, issuer_key)
    return _pem(leaf, issuer)
