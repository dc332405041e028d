"""The signing identity of the C2PA manifests: a per-install CA and leaf certificate, or the user's own.

Made on first use: an ECDSA P-256 CA (self-signed) and a leaf certificate it issued, both public, kept in
``<data>/provenance/``; the leaf's private key goes to the OS keyring, or (no keyring backend) to a file
only its owner can read (0600). A user's own certificate chain and key (PEM files) replace them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from layer_desktop import __version__
from layer_desktop.errors import ProvenanceError, SecretStoreUnavailable
from layer_desktop.paths import app_paths
from layer_desktop.secrets import KeyringSecrets
from layer_desktop.settings import load_settings

log = logging.getLogger(__name__)

KEY_SECRET = "provenance-signing-key/"  # + the leaf certificate's fingerprint: a key never meets another cert
_YEARS = 10


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...


@dataclass(frozen=True)
class SigningIdentity:
    """What signs: the leaf certificate followed by its issuers (PEM), its private key (PEM), the root
    to trust (PEM, None for a user's own chain whose root is not known) and where the key lives."""

    chain_pem: bytes
    key_pem: bytes
    ca_pem: bytes | None
    key_store: str  # "keyring", "file" or "user"

    @property
    def subject(self) -> str:
        return x509.load_pem_x509_certificate(self.chain_pem).subject.rfc4514_string()


def provenance_dir() -> Path:
    return app_paths().data_dir / "provenance"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Layer Desktop (this install)"),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * _YEARS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
    )


def make_ca_and_leaf() -> tuple[bytes, bytes, bytes]:
    """A new (CA PEM, leaf PEM, leaf private key PEM). The leaf is an end-entity signing certificate
    (digitalSignature, emailProtection: what C2PA validators accept for a claim signer)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"Layer Desktop {__version__} install CA")
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        _builder(_name("Layer Desktop signer"), ca_name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ca.public_bytes(pem), leaf.public_bytes(pem), key_pem


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _secret_name(leaf_pem: bytes) -> str:
    leaf = x509.load_pem_x509_certificate(leaf_pem)
    return KEY_SECRET + leaf.fingerprint(hashes.SHA256()).hex()[:16]


def _store_key(key_pem: bytes, leaf_pem: bytes, secrets: SecretStore, folder: Path) -> str:
    try:
        secrets.set(_secret_name(leaf_pem), key_pem.decode())
        return "keyring"
    except SecretStoreUnavailable:
        log.warning("no keyring backend: the signing key is kept in a file only you can read")
        _write_private(folder / "signing-key.pem", key_pem)
        return "file"


def _load_key(leaf_pem: bytes, secrets: SecretStore, folder: Path) -> tuple[bytes, str] | None:
    try:
        value = secrets.get(_secret_name(leaf_pem))
    except SecretStoreUnavailable:
        value = None
    if value:
        return value.encode(), "keyring"
    key_file = folder / "signing-key.pem"
    if key_file.is_file():
        return key_file.read_bytes(), "file"
    return None


def install_identity(secrets: SecretStore | None = None) -> SigningIdentity:
    """This install's identity, made (CA, leaf, key) on first use, and made anew when the key of the
    stored certificates is gone (a reset keyring): earlier outputs keep their own certificates."""
    secrets = secrets if secrets is not None else KeyringSecrets()
    folder = provenance_dir()
    ca_file, leaf_file = folder / "ca.pem", folder / "signer.pem"
    if ca_file.is_file() and leaf_file.is_file():
        ca_pem, leaf_pem = ca_file.read_bytes(), leaf_file.read_bytes()
        found = _load_key(leaf_pem, secrets, folder)
        if found is not None:
            return SigningIdentity(leaf_pem + ca_pem, found[0], ca_pem, found[1])
        log.warning("the provenance signing key of this install is gone; making a new identity")
    ca_pem, leaf_pem, key_pem = make_ca_and_leaf()
    folder.mkdir(parents=True, exist_ok=True)
    where = _store_key(key_pem, leaf_pem, secrets, folder)
    ca_file.write_bytes(ca_pem)
    leaf_file.write_bytes(leaf_pem)
    log.info("made a provenance signing identity in %s (key in the %s)", folder, where)
    return SigningIdentity(leaf_pem + ca_pem, key_pem, ca_pem, where)


def user_identity(chain_file: Path, key_file: Path) -> SigningIdentity:
    """The user's own certificate chain (leaf first) and private key (PEM files). Raises
    ``ProvenanceError`` when either is unreadable or the key does not match the certificate."""
    try:
        chain_pem, key_pem = chain_file.read_bytes(), key_file.read_bytes()
        leaf = x509.load_pem_x509_certificate(chain_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ProvenanceError(
            f"The signing certificate {chain_file.name} or key {key_file.name} cannot be read: {exc}",
            hint="Give a PEM certificate chain (leaf first) and an unencrypted PEM private key.",
        ) from exc
    if leaf.public_key() != key.public_key():
        raise ProvenanceError(
            f"The key {key_file.name} does not belong to the certificate {chain_file.name}.",
            hint="Choose the private key that was certified.",
        )
    return SigningIdentity(chain_pem, key_pem, None, "user")


def signing_identity() -> SigningIdentity:
    """The user's own certificate and key when Settings name them, else this install's identity.
    Raises ``ProvenanceError`` (or ``SettingsError`` for an unreadable settings file)."""
    settings = load_settings(app_paths().settings_file)
    if settings.signing_cert and settings.signing_key:
        return user_identity(Path(settings.signing_cert), Path(settings.signing_key))
    return install_identity()
