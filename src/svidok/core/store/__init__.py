"""Write-once, content-addressed storage of evidence bytes.

Callers depend only on :class:`BlobStore`; the filesystem backend is the
embedded default and an S3-compatible backend can sit behind the same protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from svidok.core.digest import Digest


@dataclass(frozen=True, slots=True)
class PutResult:
    """What :meth:`BlobStore.put` did: the address, the size and whether the bytes were new."""

    digest: Digest
    size: int
    created: bool


class BlobStore(Protocol):
    """The operations every blob backend provides."""

    def put(self, stream: BinaryIO) -> PutResult:
        """Store the bytes read from ``stream`` (in constant memory) and return their address."""

    def put_path(self, path: Path) -> PutResult:
        """Store the bytes of the file at ``path``."""

    def open(self, digest: Digest) -> BinaryIO:
        """Open the blob for reading; :class:`~svidok.core.errors.NotFound` if absent."""

    def exists(self, digest: Digest) -> bool:
        """True if a blob with this address is held."""

    def size(self, digest: Digest) -> int:
        """The blob's size in bytes."""

    def iterate(self) -> Iterator[Digest]:
        """Every address held, in no particular order."""

    def local_path(self, digest: Digest) -> AbstractContextManager[Path]:
        """A read-only local file with the blob's bytes, for tools that need a path."""
