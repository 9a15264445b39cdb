"""Every URL, every role: members see what their role allows, non-members see nothing.

The matrix is built from the URL configuration itself, so a new endpoint
without a declared rule (``svidok.web.access``) fails here.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from svidok.apps.accounts.models import Role
from svidok.apps.accounts.permissions import ROLE_PERMISSIONS, Permission
from svidok.apps.accounts.services import membership_grant
from svidok.apps.evidence.models import DerivedFile, Item
from svidok.apps.evidence.services import AcquisitionFacts, evidence_ingest
from svidok.web.access import PUBLIC, SIGNED_IN
from tests.conftest import make_jpeg

pytestmark = pytest.mark.django_db


def named_patterns(patterns=None, prefix=""):
    """(name, pattern) of every URL pattern, descending into includes."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from named_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name, entry


@pytest.fixture
def world(svidok_home, tmp_path):
    """Collection A with a photo and a member per role; collection B with its own member."""
    facts = AcquisitionFacts(actor="tester")
    evidence_ingest(paths=[make_jpeg(tmp_path / "a.jpg", 1)], collection_name="A", facts=facts)
    evidence_ingest(paths=[make_jpeg(tmp_path / "b.jpg", 2)], collection_name="B", facts=facts)
    users = get_user_model()
    for role in Role:
        users.objects.create_user(role.value)  # force_login needs no password
        membership_grant(username=role.value, collection_name="A", role=role, actor="test")
    users.objects.create_user("outsider")
    membership_grant(username="outsider", collection_name="B", role=Role.ADMIN, actor="test")
    users.objects.create_superuser("root", password=None)
    item = Item.objects.get(collection__name="A")
    return {
        "item_id": item.id,
        "derived_id": DerivedFile.objects.get(item=item, kind="thumbnail").id,
    }


def url_for(name, pattern, world):
    missing = set(pattern.pattern.converters) - world.keys()
    assert not missing, f"add a sample value for {missing} in the matrix world"
    return reverse(name, kwargs={k: world[k] for k in pattern.pattern.converters})


def client_for(username):
    client = Client()
    if username is not None:
        client.force_login(get_user_model().objects.get(username=username))
    return client


def test_every_view_declares_a_rule():
    unruled = [name for name, pattern in named_patterns()
               if getattr(pattern.callback, "svidok_rule", None) is None]
    assert not unruled, f"views without an access rule: {unruled}"


def cases():
    for name, pattern in named_patterns():
        rule = getattr(pattern.callback, "svidok_rule", None)
        for who in [None, "outsider", "root", *Role.values]:
            yield pytest.param(name, rule, who, id=f"{name}-{who or 'anonymous'}")


@pytest.mark.parametrize(("name", "rule", "who"), list(cases()))
def test_matrix(world, name, rule, who):
    pattern = dict(named_patterns())[name]
    response = client_for(who).get(url_for(name, pattern, world))
    status = response.status_code
    if rule == PUBLIC:
        assert status < 500
        return
    if who is None:
        assert status == 302 and response["Location"].startswith(reverse("login"))
        return
    if rule == SIGNED_IN:
        assert status == 200
        return
    assert isinstance(rule, Permission)
    if who == "outsider":
        assert status == 404, "a non-member must not learn that the item exists"
    elif who == "root" or rule in ROLE_PERMISSIONS[Role(who)]:
        assert status == 200
    else:
        assert status == 403


def test_item_list_shows_only_member_collections(world):
    body = client_for("outsider").get(reverse("items")).content.decode()
    assert "b.jpg" in body and "a.jpg" not in body
