"""Users, roles per collection, the permission policy and the access log."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from svidok.apps.accounts.models import AccessLogEntry, Membership, Role
from svidok.apps.accounts.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    authorize,
    can,
    visible_collections,
)
from svidok.apps.accounts.selectors import user_list
from svidok.apps.accounts.services import (
    membership_grant,
    membership_revoke,
    user_create,
    user_disable,
)
from svidok.apps.evidence.models import Collection
from svidok.core.errors import Forbidden, InvalidInput, NotFound

pytestmark = pytest.mark.django_db
GOOD = "correct horse battery staple"


@pytest.fixture
def collections():
    """Two collections, A and B."""
    return Collection.objects.create(name="A"), Collection.objects.create(name="B")


class TestUsers:
    def test_create_hashes_with_argon2_and_logs(self):
        user = user_create(username="olena", password=GOOD, actor="admin")
        assert user.password.startswith("argon2")
        assert AccessLogEntry.objects.filter(action="user.created", target="olena").exists()

    @pytest.mark.parametrize("password", ["short", "password123"])
    def test_weak_passwords_are_refused(self, password):
        with pytest.raises(InvalidInput, match="password refused"):
            user_create(username="olena", password=password, actor="admin")

    def test_duplicate_and_empty_names(self):
        user_create(username="olena", password=GOOD, actor="admin")
        with pytest.raises(InvalidInput, match="exists already"):
            user_create(username="olena", password=GOOD, actor="admin")
        with pytest.raises(InvalidInput, match="needs a name"):
            user_create(username="  ", password=GOOD, actor="admin")

    def test_disable(self, collections):
        user_create(username="olena", password=GOOD, actor="admin")
        membership_grant(username="olena", collection_name="A", role="analyst", actor="admin")
        user_disable(username="olena", actor="admin")
        user = get_user_model().objects.get(username="olena")
        assert not user.is_active
        assert role_list(user) == []


def role_list(user):
    return list(visible_collections(user=user))


class TestMemberships:
    def test_grant_change_revoke_are_logged_once_each(self, collections):
        user_create(username="olena", password=GOOD, actor="admin")
        membership_grant(username="olena", collection_name="A", role="viewer", actor="admin")
        membership_grant(username="olena", collection_name="A", role="viewer", actor="admin")
        membership_grant(username="olena", collection_name="A", role="legal", actor="admin")
        assert Membership.objects.get().role == "legal"
        membership_revoke(username="olena", collection_name="A", actor="admin")
        actions = list(AccessLogEntry.objects.order_by("time").values_list("action", flat=True))
        assert actions == ["user.created", "permission.granted", "permission.granted",
                           "permission.revoked"]

    def test_unknown_role_user_collection(self, collections):
        user_create(username="olena", password=GOOD, actor="admin")
        with pytest.raises(InvalidInput, match="unknown role"):
            membership_grant(username="olena", collection_name="A", role="god", actor="a")
        with pytest.raises(NotFound, match="no user"):
            membership_grant(username="nobody", collection_name="A", role="viewer", actor="a")
        with pytest.raises(NotFound, match="no collection"):
            membership_grant(username="olena", collection_name="Z", role="viewer", actor="a")
        with pytest.raises(NotFound):
            membership_revoke(username="olena", collection_name="A", actor="a")

    def test_user_list(self, collections):
        user_create(username="olena", password=GOOD, actor="admin")
        membership_grant(username="olena", collection_name="B", role="verifier", actor="admin")
        assert user_list() == [{"username": "olena", "active": True, "admin": False,
                                "roles": {"B": "verifier"}}]


class TestPolicy:
    def test_non_member_gets_not_found_member_gets_forbidden(self, collections):
        a, b = collections
        user = user_create(username="olena", password=GOOD, actor="admin")
        membership_grant(username="olena", collection_name="A", role="viewer", actor="admin")
        assert authorize(user=user, permission=Permission.VIEW_ITEMS, collection=a) == Role.VIEWER
        with pytest.raises(Forbidden):
            authorize(user=user, permission=Permission.DOWNLOAD, collection=a)
        with pytest.raises(NotFound):
            authorize(user=user, permission=Permission.VIEW_ITEMS, collection=b)
        assert list(visible_collections(user=user)) == [a]

    def test_superuser_is_admin_everywhere(self, collections):
        a, b = collections
        root = get_user_model().objects.create_superuser("root", password=None)
        assert all(can(user=root, permission=p, collection=b) for p in Permission)

    def test_anonymous_sees_nothing(self, collections):
        from django.contrib.auth.models import AnonymousUser

        assert list(visible_collections(user=AnonymousUser())) == []
        with pytest.raises(NotFound):
            authorize(user=AnonymousUser(), permission=Permission.VIEW_ITEMS,
                      collection=collections[0])

    def test_every_role_has_rules_and_only_admins_manage_members(self):
        assert set(ROLE_PERMISSIONS) == set(Role)
        managers = {r for r, p in ROLE_PERMISSIONS.items() if Permission.MANAGE_MEMBERS in p}
        assert managers == {Role.ADMIN}
        revealers = {r for r, p in ROLE_PERMISSIONS.items() if Permission.REVEAL_PROTECTED in p}
        assert revealers == {Role.ADMIN, Role.INVESTIGATOR, Role.LEGAL}


class TestLoginThrottling:
    def post_login(self, client, password):
        return client.post("/login/", {"username": "olena", "password": password})

    def test_lock_out_after_repeated_failures_is_logged(self, client, settings):
        from axes.utils import reset

        reset()
        user_create(username="olena", password=GOOD, actor="admin")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert self.post_login(client, "wrong password!").status_code == 200
        assert self.post_login(client, "wrong password!").status_code == 429
        # locked out: even the right password is refused now
        assert self.post_login(client, GOOD).status_code == 429
        actions = list(AccessLogEntry.objects.values_list("action", flat=True))
        assert actions.count("login.failed") >= settings.AXES_FAILURE_LIMIT
        assert "login.locked_out" in actions
        for entry in AccessLogEntry.objects.all():
            assert "wrong password" not in str(entry.details)
        reset()

    def test_success_before_the_limit_resets_the_count(self, client, settings):
        from axes.utils import reset

        reset()
        user_create(username="olena", password=GOOD, actor="admin")
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            self.post_login(client, "wrong password!")
        response = self.post_login(client, GOOD)
        assert response.status_code == 302
        client.logout()
        assert self.post_login(client, "wrong password!").status_code == 200
        reset()
