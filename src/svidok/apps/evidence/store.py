"""The instance's blob store."""

from __future__ import annotations

from django.conf import settings

from svidok.core.store.fs import FileBlobStore


def instance_store() -> FileBlobStore:
    return FileBlobStore(settings.SVIDOK_PATHS.blobs)
