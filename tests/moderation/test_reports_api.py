"""POST /api/reports/: any user reports a post, a message or a user; duplicates are one report."""

import pytest

from groups.messaging import send_message
from moderation.models import Report
from posts.actions import create_post
from tests.conftest import err, group_with, ok

pytestmark = pytest.mark.django_db

URL = "/api/reports/"


def report(client, **body):
    return client.post(URL, body, format="json")


@pytest.fixture
def post(bob):
    return create_post(actor=bob, content="something rude")


def test_reporting_a_post_creates_an_open_report(api, alice, bob, post):
    data = ok(report(api(alice), target_type="post", target_id=post.pk, reason="  It is rude.  "), 201)
    assert data == {"id": data["id"], "target_type": "post", "target_id": post.pk, "target": f"post:{post.pk}",
                    "reason": "It is rude.", "status": "open", "created_at": data["created_at"]}
    stored = Report.objects.get()
    assert (stored.reporter, stored.target_owner, stored.status) == (alice, bob, "open")
    assert "something rude" in stored.target_repr


def test_a_duplicate_report_is_the_same_report(api, alice, post):
    first = ok(report(api(alice), target_type="post", target_id=post.pk, reason="rude"), 201)
    again = ok(report(api(alice), target=f"post:{post.pk}", reason="still rude"), 200)
    as_string = ok(report(api(alice), target_type="post", target_id=str(post.pk), reason="rude!"), 200)
    assert first["id"] == again["id"] == as_string["id"] and again["reason"] == "rude"
    assert Report.objects.count() == 1


def test_another_reporter_files_another_report(api, alice, charlie, post):
    ok(report(api(alice), target=f"post:{post.pk}", reason="rude"), 201)
    ok(report(api(charlie), target=f"post:{post.pk}", reason="rude"), 201)
    assert Report.objects.count() == 2


def test_once_handled_the_same_target_can_be_reported_again(api, alice, post):
    first = ok(report(api(alice), target=f"post:{post.pk}", reason="rude"), 201)
    Report.objects.filter(pk=first["id"]).update(status="dismissed")
    second = ok(report(api(alice), target=f"post:{post.pk}", reason="rude again"), 201)
    assert second["id"] != first["id"]


def test_reporting_messages_and_users(api, alice, bob, charlie):
    group = group_with(alice, bob)
    in_group = send_message(actor=bob, body="group insult", group_id=group.pk)
    direct = send_message(actor=bob, body="direct insult", to_id=alice.pk)
    ok(report(api(alice), target=f"message:{in_group.pk}", reason="insult"), 201)
    ok(report(api(alice), target_type="message", target_id=direct.pk, reason="insult"), 201)
    ok(report(api(charlie), target=f"user:{bob.pk}", reason="troll"), 201)
    assert set(Report.objects.values_list("target_type", "target_owner")) == {("message", bob.pk),
                                                                              ("user", bob.pk)}


def test_targets_the_reporter_cannot_see_are_not_found(api, alice, bob, charlie, make_user):
    secret = group_with(alice, bob, private=True, name="secret")
    private_post = create_post(actor=bob, content="inside", group=secret)
    group_message = send_message(actor=bob, body="inside", group_id=secret.pk)
    their_dm = send_message(actor=alice, body="between us", to_id=bob.pk)
    gone = make_user("gone", is_active=False)
    for target in [f"post:{private_post.pk}", f"message:{group_message.pk}", f"message:{their_dm.pk}",
                   f"user:{gone.pk}", "post:999999", "message:999999", "user:999999"]:
        err(report(api(charlie), target=target, reason="?"), 404, "not_found")
    assert not Report.objects.exists()


@pytest.mark.parametrize("body", [
    {},
    {"reason": "no target"},
    {"target_type": "post", "reason": "no id"},
    {"target_id": 1, "reason": "no type"},
    {"target_type": "group", "target_id": 1, "reason": "not reportable"},
    {"target_type": "post", "target_id": "abc", "reason": "bad id"},
    {"target_type": "post", "target_id": 0, "reason": "bad id"},
    {"target_type": "post", "target_id": True, "reason": "bad id"},
    {"target_type": "post", "target_id": 2**63, "reason": "bad id"},
    {"target": "post: 1", "reason": "bad target"},
    {"target": "post:1\nx", "reason": "bad target"},
    {"target": "post:x", "reason": "bad target"},
    {"target": "post:99999999999999999999", "reason": "bad target"},
    {"target": "post:1", "target_type": "post", "target_id": 1, "reason": "both"},
    {"target": "post:1"},
    {"target": "post:1", "reason": "   "},
    {"target": "post:1", "reason": 42},
    {"target": "post:1", "reason": "x" * 1001},
    {"target": "post:1", "reason": "nul \x00 inside"},
])
def test_bad_input_is_a_400(api, alice, body):
    err(report(api(alice), **body), 400, "validation_error")
    assert not Report.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api, alice):
    err(api(alice).post(URL, ["post:1"], format="json"), 400, "validation_error")


def test_nobody_reports_themselves(api, alice):
    err(report(api(alice), target=f"user:{alice.pk}", reason="me"), 400, "validation_error")


def test_reporting_needs_a_signed_in_user(anon, db):
    err(report(anon, target="user:1", reason="x"), 401, "not_authenticated")


def test_get_lists_only_my_reports(api, alice, charlie, post):
    mine = ok(report(api(alice), target=f"post:{post.pk}", reason="rude"), 201)
    ok(report(api(charlie), target=f"post:{post.pk}", reason="rude"), 201)
    data = ok(api(alice).get(URL))
    assert [r["id"] for r in data["results"]] == [mine["id"]] and data["next"] is None
