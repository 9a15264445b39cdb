"""Protected fields: encryption at rest and keyed commitments.

Names and contacts of victims, witnesses and sources are stored encrypted
(AES-256-GCM) with the row's identity as associated data, so a ciphertext
copied onto another row does not decrypt. What the custody log records about
such a value is a keyed commitment (HMAC-SHA256), never the value: the log
can be shown to anyone who checks integrity without exposing a person, and
``verify`` can still tell if the stored value was changed.

The instance keeps one 256-bit field key; the encryption and commitment keys
are derived from it (HKDF), so they are never the same key. Losing the field
key loses every protected value: back it up with the signing key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from svidok.core.errors import ConfigurationError, VerificationError

KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "v1:"


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


class FieldCipher:
    """Seals and opens protected values; makes commitments to them."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigurationError(f"a field key has {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(_derive(key, b"svidok field encryption v1"))
        self._mac_key = _derive(key, b"svidok field commitment v1")

    @classmethod
    def generate_key_file(cls, path: Path) -> None:
        """Write a new random key, readable by the owner only; never overwrite one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(base64.b64encode(os.urandom(KEY_BYTES)) + b"\n")

    @classmethod
    def from_key_file(cls, path: Path) -> FieldCipher:
        try:
            text = path.read_bytes().strip()
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"no field key at {path}: run `svidok init` (protected fields need it)") from exc
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError as exc:
            raise ConfigurationError(f"field key {path} is not base64 text") from exc
        return cls(key)

    def seal(self, value: str, *, context: str) -> str:
        """Encrypt ``value``, bound to ``context`` (e.g. ``acquisition.source_person:<id>``)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode("utf-8"), context.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, context: str) -> str:
        """The value sealed under ``context``; a changed or moved ciphertext is refused."""
        if not sealed.startswith(PREFIX):
            raise VerificationError(f"protected value has an unknown format for {context}")
        try:
            raw = base64.b64decode(sealed[len(PREFIX):], validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       context.encode("utf-8"))
        except (ValueError, InvalidTag) as exc:
            raise VerificationError(
                f"protected value for {context} does not decrypt: altered, moved to another "
                "row, or sealed with another key") from exc
        return plain.decode("utf-8")

    def commitment(self, value: str, *, context: str) -> str:
        """A keyed hash of the value: equal values give equal commitments only per context."""
        message = context.encode("utf-8") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()
