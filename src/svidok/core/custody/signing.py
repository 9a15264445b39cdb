"""Ed25519 signed tree heads.

A tree head states that the custody log had ``size`` events with Merkle root
``root`` at ``time``. The log signs it so that anyone holding the public key
can later hold the log to it.

The signed bytes are, exactly::

    b"svidok-tree-head/v1\\n" + canonical_json({
        "key_id": key_id,        # "ed25519:" + SHA-256 hex of the raw public key
        "root": root.hex(),      # 64 lowercase hex characters
        "size": size,            # integer
        "time": time,            # UTC, e.g. "2026-11-23T17:12:00.123456Z"
    })

where canonical JSON has sorted keys, no whitespace and UTF-8 text (see
:mod:`svidok.core.canonical`), so a third party can rebuild the payload with
any JSON library and check the Ed25519 signature with any Ed25519 library.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from svidok.core.canonical import canonical_json
from svidok.core.errors import ConfigurationError, InvalidInput, SignatureError

__all__ = [
    "PAYLOAD_PREFIX",
    "SignedTreeHead",
    "SigningKey",
    "TreeHead",
    "decode_hex",
    "key_id_for",
    "public_key_from_bytes",
    "public_key_from_pem",
    "public_key_to_pem",
    "utc_timestamp",
    "verify_tree_head",
]

PAYLOAD_PREFIX: Final = b"svidok-tree-head/v1\n"
"""Domain separation: these signatures can never be mistaken for another message's."""

KEY_ID_PREFIX: Final = "ed25519:"
PUBLIC_KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
ROOT_SIZE: Final = 32

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
_KEY_ID = re.compile(r"^ed25519:[0-9a-f]{64}$")
_SECRET_BITS: Final = 0o077  # group and other permissions


def utc_timestamp(moment: datetime | None = None) -> str:
    """Format an aware ``moment`` (default: now) as a tree-head time.

    For example ``2026-11-23T17:12:00.123456Z``: UTC, always with microseconds.
    """
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.utcoffset() is None:
        # A naive time would silently be read as the server's local time.
        raise InvalidInput(f"tree head time needs a time zone, got naive {moment.isoformat()}")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class TreeHead:
    """The log's state at one moment: its size, Merkle root and the UTC time."""

    size: int
    root: bytes
    time: str

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InvalidInput(f"tree size must be an integer >= 0, got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_SIZE:
            raise InvalidInput(f"tree root must be {ROOT_SIZE} bytes, got {self.root!r:.80}")
        _check_time(self.time)

    @classmethod
    def now(cls, size: int, root: bytes) -> TreeHead:
        """A head for ``size`` and ``root`` stamped with the current UTC time."""
        return cls(size=size, root=root, time=utc_timestamp())

    def payload(self, key_id: str) -> bytes:
        """The exact bytes signed by ``key_id`` (see the module docstring)."""
        body = {"key_id": key_id, "root": self.root.hex(), "size": self.size, "time": self.time}
        return PAYLOAD_PREFIX + canonical_json(body)


def _check_time(time: object) -> None:
    if not isinstance(time, str) or not _TIME.match(time):
        raise InvalidInput(
            f"tree head time must be UTC ISO-8601 like 2026-11-23T17:12:00.123456Z,"
            f" got {time!r:.80}"
        )
    try:
        datetime.fromisoformat(time)
    except ValueError:
        raise InvalidInput(f"tree head time is not a real moment: {time!r}") from None


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head with the Ed25519 signature of its :meth:`TreeHead.payload`."""

    head: TreeHead
    key_id: str
    signature: bytes

    def payload(self) -> bytes:
        """The bytes the signature is over."""
        return self.head.payload(self.key_id)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; hashes and signature as lowercase hex."""
        return {
            "key_id": self.key_id,
            "root": self.head.root.hex(),
            "signature": self.signature.hex(),
            "size": self.head.size,
            "time": self.head.time,
        }

    @classmethod
    def from_json(cls, data: object) -> SignedTreeHead:
        """Parse :meth:`to_json` output; :class:`InvalidInput` names any bad field.

        Unknown fields are refused: everything in a head should be signed.
        """
        if not isinstance(data, dict):
            raise InvalidInput(f"a signed tree head is a JSON object, got {type(data).__name__}")
        fields = {"key_id", "root", "signature", "size", "time"}
        missing, unknown = fields - data.keys(), data.keys() - fields
        if missing:
            raise InvalidInput(
                f"signed tree head lacks field {sorted(missing)[0]!r}", field=sorted(missing)[0]
            )
        if unknown:
            first = sorted(map(str, unknown))[0]
            raise InvalidInput(f"signed tree head has unknown field {first!r}", field=first)
        size = data["size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInput(
                f"field 'size' must be an integer >= 0, got {size!r:.80}", field="size"
            )
        key_id = data["key_id"]
        if not isinstance(key_id, str) or not _KEY_ID.match(key_id):
            raise InvalidInput(
                f"field 'key_id' must be 'ed25519:' and 64 lowercase hex, got {key_id!r:.80}",
                field="key_id",
            )
        time = data["time"]
        try:
            _check_time(time)
        except InvalidInput as error:
            raise InvalidInput(f"field 'time': {error.message}", field="time") from None
        return cls(
            head=TreeHead(size=size, root=decode_hex(data["root"], ROOT_SIZE, "root"), time=time),
            key_id=key_id,
            signature=decode_hex(data["signature"], SIGNATURE_SIZE, "signature"),
        )


def decode_hex(value: object, size: int, field: str) -> bytes:
    """Decode ``value``, which must be ``size`` bytes as lowercase hex, for JSON ``field``.

    Only the lowercase form Svidok writes is accepted, so that each value has
    exactly one spelling.
    """
    if not isinstance(value, str) or not re.fullmatch(f"[0-9a-f]{{{2 * size}}}", value):
        raise InvalidInput(
            f"field {field!r} must be {2 * size} lowercase hex characters, got {value!r:.80}",
            field=field,
        )
    return bytes.fromhex(value)


def key_id_for(public_key: bytes) -> str:
    """The key id of a raw Ed25519 public key: ``ed25519:`` + its SHA-256 in hex."""
    return KEY_ID_PREFIX + hashlib.sha256(public_key).hexdigest()


def public_key_from_bytes(public_key: bytes) -> Ed25519PublicKey:
    """Load a raw 32-byte Ed25519 public key; :class:`InvalidInput` if it is not one."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise InvalidInput(
            f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes, got {len(public_key)}"
        )
    try:
        return Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as error:
        raise InvalidInput(f"not an Ed25519 public key: {error}") from None


def public_key_to_pem(public_key: bytes) -> bytes:
    """Encode a raw Ed25519 public key as SubjectPublicKeyInfo PEM, for other tools."""
    return public_key_from_bytes(public_key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes) -> bytes:
    """The raw 32 bytes of an Ed25519 public key given as PEM."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise InvalidInput(f"not a PEM public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"expected an Ed25519 public key, found {type(key).__name__}")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class SigningKey:
    """The log's Ed25519 private key."""

    __slots__ = ("_key", "_key_id", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self._public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._key_id = key_id_for(self._public)

    @property
    def key_id(self) -> str:
        """``ed25519:`` + SHA-256 hex of the raw public key."""
        return self._key_id

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """Read an unencrypted PKCS#8 PEM key, refusing files others could read."""
        pem = _read_private_file(path)
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise ConfigurationError(
                f"signing key {path} is not an unencrypted PEM private key: {error}",
                path=str(path),
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(
                f"signing key {path} must be Ed25519, found {type(key).__name__}",
                path=str(path),
            )
        return cls(key)

    def save(self, path: Path) -> None:
        """Write the key as PKCS#8 PEM with mode 0600; never overwrites a file."""
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: fail rather than replace a key (losing it would orphan every
        # head it signed) or write through a planted symlink. The mode is given
        # at creation, so the file is never readable by others, even briefly.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ConfigurationError(
                f"a file already exists at {path}; refusing to overwrite a signing key",
                path=str(path),
            ) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def public_key_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public

    def sign(self, head: TreeHead) -> SignedTreeHead:
        """Sign ``head`` under this key's id."""
        signature = self._key.sign(head.payload(self.key_id))
        return SignedTreeHead(head=head, key_id=self.key_id, signature=signature)

    def __repr__(self) -> str:
        # Never show key material.
        return f"SigningKey({self.key_id})"


def _read_private_file(path: Path) -> bytes:
    """The contents of ``path``, if neither group nor others have any access to it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise ConfigurationError(
            f"cannot open signing key {path}: {error.strerror}", path=str(path)
        ) from None
    with os.fdopen(fd, "rb") as handle:
        # Check the mode of the file actually opened, not of whatever the path
        # names a moment later.
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & _SECRET_BITS:
            raise ConfigurationError(
                f"signing key {path} has mode {mode:#o}; it must be accessible to its owner"
                " only (expected 0o600)",
                path=str(path),
                mode=oct(mode),
            )
        try:
            return handle.read()
        except OSError as error:
            raise ConfigurationError(
                f"cannot read signing key {path}: {error.strerror}", path=str(path)
            ) from None


def verify_tree_head(signed: SignedTreeHead, public_key: bytes) -> None:
    """Check ``signed`` against a raw Ed25519 public key; raise :class:`SignatureError` if not.

    The key must come from a trusted source; :class:`InvalidInput` if it is not
    32 bytes.
    """
    key = public_key_from_bytes(public_key)  # a malformed key is the caller's error
    expected = key_id_for(public_key)
    if signed.key_id != expected:
        raise SignatureError(
            f"tree head was signed by key {signed.key_id}, expected {expected}",
            expected=expected,
            found=signed.key_id,
        )
    try:
        key.verify(signed.signature, signed.payload())
    except InvalidSignature:
        raise SignatureError(
            f"tree head signature does not verify under key {expected}"
            f" (size {signed.head.size}, root {signed.head.root.hex()}, time {signed.head.time})",
            key_id=expected,
            size=signed.head.size,
        ) from None
