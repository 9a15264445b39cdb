"""A small synthetic demo collection and login, for `make run`.

All content is generated here: no real person, place photo or testimony.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from PIL import Image, ImageDraw
from pypdf import PdfWriter

from svidok.apps.accounts.models import Role
from svidok.apps.accounts.services import membership_grant
from svidok.apps.evidence.models import Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest

DEMO_COLLECTION = "Demo: synthetic strike documentation"
DEMO_USER = "demo"
_COLOURS = [(160, 60, 40), (40, 90, 150), (70, 120, 60), (120, 120, 120), (150, 110, 30)]


def _demo_image(path: Path, index: int) -> None:
    image = Image.new("RGB", (800, 600), _COLOURS[index % len(_COLOURS)])
    draw = ImageDraw.Draw(image)
    for step in range(0, 800, 40):
        draw.line([(step, 0), (800 - step, 600)], fill=(230, 230, 230), width=2)
    draw.rectangle([40, 40, 420, 120], fill=(255, 255, 255))
    draw.text((60, 70), f"SYNTHETIC DEMO PHOTO {index + 1}", fill=(0, 0, 0))
    exif = Image.Exif()
    exif[0x0132] = f"2024:07:0{index + 1} 10:4{index}:00"  # DateTime
    exif[0x010F] = "Svidok demo camera"  # Make
    image.save(path, "JPEG", quality=85, exif=exif.tobytes())


def _demo_pdf(path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Synthetic demo report", "/Author": "Svidok demo"})
    with open(path, "wb") as out:
        writer.write(out)


def _demo_video(path: Path) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i",
         "testsrc=duration=4:size=320x240:rate=10", "-pix_fmt", "yuv420p",
         "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
         str(path)],
        check=True, timeout=120,
    )


def demo_files(folder: Path) -> Path:
    """Write the demo files (the same bytes every time) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(5):
        target = folder / f"photo {index + 1}.jpg"
        if not target.exists():
            _demo_image(target, index)
    if not (folder / "report.pdf").exists():
        _demo_pdf(folder / "report.pdf")
    if not (folder / "street video.mp4").exists():
        _demo_video(folder / "street video.mp4")
    (folder / "notes-unknown-format.bin").write_bytes(bytes(range(256)) * 4)
    return folder


def demo_user() -> tuple[str, str]:
    """The demo login; its password is kept (mode 0600) in the instance folder."""
    secret = settings.SVIDOK_PATHS.home / "demo-password"
    if secret.exists():
        password = secret.read_text(encoding="utf-8").strip()
    else:
        password = secrets.token_urlsafe(12)
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(password)
    users = get_user_model()
    with transaction.atomic():
        user, _ = users.objects.get_or_create(username=DEMO_USER)
        if not user.check_password(password):
            user.set_password(password)
            user.save()
    return DEMO_USER, password


def demo_populate() -> dict[str, Any]:
    folder = demo_files(settings.SVIDOK_PATHS.home / "demo-files")
    facts = AcquisitionFacts(actor="svidok-demo", collected_by="Svidok demo generator",
                             note="synthetic demo material",
                             source_person="Synthetic Source (demo), +380 00 000 0000")
    evidence_ingest(paths=[folder], collection_name=DEMO_COLLECTION, facts=facts)
    username, password = demo_user()
    # Investigator, not admin: administrators must set up a second factor first,
    # which a first look at the demo should not require.
    membership_grant(username=username, collection_name=DEMO_COLLECTION,
                     role=Role.INVESTIGATOR, actor="svidok-demo")
    return {
        "collection": DEMO_COLLECTION,
        "items": Item.objects.filter(collection__name=DEMO_COLLECTION).count(),
        "username": username,
        "password": password,
    }
