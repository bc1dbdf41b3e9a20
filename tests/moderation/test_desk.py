"""The desk itself: who reaches /admin/, the Moderators group's permissions, read-only pages, bounded changelists."""

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import FriendRequest, Notification, User
from groups.models import Ban, Group, Membership, Message
from moderation import moderators
from moderation.models import ModerationLog, Report
from posts.models import Like, Post
from tests.conftest import PASSWORD
from tests.moderation.conftest import changelist

pytestmark = pytest.mark.django_db


# --- who gets in -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/", "/admin/moderation/report/"])
def test_non_staff_are_redirected_to_the_admin_login(make_user, path):
    client = Client()
    client.force_login(make_user("plain"))
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")


def test_non_staff_cannot_sign_in_to_the_admin(make_user):
    make_user("plain")
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "plain", "password": PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_a_moderator_signs_in_and_sees_only_the_desk(moderator):
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "mod", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    index = client.get("/admin/").content.decode()
    for model in ["accounts/user", "moderation/report", "moderation/moderationlog", "groups/group",
                  "groups/membership", "groups/ban", "groups/message", "posts/post"]:
        assert f"/admin/{model}/" in index, model
    for hidden in ["accounts/notification", "accounts/friendrequest", "posts/like", "auth/group",
                   "token_blacklist/outstandingtoken"]:
        assert f"/admin/{hidden}/" not in index, hidden
        assert client.get(f"/admin/{hidden}/").status_code == 403, hidden


def test_a_deactivated_moderator_is_shut_out(moderator, desk):
    User.objects.filter(pk=moderator.pk).update(is_active=False)
    assert desk.get("/admin/").status_code == 302


# --- least permissions -----------------------------------------------------------------------------
def test_the_data_migration_made_the_moderators_group_with_the_least_permissions(moderator):
    group = AuthGroup.objects.get(name="Moderators")
    granted = {(p.content_type.app_label, p.codename) for p in group.permissions.select_related("content_type")}
    assert granted == set(moderators.MODERATOR_PERMISSIONS)
    assert not any(code.startswith("add_") for _, code in granted)
    assert not moderator.is_superuser
    moderators.create_moderators_group(__import__("django.apps").apps.apps, None)  # idempotent
    assert AuthGroup.objects.filter(name="Moderators").count() == 1


def test_moderators_cannot_edit_users_or_grant_themselves_rights(moderator, desk, bob):
    page = desk.get(reverse("admin:accounts_user_change", args=[moderator.pk])).content.decode()
    assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page and 'name="groups"' not in page
    response = desk.post(reverse("admin:accounts_user_change", args=[moderator.pk]),
                         {"username": "mod", "is_superuser": "on", "is_staff": "on"})
    assert response.status_code == 403
    moderator.refresh_from_db()
    assert not moderator.is_superuser


@pytest.mark.parametrize("model", ["accounts.user", "groups.membership", "groups.message", "posts.post",
                                   "groups.group"])
def test_generic_deletes_are_closed_so_changes_go_through_relayed_actions(desk, superdesk, model):
    app, name = model.split(".")
    for client in (desk, superdesk):
        assert client.get(reverse(f"admin:{app}_{name}_delete", args=[1])).status_code in (302, 403)
        form = client.get(changelist(model)).context["action_form"]
        actions = [value for value, _ in form.fields["action"].choices] if form else []
        assert "delete_selected" not in actions


def test_moderators_may_not_add_rows_by_hand(desk):
    for model in ["groups.membership", "groups.ban", "groups.message", "posts.post", "moderation.report",
                  "accounts.user"]:
        app, name = model.split(".")
        assert desk.get(reverse(f"admin:{app}_{name}_add")).status_code == 403, model


def test_the_audit_trail_is_read_only_for_everyone(desk, superdesk, moderator):
    entry = ModerationLog.objects.create(moderator=moderator, moderator_name="mod", action="hide_post",
                                         target_type="post", target_id=7, target_repr="post #7", reason="spam")
    change = reverse("admin:moderation_moderationlog_change", args=[entry.pk])
    for client in (desk, superdesk):
        assert client.get(changelist("moderation.moderationlog")).status_code == 200
        page = client.get(change)
        assert page.status_code == 200 and b"spam" in page.content
        assert b'name="_save"' not in page.content and b'name="reason"' not in page.content
        assert client.post(change, {"reason": "edited"}).status_code == 403
        assert client.get(reverse("admin:moderation_moderationlog_add")).status_code == 403
        assert client.post(reverse("admin:moderation_moderationlog_delete", args=[entry.pk]),
                           {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.reason == "spam"


# --- changelists stay bounded ----------------------------------------------------------------------
class Seed:
    """`Seed(make_user).rows(model, n)` adds n rows, each with its own related objects (so N+1 would show)."""

    def __init__(self, make_user):
        self.make_user = make_user

    def user(self):
        return self.make_user()

    def group(self):
        return Group.objects.create(name="g", owner=self.user())

    def post(self):
        return Post.objects.create(author=self.user(), group=self.group(), content="hello")

    def rows(self, model, n):
        for i in range(n):
            {
                "accounts.user": self.user,
                "groups.group": self.group,
                "groups.membership": lambda: Membership.objects.create(user=self.user(), group=self.group()),
                "groups.ban": lambda: Ban.objects.create(user=self.user(), group=self.group(),
                                                         banned_by=self.user()),
                "groups.message": lambda i=i: Message.objects.create(
                    sender=self.user(), body="hi",
                    **({"group": self.group()} if i % 2 else {"recipient": self.user()})),
                "posts.post": self.post,
                "posts.like": lambda: Like.objects.create(user=self.user(), post=self.post()),
                "accounts.notification": lambda: Notification.objects.create(user=self.user(), kind="like",
                                                                             message="m"),
                "accounts.friendrequest": lambda: FriendRequest.objects.create(from_user=self.user(),
                                                                               to_user=self.user()),
                "moderation.report": lambda: Report.objects.create(
                    reporter=self.user(), target_type="user", target_id=1, target_owner=self.user(),
                    target_repr="x", reason="r", status="open"),
                "moderation.moderationlog": lambda: ModerationLog.objects.create(
                    moderator=self.user(), moderator_name="m", action="hide_post", target_type="post",
                    target_id=1),
                "auth.group": lambda i=i: AuthGroup.objects.create(name=f"team {self.user().pk}"),
                "token_blacklist.outstandingtoken": lambda: RefreshToken.for_user(self.user()),
                "token_blacklist.blacklistedtoken": lambda: RefreshToken.for_user(self.user()).blacklist(),
            }[model]()


MODERATOR_PAGES = ["accounts.user", "moderation.report", "moderation.moderationlog", "groups.group",
                   "groups.membership", "groups.ban", "groups.message", "posts.post"]
SUPERUSER_PAGES = ["accounts.notification", "accounts.friendrequest", "posts.like", "auth.group",
                   "token_blacklist.outstandingtoken", "token_blacklist.blacklistedtoken"]
MAX_QUERIES = 12


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("model", MODERATOR_PAGES + SUPERUSER_PAGES)
def test_each_changelist_costs_the_same_queries_for_3_and_30_rows(make_user, desk, superdesk, model):
    client = desk if model in MODERATOR_PAGES else superdesk
    url, seed = changelist(model), Seed(make_user)
    seed.rows(model, 3)
    client.get(url)  # warm up the session
    few, _ = queries_for(client, url)
    seed.rows(model, 27)
    many, response = queries_for(client, url)
    assert response.context["cl"].result_count >= 30
    assert many == few <= MAX_QUERIES, (few, many)


@pytest.mark.parametrize("model", MODERATOR_PAGES)
def test_search_and_filters_stay_bounded_too(make_user, desk, model):
    url, seed = changelist(model), Seed(make_user)
    seed.rows(model, 3)
    desk.get(url)
    few, _ = queries_for(desk, url + "?q=1&o=1")
    seed.rows(model, 27)
    many, _ = queries_for(desk, url + "?q=1&o=1")
    assert many == few <= MAX_QUERIES, (few, many)


def test_old_addresses_of_the_queue_and_the_audit_trail_still_land(desk):
    response = desk.get("/admin/accounts/report/7/change/?status=all")
    assert response.status_code == 302
    assert response["Location"] == "/admin/moderation/report/7/change/?status=all"
    assert desk.get("/admin/accounts/moderationlog/")["Location"] == "/admin/moderation/moderationlog/"
