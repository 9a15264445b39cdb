"""Where an instance keeps its files, and how its home directory is chosen.

Free of Django so the CLI can resolve ``--home`` before Django is configured.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "SVIDOK_HOME"
DEFAULT_HOME = "svidok-data"


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--home`` if given, else ``$SVIDOK_HOME``, else ``./svidok-data``."""
    chosen = explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class InstancePaths:
    """The files and folders of one instance."""

    home: Path

    @property
    def database(self) -> Path:
        return self.home / "svidok.sqlite3"

    @property
    def blobs(self) -> Path:
        return self.home / "blobs"

    @property
    def work(self) -> Path:
        return self.home / "work"

    @property
    def signing_key(self) -> Path:
        return self.home / "keys" / "custody-ed25519.pem"

    @property
    def public_key(self) -> Path:
        return self.home / "keys" / "custody-ed25519.pub"

    @property
    def field_key(self) -> Path:
        return self.home / "keys" / "fields.key"

    @property
    def secret_key(self) -> Path:
        return self.home / "secret_key"

    @property
    def static_root(self) -> Path:
        return self.home / "static"


def read_or_create_secret(path: Path) -> str:
    """The Django secret key, created once with mode 0600."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(value)
    return value
