"""Creating an instance: database, blob store, keys. Running it again changes nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from svidok.core.custody.signing import SigningKey
from svidok.core.protection import FieldCipher
from svidok.core.store.fs import FileBlobStore
from svidok.database import database_optimize
from svidok.instance import read_or_create_secret


@dataclass(frozen=True)
class InitResult:
    home: str
    database: str
    key_id: str
    created_key: bool


def instance_init() -> InitResult:
    """Create whatever of the instance is missing, touching nothing that exists."""
    paths = settings.SVIDOK_PATHS
    paths.home.mkdir(parents=True, exist_ok=True)
    paths.home.chmod(0o700)
    read_or_create_secret(paths.secret_key)
    FileBlobStore(paths.blobs).create()
    paths.work.mkdir(exist_ok=True)
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
    created = not paths.signing_key.exists()
    if created:
        key = SigningKey.generate()
        key.save(paths.signing_key)
        paths.public_key.write_text(key.public_key_bytes().hex() + "\n", encoding="ascii")
    else:
        key = SigningKey.load(paths.signing_key)
    if not paths.field_key.exists():
        FieldCipher.generate_key_file(paths.field_key)
    call_command("migrate", interactive=False, verbosity=0, stdout=io.StringIO())
    database_optimize()
    # Static assets are copied into the instance so the server needs nothing else.
    call_command("collectstatic", interactive=False, verbosity=0, stdout=io.StringIO())
    database = settings.DATABASES["default"]
    return InitResult(
        home=str(paths.home),
        database=f"{database['ENGINE'].rsplit('.', 1)[-1]}:{database['NAME']}",
        key_id=key.key_id,
        created_key=created,
    )
