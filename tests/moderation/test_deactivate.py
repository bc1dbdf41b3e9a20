"""Deactivating (banning) a user from the admin: their sockets close with 4403 and every way back in is refused."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tickets import issue_ticket
from moderation.models import ModerationLog
from tests.conftest import PASSWORD, err, ok
from tests.moderation.conftest import admin_messages, run_action
from tests.sockets import call, closed_with, nothing

pytestmark = pytest.mark.django_db(transaction=True)


def login(username):
    return APIClient().post("/api/auth/login/", {"username": username, "password": PASSWORD}, format="json")


def refresh(token):
    return APIClient().post("/api/auth/refresh/", {"refresh": token}, format="json")


def is_user(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/auth/is-user/")


async def test_deactivation_closes_open_sockets_with_4403_and_refuses_every_way_back(
        desk, moderator, alice, bob, connect, open_socket):
    tokens = ok(await call(login, "bob"))
    spare_ticket = await call(issue_ticket, bob)
    bob_phone, bob_laptop = await connect(bob), await connect(bob)
    alice_socket = await connect(alice)

    await call(run_action, desk, "accounts.user", "deactivate_users", [bob], "Spam in every group.")

    assert await closed_with(bob_phone) == 4403
    assert await closed_with(bob_laptop) == 4403
    await nothing(alice_socket)
    assert not (await User.objects.aget(pk=bob.pk)).is_active
    # Every way back in is refused: password, refresh token, access token, an unused ticket.
    err(await call(login, "bob"), 401, "invalid_credentials")
    err(await call(refresh, tokens["refresh"]), 401, "invalid_token")
    err(await call(is_user, tokens["access"]), 401, "invalid_token")
    for ticket in (tokens["socket"]["id"], spare_ticket.id):
        comm, connected, code = await open_socket(f"/ws/?id={ticket}")
        assert (connected and await closed_with(comm) == 4403) or code == 4403
    headers = [(b"authorization", f"Bearer {tokens['access']}".encode())]
    comm, connected, code = await open_socket("/ws/", headers)
    assert (connected and await closed_with(comm) == 4403) or code == 4403
    entry = await ModerationLog.objects.aget(action="deactivate_user")
    assert (entry.moderator_id, entry.target_type, entry.target_id, entry.reason) == (
        moderator.pk, "user", bob.pk, "Spam in every group.")
    assert entry.moderator_name == "mod" and "bob" in entry.target_repr and entry.created_at


async def test_a_refused_deactivation_changes_nothing_and_relays_nothing(desk, moderator, make_user, connect):
    staff = await call(make_user, "helper", is_staff=True)
    staff_socket = await connect(staff)
    await call(run_action, desk, "accounts.user", "deactivate_users", [staff, moderator])
    messages = await call(admin_messages, desk)
    assert any("Only a superuser can deactivate staff" in m for m in messages), messages
    assert any("cannot deactivate yourself" in m for m in messages), messages
    await nothing(staff_socket)
    assert await User.objects.filter(is_active=False).acount() == 0
    assert await ModerationLog.objects.acount() == 0


def test_the_reason_is_required_on_the_confirmation_page(desk, bob):
    url = reverse("admin:accounts_user_changelist")
    page = desk.post(url, {"action": "deactivate_users", "_selected_action": [bob.pk], "post": "yes",
                           "reason": "  "})
    assert page.status_code == 200 and b"This field is required" in page.content
    bob.refresh_from_db()
    assert bob.is_active and not ModerationLog.objects.exists()


def test_reactivation_lets_the_user_in_again_but_old_refresh_tokens_stay_dead(desk, bob):
    old_refresh = ok(login("bob"))["refresh"]
    run_action(desk, "accounts.user", "deactivate_users", [bob])
    run_action(desk, "accounts.user", "reactivate_users", [bob], "Appeal accepted.")
    bob.refresh_from_db()
    assert bob.is_active
    ok(login("bob"))
    err(refresh(old_refresh), 401, "invalid_token")
    assert list(ModerationLog.objects.order_by("id").values_list("action", "reason")) == [
        ("deactivate_user", "Breaks the rules."), ("reactivate_user", "Appeal accepted.")]


def test_deactivating_twice_is_one_audited_action(desk, bob):
    run_action(desk, "accounts.user", "deactivate_users", [bob])
    run_action(desk, "accounts.user", "deactivate_users", [bob])
    assert ModerationLog.objects.filter(action="deactivate_user").count() == 1
