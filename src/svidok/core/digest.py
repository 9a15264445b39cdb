"""Typed, algorithm-prefixed, fixed-width content digests."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

from svidok.core.errors import InvalidInput

ALGORITHM = "sha256"
HEX_LENGTH = 64
CHUNK_SIZE = 1024 * 1024
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Digest:
    """A SHA-256 digest; ``str()`` gives ``sha256:<64 lowercase hex>``."""

    hex: str

    def __post_init__(self) -> None:
        if not _HEX.match(self.hex):
            raise InvalidInput(
                f"a SHA-256 digest is 64 lowercase hex characters, got {self.hex!r:.80}"
            )

    def __str__(self) -> str:
        return f"{ALGORITHM}:{self.hex}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Accept ``sha256:<hex>`` or bare hex (any case)."""
        value = text.strip()
        if value.lower().startswith(f"{ALGORITHM}:"):
            value = value[len(ALGORITHM) + 1 :]
        return cls(value.lower())

    @classmethod
    def of_bytes(cls, data: bytes) -> Digest:
        return cls(hashlib.sha256(data).hexdigest())

    @classmethod
    def of_stream(cls, stream: BinaryIO) -> tuple[Digest, int]:
        """Hash a stream in constant memory; return the digest and the byte count."""
        hasher = hashlib.sha256()
        size = 0
        while chunk := stream.read(CHUNK_SIZE):
            hasher.update(chunk)
            size += len(chunk)
        return cls(hasher.hexdigest()), size


def is_digest_text(text: str) -> bool:
    """True if ``text`` parses as a digest (with or without the prefix)."""
    try:
        Digest.parse(text)
    except InvalidInput:
        return False
    return True
