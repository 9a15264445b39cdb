"""A small synthetic demo collection and login, for `make run`.

All content is generated here: no real person, place photo or testimony.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfWriter

from svidok.apps.accounts.models import Role
from svidok.apps.accounts.services import membership_grant
from svidok.apps.evidence.models import Collection, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest

DEMO_COLLECTION = "Demo: synthetic strike documentation"
DEMO_USER = "demo"
_COLOURS = [(160, 60, 40), (40, 90, 150), (70, 120, 60), (120, 120, 120), (150, 110, 30)]


def _demo_image(path: Path, index: int) -> None:
    image = Image.new("RGB", (800, 600), _COLOURS[index % len(_COLOURS)])
    draw = ImageDraw.Draw(image)
    for step in range(0, 800, 40):
        draw.line([(step, 0), (800 - step, 600)], fill=(230, 230, 230), width=2)
    # Shapes of their own, so that each photo differs in structure, not only in colour
    # (perceptual hashes ignore colour: same-shaped photos would be near-duplicates).
    shapes = random.Random(index)  # noqa: S311 — the same picture every run, not a secret
    for _ in range(12):
        x, y = shapes.randrange(800), shapes.randrange(600)
        size = shapes.randrange(40, 220)
        shade = tuple(shapes.randrange(256) for _ in range(3))
        (draw.ellipse if shapes.random() < 0.5 else draw.rectangle)(
            [x, y, x + size, y + size * 2 // 3], fill=shade)
    draw.rectangle([40, 40, 420, 120], fill=(255, 255, 255))
    draw.text((60, 70), f"SYNTHETIC DEMO PHOTO {index + 1}", fill=(0, 0, 0))
    exif = Image.Exif()
    exif[0x0132] = f"2024:07:0{index + 1} 10:4{index}:00"  # DateTime
    exif[0x010F] = "Svidok demo camera"  # Make
    image.save(path, "JPEG", quality=85, exif=exif.tobytes())


CYRILLIC_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core


def _demo_leaflet(path: Path) -> None:
    """A synthetic leaflet with Ukrainian text, for the text search (needs a Cyrillic font)."""
    if not CYRILLIC_FONT.exists():
        return
    font = ImageFont.truetype(str(CYRILLIC_FONT), 36)
    image = Image.new("RGB", (900, 360), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(["ДЕМОНСТРАЦІЙНА ЛИСТІВКА", "Евакуація з вулиці Прикладної",
                                "Synthetic demo leaflet"]):
        draw.text((40, 40 + row * 100), line, font=font, fill=(20, 20, 20))
    image.save(path, "PNG")


def _demo_repost(source: Path, path: Path) -> None:
    """A mirrored, shrunken, recompressed copy of a demo photo: a near-duplicate."""
    with Image.open(source) as image:
        image.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((400, 300)).save(
            path, "JPEG", quality=60)


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
    if not (folder / "photo 1 (re-posted).jpg").exists():
        _demo_repost(folder / "photo 1.jpg", folder / "photo 1 (re-posted).jpg")
    if not (folder / "leaflet.png").exists():
        _demo_leaflet(folder / "leaflet.png")
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


# Synthetic incidents (invented places within real settlements, invented events) so the
# incident pages, map and facets have something to show. Never real casualties.
DEMO_INCIDENTS = [
    {"title": "Demo: missile strike on a hospital block (synthetic)", "start":
     datetime(2024, 7, 8, 7, 45, tzinfo=UTC), "time_precision": "exact",
     "latitude": 50.4501, "longitude": 30.5234, "location_precision": "near",
     "location_text": "Kyiv (synthetic demo)", "event_type": "explosions_remote_violence",
     "sub_type": "shelling_artillery_missile_attack", "weapons": ["cruise_missile"],
     "objects_hit": ["hospital"], "harm": {"injured": {"children": {"best": 3, "low": 2,
                                                                     "high": 4}}}},
    {"title": "Demo: shelling of a school yard (synthetic)", "start":
     datetime(2024, 7, 9, 21, 0, tzinfo=UTC), "time_precision": "day",
     "latitude": 49.9935, "longitude": 36.2304, "location_precision": "settlement",
     "location_text": "Kharkiv (synthetic demo)", "weapons": ["he_rocket_artillery"],
     "objects_hit": ["school"]},
    {"title": "Demo: drone strike on an energy substation (synthetic)", "start":
     datetime(2024, 7, 11, 1, 30, tzinfo=UTC), "time_precision": "hour",
     "latitude": 46.6354, "longitude": 32.6169, "location_precision": "settlement",
     "location_text": "Kherson (synthetic demo)", "weapons": ["loitering_munition"],
     "objects_hit": ["energy"]},
]


def demo_incidents() -> int:
    """Create the demo incidents once (by title); link the first demo photos to the first."""
    from svidok.apps.incidents.models import Incident
    from svidok.apps.incidents.services import incident_create, incident_link_item

    collection = Collection.objects.get(name=DEMO_COLLECTION)
    for fields in DEMO_INCIDENTS:
        if Incident.objects.filter(collection=collection, title=fields["title"]).exists():
            continue
        incident = incident_create(collection=collection, fields=fields, actor="svidok-demo")
        if fields is DEMO_INCIDENTS[0]:
            for name, fact in (("photo 1.jpg", "damage"), ("photo 2.jpg", "location")):
                item = Item.objects.filter(collection=collection, original_name=name).first()
                if item is not None:
                    incident_link_item(incident=incident, item=item, fact=fact,
                                       actor="svidok-demo")
    return Incident.objects.filter(collection=collection).count()


def demo_populate() -> dict[str, Any]:
    folder = demo_files(settings.SVIDOK_PATHS.home / "demo-files")
    facts = AcquisitionFacts(actor="svidok-demo", collected_by="Svidok demo generator",
                             note="synthetic demo material",
                             source_person="Synthetic Source (demo), +380 00 000 0000")
    evidence_ingest(paths=[folder], collection_name=DEMO_COLLECTION, facts=facts)
    incidents = demo_incidents()
    username, password = demo_user()
    # Investigator, not admin: administrators must set up a second factor first,
    # which a first look at the demo should not require.
    membership_grant(username=username, collection_name=DEMO_COLLECTION,
                     role=Role.INVESTIGATOR, actor="svidok-demo")
    return {
        "collection": DEMO_COLLECTION,
        "items": Item.objects.filter(collection__name=DEMO_COLLECTION).count(),
        "incidents": incidents,
        "username": username,
        "password": password,
    }
