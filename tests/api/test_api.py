"""The REST API as a client sees it: tokens, one error shape, uploads, proofs, filters."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from svidok.apps.accounts.models import ApiToken
from svidok.apps.accounts.services import membership_grant, user_disable
from svidok.apps.accounts.tokens import api_token_create, api_token_revoke
from svidok.apps.custody.models import CustodyEvent
from svidok.apps.custody.services import Action
from svidok.apps.custody.signing_key import instance_public_key
from svidok.apps.evidence.models import Collection, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.core.custody.proofs import verify_proof_bundle
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(svidok_home, tmp_path):
    """An investigator's authenticated client, and a collection with two photos."""
    for seed in (1, 2):
        evidence_ingest(paths=[make_jpeg(tmp_path / f"photo-{seed}.jpg", seed)],
                        collection_name="Field",
                        facts=AcquisitionFacts(actor="t", source_url=f"https://example.org/{seed}",
                                               source_person="Synthetic Person"))
    get_user_model().objects.create_user("ivanna")
    membership_grant(username="ivanna", collection_name="Field", role="investigator", actor="t")
    _, raw = api_token_create(username="ivanna", name="tests", actor="t")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.token = raw
    client.collection = Collection.objects.get(name="Field").id
    return client


def assert_error(response, status):
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]
    return body


class TestTokens:
    def test_only_a_hash_is_stored(self, api):
        token = ApiToken.objects.get()
        assert api.token not in {token.digest, token.prefix}
        assert api.token.startswith(token.prefix)

    @pytest.mark.parametrize("header", ["", "Bearer", "Bearer svk_nope", "Basic abc",
                                        "Bearer " + "x" * 5000])
    def test_bad_credentials_get_401(self, api, header):
        response = Client().get("/api/v1/items", HTTP_AUTHORIZATION=header)
        assert_error(response, 401)

    def test_revoked_token_is_refused(self, api):
        assert api.get("/api/v1/items").status_code == 200
        api_token_revoke(username="ivanna", prefix=ApiToken.objects.get().prefix, actor="t")
        assert_error(api.get("/api/v1/items"), 401)

    def test_disabled_user_token_is_refused(self, api):
        user_disable(username="ivanna", actor="t")
        assert_error(api.get("/api/v1/items"), 401)

    def test_last_use_is_recorded(self, api):
        api.get("/api/v1/items")
        assert ApiToken.objects.get().last_used_at is not None


class TestErrors:
    def test_unknown_item(self, api):
        assert_error(api.get("/api/v1/items/00000000-0000-0000-0000-000000000000"), 404)

    def test_malformed_id(self, api):
        body = assert_error(api.get("/api/v1/items/not-a-uuid"), 422)
        assert body["extra"]["errors"]

    def test_bad_sort_and_hash(self, api):
        assert_error(api.get("/api/v1/items?sort=evil"), 422)
        assert_error(api.get("/api/v1/items?sha256_prefix=zz"), 422)
        assert_error(api.get("/api/v1/items?collection=9223372036854775808"), 422)

    def test_nul_in_query_is_refused_not_crashed(self, api):
        assert_error(api.get("/api/v1/items", {"q": "a\x00b"}), 400)


class TestItems:
    def test_list_filters(self, api):
        everything = api.get("/api/v1/items").json()
        assert everything["total"] == 2
        first = everything["items"][0]
        by_hash = api.get("/api/v1/items", {"sha256_prefix": first["sha256"][:10]}).json()
        assert [i["id"] for i in by_hash["items"]] == [first["id"]]
        assert api.get("/api/v1/items", {"media": "video"}).json()["total"] == 0
        assert api.get("/api/v1/items", {"media": "image"}).json()["total"] == 2
        assert api.get("/api/v1/items", {"source": "example.org/2"}).json()["total"] == 1
        assert api.get("/api/v1/items", {"q": "photo-1"}).json()["total"] == 1
        names = [i["original_name"] for i in api.get("/api/v1/items", {"sort": "-name"}).json()[
            "items"]]
        assert names == ["photo-2.jpg", "photo-1.jpg"]
        paged = api.get("/api/v1/items", {"page_size": 1, "page": 2}).json()
        assert paged["pages"] == 2 and len(paged["items"]) == 1

    def test_detail_masks_protected_fields_and_is_logged(self, api):
        item = Item.objects.first()
        body = api.get(f"/api/v1/items/{item.id}").json()
        [protected] = body["acquisitions"][0]["protected"]
        assert protected == {"field": "source_person", "present": True, "can_reveal": True,
                             "value": None}
        assert "Synthetic" not in json.dumps(body)
        assert CustodyEvent.objects.filter(item_id=item.id, action=Action.VIEWED,
                                           actor="api:ivanna").exists()

    def test_reveal(self, api):
        item = Item.objects.first()
        acquisition = item.acquisitions.get()
        url = f"/api/v1/items/{item.id}/acquisitions/{acquisition.id}/reveal/source_person"
        assert api.post(url).json() == {"field": "source_person", "value": "Synthetic Person"}
        assert CustodyEvent.objects.filter(action=Action.PROTECTED_REVEALED).count() == 1
        assert_error(api.post(url.replace("source_person", "note")), 422)

    def test_download_is_logged_and_exact(self, api):
        item = Item.objects.first()
        response = api.get(f"/api/v1/items/{item.id}/download")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        import hashlib

        assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == item.sha256
        assert CustodyEvent.objects.filter(item_id=item.id, action=Action.DOWNLOADED).exists()

    def test_proof_verifies_offline(self, api):
        item = Item.objects.first()
        bundle = api.get(f"/api/v1/items/{item.id}/proof").json()
        verify_proof_bundle(bundle, trusted_public_key=instance_public_key())
        events = api.get(f"/api/v1/items/{item.id}/events").json()
        assert events[0]["action"] == Action.ACQUIRED
        assert api.get("/api/v1/log/head").json()["size"] >= len(events)


class TestUpload:
    def upload(self, api, *files, **fields):
        data = {"collection": api.collection, **fields,
                "files": [SimpleUploadedFile(name, content) for name, content in files]}
        return api.post("/api/v1/items", data)

    def test_several_files(self, api, tmp_path):
        a = make_jpeg(tmp_path / "a.jpg", 7).read_bytes()
        b = make_jpeg(tmp_path / "b.jpg", 8).read_bytes()
        body = self.upload(api, ("new a.jpg", a), ("b.jpg", b), ("copy.jpg", a),
                           note="from a phone").json()
        assert (body["files"], body["new"], body["duplicate"]) == (3, 2, 1)
        item = Item.objects.get(original_name="new a.jpg")
        acquisition = item.acquisitions.first()
        assert acquisition.actor == "api:ivanna" and acquisition.note == "from a phone"
        assert acquisition.original_path.startswith("upload/")
        assert acquisition.original_path.endswith("/new a.jpg")

    def test_hostile_file_name_stays_a_name(self, api, tmp_path):
        photo = make_jpeg(tmp_path / "x.jpg", 9).read_bytes()
        body = self.upload(api, ("../../etc/passwd", photo)).json()
        assert body["new"] == 1
        name = Item.objects.get(sha256=body["results"][0]["sha256"]).original_name
        assert "/" not in name

    def test_over_the_limit_is_refused_whole(self, api, tmp_path, settings):
        settings.SVIDOK_UPLOAD_MAX_BYTES = 1000
        before = Item.objects.count()
        photo = make_jpeg(tmp_path / "big.jpg", 3, size=(200, 200)).read_bytes()
        assert len(photo) > 1000
        body = assert_error(self.upload(api, ("big.jpg", photo)), 413)
        assert "1,000 bytes" in body["message"]
        assert Item.objects.count() == before

    def test_no_files(self, api):
        assert_error(api.post("/api/v1/items", {"collection": api.collection}), 422)

    @pytest.mark.parametrize("moment", ["yesterday", "2024-05-25T16:40:00",
                                        "9999-12-31T23:59:59-23:59"])
    def test_bad_collected_at(self, api, tmp_path, moment):
        photo = make_jpeg(tmp_path / "m.jpg", 11).read_bytes()
        body = assert_error(self.upload(api, ("m.jpg", photo), collected_at=moment), 400)
        assert "collected_at" in body["message"] or "time zone" in body["message"]

    def test_malformed_multipart_is_a_client_error(self, api):
        response = api.generic("POST", "/api/v1/items", b"garbage",
                               content_type="multipart/form-data")
        assert_error(response, 400)

    def test_unknown_paths_and_methods_have_the_error_shape(self, api):
        assert_error(api.get("/api/v1/nothing"), 404)
        assert_error(api.put("/api/v1/collections"), 405)

    def test_collection_of_others_does_not_exist(self, api, tmp_path):
        Collection.objects.create(name="Secret")
        secret = Collection.objects.get(name="Secret").id
        photo = make_jpeg(tmp_path / "s.jpg", 4).read_bytes()
        response = api.post("/api/v1/items", {"collection": secret,
                                              "files": [SimpleUploadedFile("s.jpg", photo)]})
        assert_error(response, 404)


class TestDocumentation:
    def test_openapi_document(self, svidok_home):
        schema = Client().get("/api/v1/openapi.json").json()
        assert schema["openapi"].startswith("3.")
        assert "/api/v1/items/{item_id}/proof" in schema["paths"]
        assert "BearerAuth" in json.dumps(schema["components"]) or "TokenAuth" in json.dumps(
            schema["components"])

    def test_docs_page_is_served_offline(self, svidok_home):
        html = Client().get("/api/v1/docs").content.decode()
        assert "swagger-ui-bundle.js" in html
        assert "cdn" not in html.lower() and "https://" not in html


def test_export_zip_holds_original_metadata_and_a_proof_covering_it(api, svidok_home):
    import io
    import zipfile

    item = Item.objects.first()
    assert api.get(f"/api/v1/items/{item.id}/export").status_code == 403  # investigator
    get_user_model().objects.create_user("lawyer")
    membership_grant(username="lawyer", collection_name="Field", role="legal", actor="t")
    legal = Client(HTTP_AUTHORIZATION="Bearer " + api_token_create(
        username="lawyer", name="t", actor="t")[1])
    response = legal.get(f"/api/v1/items/{item.id}/export")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = sorted(archive.namelist())
    assert names == sorted([f"{item.sha256}/{item.original_name}",
                            f"{item.sha256}/metadata.json", f"{item.sha256}/custody-proof.json"])
    import hashlib

    assert hashlib.sha256(archive.read(f"{item.sha256}/{item.original_name}")).hexdigest() \
        == item.sha256
    bundle = json.loads(archive.read(f"{item.sha256}/custody-proof.json"))
    verify_proof_bundle(bundle, trusted_public_key=instance_public_key())
    assert any(json.loads(e["event"])["action"] == Action.EXPORTED for e in bundle["events"])
    assert not list((svidok_home / "work").glob("export-*")), "nothing left behind"


def test_similar_finds_a_mirrored_copy(api, tmp_path):
    from PIL import Image

    from tests.apps.evidence.test_similarity import make_photo

    photo = make_photo(tmp_path / "scene.jpg", 21)
    Image.open(photo).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "m.jpg")
    evidence_ingest(paths=[photo, tmp_path / "m.jpg"], collection_name="Field",
                    facts=AcquisitionFacts(actor="t"))
    scene = Item.objects.get(original_name="scene.jpg")
    found = api.get(f"/api/v1/items/{scene.id}/similar").json()
    assert [(m["name"], m["variant"]) for m in found] == [("m.jpg", "mirrored left–right")]
    assert api.get(f"/api/v1/items/{scene.id}/similar", {"max_distance": 0}).json() == []
    assert_error(api.get(f"/api/v1/items/{scene.id}/similar", {"max_distance": 999}), 422)
