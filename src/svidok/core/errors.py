"""One exception tree for the whole project.

Messages say what was expected and what was found, so that a user can act on
them without reading the code.
"""

from __future__ import annotations

from typing import Any


class SvidokError(Exception):
    """Base of every error Svidok raises on purpose."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def diagnostics(self) -> str:
        """A longer human-readable account of the error, for terminals and logs."""
        lines = [self.message]
        lines.extend(f"  {key}: {value}" for key, value in sorted(self.extra.items()))
        return "\n".join(lines)


class ConfigurationError(SvidokError):
    """The instance or environment is not set up as required."""


class NotFound(SvidokError):
    """A named thing (item, collection, blob) does not exist."""


class Forbidden(SvidokError):
    """The user may see the thing but not do this to it."""


class InvalidInput(SvidokError):
    """Input from a user or a file is malformed."""


class StoreError(SvidokError):
    """The blob store could not read or write bytes."""


class ExtractionError(SvidokError):
    """Metadata or derived files could not be produced from a file."""


class VerificationError(SvidokError):
    """Something that should have been proven could not be."""


class ProofError(VerificationError):
    """A Merkle inclusion or consistency proof does not verify."""


class SignatureError(VerificationError):
    """A signature does not verify against the expected key."""


class TooLarge(InvalidInput):
    """Input exceeds a configured size limit."""
