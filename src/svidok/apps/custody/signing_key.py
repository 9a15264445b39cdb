"""The instance's custody signing key, loaded once per process."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from svidok.core.custody.signing import SigningKey
from svidok.core.errors import ConfigurationError


@cache
def instance_signing_key() -> SigningKey:
    path = settings.SVIDOK_PATHS.signing_key
    if not path.exists():
        raise ConfigurationError(
            f"no custody signing key at {path}: run `svidok init` first",
            home=str(path.parent.parent),
        )
    return SigningKey.load(path)


def instance_public_key() -> bytes:
    return instance_signing_key().public_key_bytes()
