"""The served application reads text in the background: an upload answers at once,
and its text becomes searchable shortly after, with no command run by hand."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest

from tests.apps.text.samples import FONT, text_image
from tests.live_server import live_svidok  # noqa: F401 — fixture

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not FONT.exists(), reason="needs fonts-dejavu-core")]


def call(live, path, *, data=None, headers=None):
    request = urllib.request.Request(live.url + path, data=data, headers={
        "Authorization": f"Bearer {live.token}", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 — loopback
        return json.loads(response.read())


def test_uploaded_text_becomes_searchable_without_a_command(live_svidok, tmp_path):  # noqa: F811
    picture = tmp_path / "leaflet.png"
    text_image(["Фільтраційний табір", "filtration camp"]).save(picture)
    collection = next(c["id"] for c in call(live_svidok, "/api/v1/collections"))
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"collection\"\r\n\r\n"
            f"{collection}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"leaflet.png\"\r\nContent-Type: image/png\r\n\r\n").encode() \
        + picture.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    result = call(live_svidok, "/api/v1/items", data=body,
                  headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    item = result["results"][0]["item"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = call(live_svidok, f"/api/v1/items/{item}/text")
        if text["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert text["status"] == "done", text
    hits = call(live_svidok, "/api/v1/text/search?q=%D1%82%D0%B0%D0%B1%D1%96%D1%80")  # табір
    assert [h["item"] for h in hits] == [item]
