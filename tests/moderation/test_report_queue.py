"""The open-reports queue in the admin: resolve, dismiss, and act on the target in one click."""

import pytest
from django.urls import reverse

from accounts.models import User
from groups.messaging import send_message
from groups.models import Message
from moderation import actions as moderation
from moderation.models import ModerationLog, Report
from posts.actions import create_post
from posts.models import Post
from tests.conftest import group_with
from tests.moderation.conftest import changelist
from tests.sockets import call, closed_with, expect, nothing

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "moderation.report"


def file(reporter, target, reason="Please look."):
    kind, _, target_id = target.partition(":")
    return moderation.file_report(reporter=reporter, target_type=kind, target_id=int(target_id), reason=reason)[0]


def one_click(client, report):
    return client.post(reverse("admin:moderation_report_take_down", args=[report.pk]))


def test_the_queue_shows_open_reports_by_default(desk, alice, bob, charlie):
    post = create_post(actor=bob, content="x")
    open_report = file(alice, f"post:{post.pk}", "OPEN-ONE")
    done = file(charlie, f"user:{bob.pk}", "DONE-ONE")
    Report.objects.filter(pk=done.pk).update(status="resolved")
    queue = desk.get(changelist(QUEUE))
    assert [r.pk for r in queue.context["cl"].result_list] == [open_report.pk]
    page = queue.content.decode()
    assert "OPEN-ONE" in page and "DONE-ONE" not in page and "Hide post" in page
    every = desk.get(changelist(QUEUE) + "?status=all")
    assert {r.pk for r in every.context["cl"].result_list} == {open_report.pk, done.pk}


def test_resolve_and_dismiss_close_reports_and_are_audited(desk, moderator, alice, bob, charlie):
    post = create_post(actor=bob, content="x")
    first, second = file(alice, f"post:{post.pk}"), file(charlie, f"user:{bob.pk}")
    desk.post(changelist(QUEUE), {"action": "resolve_reports", "_selected_action": [first.pk], "index": "0"})
    desk.post(changelist(QUEUE), {"action": "dismiss_reports", "_selected_action": [second.pk], "index": "0"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.handled_by, second.status, second.handled_by) == (
        "resolved", moderator, "dismissed", moderator)
    assert first.handled_at and second.handled_at
    assert list(ModerationLog.objects.order_by("id").values_list("action", "target_type", "target_id")) == [
        ("resolve_report", "report", first.pk), ("dismiss_report", "report", second.pk)]
    assert not Post.objects.get(pk=post.pk).is_hidden and User.objects.get(pk=bob.pk).is_active
    # Handling a closed report again changes nothing.
    desk.post(changelist(QUEUE), {"action": "dismiss_reports", "_selected_action": [first.pk], "index": "0"})
    first.refresh_from_db()
    assert first.status == "resolved" and ModerationLog.objects.count() == 2


async def test_one_click_hides_a_reported_post_relays_it_and_resolves_every_report_on_it(
        desk, moderator, alice, bob, charlie, connect):
    group = await call(group_with, alice, bob, charlie)
    post = await call(create_post, actor=bob, content="spam link", group=group)
    report = await call(file, alice, f"post:{post.pk}", "Spam.")
    other = await call(file, charlie, f"post:{post.pk}", "Also spam.")
    unrelated = await call(file, charlie, f"user:{bob.pk}", "Troll.")
    alice_socket = await connect(alice)

    response = await call(one_click, desk, report)

    assert response.status_code == 302 and response["Location"] == changelist(QUEUE)
    await expect(alice_socket, "postdelete", postid=post.pk, groupid=group.pk)
    assert (await Post.objects.aget(pk=post.pk)).is_hidden
    statuses = {r.pk: r.status async for r in Report.objects.all()}
    assert statuses == {report.pk: "resolved", other.pk: "resolved", unrelated.pk: "open"}
    log = [(e.action, e.target_type, e.target_id, e.moderator_id) async for e in ModerationLog.objects.order_by("id")]
    assert ("resolve_report", "report", report.pk, moderator.pk) in log
    assert ("resolve_report", "report", other.pk, moderator.pk) in log
    assert ("hide_post", "post", post.pk, moderator.pk) in log and len(log) == 3
    hide = await ModerationLog.objects.aget(action="hide_post")
    assert hide.reason == f"report #{report.pk}: Spam." and sorted(hide.details["reports"]) == sorted(
        [report.pk, other.pk])


async def test_the_take_down_action_deletes_a_reported_message(desk, alice, bob, charlie, connect):
    message = await call(send_message, actor=bob, body="threat", to_id=alice.pk)
    report = await call(file, alice, f"message:{message.pk}")
    alice_socket, bob_socket, charlie_socket = await connect(alice), await connect(bob), await connect(charlie)

    await call(desk.post, changelist(QUEUE),
               {"action": "take_down_reports", "_selected_action": [report.pk], "index": "0"})

    for comm in (alice_socket, bob_socket):
        await expect(comm, "deletemessage", id=message.pk)
    await nothing(charlie_socket)
    assert not await Message.objects.filter(pk=message.pk).aexists()
    assert (await Report.objects.aget(pk=report.pk)).status == "resolved"
    assert await ModerationLog.objects.filter(action="delete_message", target_id=message.pk).aexists()


async def test_one_click_on_a_user_report_deactivates_them_and_closes_their_sockets(desk, alice, bob, connect):
    report = await call(file, alice, f"user:{bob.pk}", "Abuse.")
    bob_socket = await connect(bob)
    await call(one_click, desk, report)
    assert await closed_with(bob_socket) == 4403
    assert not (await User.objects.aget(pk=bob.pk)).is_active
    assert (await Report.objects.aget(pk=report.pk)).status == "resolved"
    assert await ModerationLog.objects.filter(action="deactivate_user", target_id=bob.pk).aexists()


def test_a_report_whose_target_is_gone_is_just_resolved(desk, alice, bob):
    post = create_post(actor=bob, content="x")
    report = file(alice, f"post:{post.pk}")
    Post.objects.filter(pk=post.pk).delete()
    one_click(desk, report)
    report.refresh_from_db()
    assert report.status == "resolved"
    assert list(ModerationLog.objects.values_list("action", flat=True)) == ["resolve_report"]


def test_the_report_page_offers_the_one_click_buttons(desk, alice, bob):
    report = file(alice, f"user:{bob.pk}")
    page = desk.get(reverse("admin:moderation_report_change", args=[report.pk])).content.decode()
    assert reverse("admin:moderation_report_take_down", args=[report.pk]) in page
    assert "Deactivate user and resolve" in page
    assert reverse("admin:moderation_report_dismiss", args=[report.pk]) in page
    desk.post(reverse("admin:moderation_report_dismiss", args=[report.pk]))
    report.refresh_from_db()
    assert report.status == "dismissed" and User.objects.get(pk=bob.pk).is_active


def test_one_click_urls_need_post_and_the_permission(desk, make_user, alice, bob):
    report = file(alice, f"user:{bob.pk}")
    assert desk.get(reverse("admin:moderation_report_take_down", args=[report.pk])).status_code == 405
    from django.test import Client

    staff = Client()
    staff.force_login(make_user("intern", is_staff=True))  # staff, but not a moderator
    assert one_click(staff, report).status_code == 403
    report.refresh_from_db()
    assert report.status == "open" and User.objects.get(pk=bob.pk).is_active


def test_reports_cannot_be_edited_by_hand(desk, alice, bob):
    report = file(alice, f"user:{bob.pk}", "original")
    desk.post(reverse("admin:moderation_report_change", args=[report.pk]),
              {"status": "dismissed", "reason": "edited"})
    report.refresh_from_db()
    assert (report.status, report.reason) == ("open", "original")
