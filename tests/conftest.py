"""Test fixtures shared by the whole suite.

The suite runs once on SQLite and once on PostgreSQL (``make test``); the
backend is chosen by ``SVIDOK_DATABASE_URL`` exactly as in production.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Settings read SVIDOK_HOME when Django starts: give the session a home of its own.
os.environ.setdefault("SVIDOK_HOME", tempfile.mkdtemp(prefix="svidok-test-home-"))

REPO = Path(__file__).resolve().parent.parent


def shared_data() -> Path:
    """The shared datasets folder; tests needing it skip when absent."""
    return Path(os.environ.get("SVIDOK_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _no_hash_index_between_tests() -> Iterator[None]:
    """Rolled-back test transactions reuse row ids, so a hash index saved by one test
    would describe rows another test never made: each test starts without one."""
    yield
    module = sys.modules.get("svidok.apps.evidence.perceptual_index")
    if module is not None:
        from django.conf import settings

        module.forget_indexes()
        shutil.rmtree(Path(settings.SVIDOK_PATHS.home) / "index", ignore_errors=True)


@pytest.fixture
def svidok_home(tmp_path: Path, settings) -> Iterator[Path]:
    """A fresh instance folder (blob store and signing key) for one test."""
    from svidok.apps.custody.signing_key import instance_signing_key
    from svidok.core.custody.signing import SigningKey
    from svidok.core.protection import FieldCipher
    from svidok.core.store.fs import FileBlobStore
    from svidok.instance import InstancePaths

    home = tmp_path / "home"
    paths = InstancePaths(home)
    home.mkdir()
    FileBlobStore(paths.blobs).create()
    SigningKey.generate().save(paths.signing_key)
    FieldCipher.generate_key_file(paths.field_key)
    settings.SVIDOK_HOME = home
    settings.SVIDOK_PATHS = paths
    instance_signing_key.cache_clear()
    yield home
    instance_signing_key.cache_clear()


@contextmanager
def own_database(env: dict[str, str], prefix: str) -> Iterator[None]:
    """On PostgreSQL, point ``env`` at a new database, dropped afterwards; on SQLite,
    nothing (the instance's own file is already private)."""
    url = os.environ.get("SVIDOK_DATABASE_URL")
    if not url:
        yield
        return
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["SVIDOK_DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for running the `svidok` CLI in subprocesses against a new instance.

    On PostgreSQL each test gets its own database, dropped afterwards.
    """
    env = dict(os.environ)
    env["SVIDOK_HOME"] = str(tmp_path / "cli-home")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with own_database(env, "svidok_cli"):
        yield env


def login_verified(client, user) -> None:
    """Log ``client`` in as ``user`` having passed a TOTP second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() \
        or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def make_jpeg(path: Path, seed: int = 0, size: tuple[int, int] = (64, 48)) -> Path:
    """A small synthetic JPEG whose bytes depend on ``seed``."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    image.putpixel((seed % size[0], 0), (255, 255, 255))
    image.save(path, "JPEG", quality=90)
    return path


@pytest.fixture
def evidence_folder(tmp_path: Path) -> Path:
    """A folder of mixed evidence: photos (one nested, one duplicate), odd names, bad files."""
    folder = tmp_path / "incoming"
    make_jpeg(folder / "photo 1.jpg", 1)
    make_jpeg(folder / "nested" / "фото 2 — Харків.jpg", 2)
    (folder / "copy of photo 1.jpg").write_bytes((folder / "photo 1.jpg").read_bytes())
    make_jpeg(folder / "line\nbreak.jpg", 3)
    (folder / "empty.bin").write_bytes(b"")
    (folder / "truncated.jpg").write_bytes(make_jpeg(tmp_path / "t.jpg", 4).read_bytes()[:200])
    (folder / "noise").write_bytes(bytes(range(256)) * 8)
    return folder


def pytest_configure(config: pytest.Config) -> None:
    """Point the session's settings at a throwaway home, never at a real instance."""
    from django.conf import settings

    from svidok.instance import InstancePaths

    home = Path(tempfile.mkdtemp(prefix="svidok-test-session-"))
    settings.SVIDOK_HOME = home
    settings.SVIDOK_PATHS = InstancePaths(home)
    settings.STATIC_ROOT = str(home / "static")
