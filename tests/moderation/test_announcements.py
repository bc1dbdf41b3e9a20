"""Announcements: stored from the admin (audited), an `announcement` frame in the stream to every
socket (anonymous ones too) or to a group's members when it starts, `GET /api/announcements/`
while it is shown, and `POST /api/announcements/{id}/dismiss/`."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from config.errors import Forbidden
from moderation import actions as moderation
from moderation.models import Announcement, ModerationLog
from tests.conftest import err, group_with, ok
from tests.sockets import call, nothing, recv

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/announcements/"


@pytest.fixture
def operator(make_user):
    return make_user("root", is_staff=True, is_superuser=True)


def announce(operator, message="Maintenance at 22:00", **options):
    return moderation.announce(moderator=operator, message=message, **options)


async def test_an_announcement_to_everyone_reaches_every_socket_anonymous_ones_too(connect, operator, alice, bob):
    sockets = [await connect(alice), await connect(bob), await connect()]
    item = await call(announce, operator, level="warning")
    for comm in sockets:
        frame = await recv(comm)
        assert (frame["type"], frame["id"], frame["message"], frame["level"], frame["groupid"]) == (
            "announcement", item.pk, "Maintenance at 22:00", "warning", None)
        assert frame["seq"] > comm.first["seq"]


async def test_a_group_announcement_reaches_its_members_only(connect, operator, alice, bob, charlie):
    group = await call(group_with, alice, bob)
    members, others = [await connect(alice), await connect(bob)], [await connect(charlie), await connect()]
    item = await call(announce, operator, message="Tournament tonight", group=group)
    for comm in members:
        frame = await recv(comm)
        assert frame["type"] == "announcement" and frame["groupid"] == group.pk and frame["id"] == item.pk
    await nothing(*others)


async def test_a_member_who_was_away_gets_the_group_announcement_on_resume(connect, operator, alice, bob):
    group = await call(group_with, alice, bob)
    comm = await connect(bob)
    position = comm.first["seq"]
    await comm.disconnect()
    await call(announce, operator, message="While you were away", group=group)
    again = await connect(bob, resume=position)
    assert (await recv(again))["message"] == "While you were away"


def test_a_scheduled_announcement_goes_out_once_when_it_starts(operator, alice):
    later = announce(operator, message="Later", starts_at=timezone.now() + timedelta(hours=1))
    assert later.published_at is None and moderation.publish_due_announcements() == 0
    Announcement.objects.filter(pk=later.pk).update(starts_at=timezone.now() - timedelta(seconds=1))
    assert moderation.publish_due_announcements() == 1
    assert moderation.publish_due_announcements() == 0
    assert Announcement.objects.get(pk=later.pk).published_at is not None


def test_the_list_shows_what_is_on_now_to_whom_it_is_for(api, anon, operator, alice, bob, charlie):
    group = group_with(alice, bob)
    everyone = announce(operator, message="For all")
    theirs = announce(operator, message="For the group", group=group)
    announce(operator, message="Not yet", starts_at=timezone.now() + timedelta(hours=1))
    over = announce(operator, message="Over", starts_at=timezone.now() - timedelta(hours=2))
    Announcement.objects.filter(pk=over.pk).update(ends_at=timezone.now() - timedelta(hours=1))
    assert [a["id"] for a in ok(anon.get(URL))["results"]] == [everyone.pk]
    assert [a["id"] for a in ok(api(charlie).get(URL))["results"]] == [everyone.pk]
    listed = ok(api(bob).get(URL))["results"]
    assert [a["id"] for a in listed] == [theirs.pk, everyone.pk]
    assert listed[0] == {"id": theirs.pk, "message": "For the group", "level": "info", "groupid": group.pk,
                         "starts_at": listed[0]["starts_at"], "ends_at": None}


def test_a_dismissed_announcement_is_gone_on_every_device(api, anon, operator, alice, bob):
    item = announce(operator)
    assert ok(api(alice).post(f"{URL}{item.pk}/dismiss/")) == {"dismissed": True}
    assert ok(api(alice).post(f"{URL}{item.pk}/dismiss/")) == {"dismissed": True}  # again: the same
    assert ok(api(alice).get(URL))["results"] == []
    assert [a["id"] for a in ok(api(bob).get(URL))["results"]] == [item.pk]
    err(anon.post(f"{URL}{item.pk}/dismiss/"), 401, "not_authenticated")


def test_dismissing_what_is_not_yours_to_see_is_a_404(api, operator, alice, bob, charlie):
    secret = announce(operator, group=group_with(alice, bob))
    err(api(charlie).post(f"{URL}{secret.pk}/dismiss/"), 404, "not_found")
    err(api(charlie).post(f"{URL}999999/dismiss/"), 404, "not_found")


def test_announcing_is_audited_and_takes_the_permission(operator, moderator):
    item = announce(operator, message="Audited")
    log = ModerationLog.objects.get(action=ModerationLog.Action.ANNOUNCE)
    assert (log.target_type, log.target_id, log.moderator_id) == ("announcement", item.pk, operator.pk)
    with pytest.raises(Forbidden):
        announce(moderator)


def test_the_admin_stores_and_sends_an_announcement(operator, alice):
    desk = Client()
    desk.force_login(operator)
    response = desk.post("/admin/moderation/announcement/add/", {
        "message": "From the desk", "level": "critical", "starts_at_0": "", "starts_at_1": "", "ends_at_0": "",
        "ends_at_1": "", "group": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Announcement.objects.get()
    assert (item.message, item.level, item.published_at is not None) == ("From the desk", "critical", True)
    assert ModerationLog.objects.filter(action="announce", target_id=item.pk).exists()
    response = desk.post("/admin/moderation/announcement/add/", {
        "message": "Backwards", "level": "info", "starts_at_0": "2030-01-02", "starts_at_1": "10:00:00",
        "ends_at_0": "2030-01-01", "ends_at_1": "10:00:00", "group": ""})
    assert response.status_code == 200 and Announcement.objects.count() == 1
