"""`POST /api/publish/`: other services push `custom.*` events to users, groups' members and public
channels, with a staff user's token or an API key (stored hashed, scoped, rate-limited); each event
is numbered in the stream like any other, and reaches exactly the sockets it names."""

import hashlib

import pytest
from rest_framework.test import APIClient

from accounts import apikeys
from accounts.models import ApiKey
from posts import actions as post_actions
from tests.conftest import err, group_with, ok
from tests.sockets import call, nothing, recv, rest, subscribe

URL = "/api/publish/"
pytestmark = pytest.mark.django_db(transaction=True)


def keyed(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def new_key(scopes=("users", "groups", "channels"), **options):
    return apikeys.issue(name="scores service", scopes=scopes, **options)


@pytest.fixture
def staff(make_user):
    return make_user("ops", is_staff=True)


# --- who gets it, who must not ---------------------------------------------------------------------
async def test_a_staff_token_publishes_to_users_and_only_they_get_it(connect, aapi, staff, alice, bob):
    to_alice, to_bob = await connect(alice), await connect(bob)
    data = ok(await rest(await aapi(staff), "post", URL,
                         {"users": [alice.pk], "type": "custom.invoice", "data": {"amount": 12, "paid": False}}))
    assert data == {"relayed": True, "recipients": 1, "unknown": []}
    got = await recv(to_alice)
    assert got["type"] == "custom.invoice" and got["data"] == {"amount": 12, "paid": False}
    assert got["by"] == {"user": {"id": staff.pk, "username": "ops", "display_name": "ops"}}
    assert got["seq"] > to_alice.first["seq"]
    assert got["streams"] == {} or set(got["streams"]) <= {f"user:{alice.pk}"}
    await nothing(to_bob)


async def test_a_key_publishes_to_a_groups_members_and_not_to_others(connect, alice, bob, charlie):
    group = await call(group_with, alice, bob)
    _, raw = await call(new_key)
    members, outsider = [await connect(alice), await connect(bob)], await connect(charlie)
    data = ok(await rest(keyed(raw), "post", URL, {"groups": [group.pk], "type": "custom.match.started",
                                                    "data": {"round": 1}}))
    assert data == {"relayed": True, "recipients": 2, "unknown": []}
    for comm in members:
        got = await recv(comm)
        assert (got["type"], got["data"], got["by"]) == ("custom.match.started", {"round": 1},
                                                         {"service": "scores service"})
        assert got["streams"] == {f"group:{group.pk}": comm.first["streams"][f"group:{group.pk}"] + 1}
    await nothing(outsider)


async def test_a_custom_channel_reaches_its_subscribers_anonymous_ones_too(connect, alice):
    _, raw = await call(new_key, scopes=["channel:custom:scores"])
    follower, other = await connect(), await connect(alice)
    await subscribe(follower, "custom:scores")
    data = ok(await rest(keyed(raw), "post", URL, {"channels": ["custom:scores"], "type": "custom.score",
                                                    "data": {"home": 2, "away": 1}}))
    assert data["relayed"] is True and data["recipients"] == 1
    assert (await recv(follower))["data"] == {"home": 2, "away": 1}
    await nothing(other)


async def test_the_event_is_in_the_recipients_stream_and_resumed(connect, aapi, staff, alice):
    comm = await connect(alice)
    position = comm.first["seq"]
    await comm.disconnect()
    ok(await rest(await aapi(staff), "post", URL, {"users": [alice.pk], "type": "custom.ping", "data": {}}))
    again = await connect(alice, resume=position)
    got = await recv(again)
    assert got["type"] == "custom.ping" and got["seq"] > position
    events = ok(await rest(await aapi(alice), "get", f"/api/events/?after={position}"))
    assert [f["type"] for f in events["results"]] == ["custom.ping"]


def test_unknown_targets_are_named_and_not_counted(staff, alice, api):
    data = ok(api(staff).post(URL, {"users": [alice.pk, 999999], "type": "custom.x", "data": {}}, format="json"))
    assert data == {"relayed": True, "recipients": 1, "unknown": [999999]}
    post = post_actions.create_post(actor=alice, content="public")
    data = ok(api(staff).post(URL, {"channels": [f"post:{post.pk}", "post:999999"], "type": "custom.x", "data": {}},
                              format="json"))
    assert data["recipients"] == 1 and data["unknown"] == ["post:999999"]


# --- who may publish -------------------------------------------------------------------------------
def test_it_takes_a_staff_token_or_a_live_key(api, anon, alice):
    body = {"users": [alice.pk], "type": "custom.x", "data": {}}
    err(anon.post(URL, body, format="json"), 401, "not_authenticated")
    err(api(alice).post(URL, body, format="json"), 403, "forbidden")
    err(keyed("kmn_000000000000_" + "a" * 43).post(URL, body, format="json"), 401, "invalid_token")
    err(keyed("not-a-key").post(URL, body, format="json"), 401, "invalid_token")
    key, raw = new_key()
    ok(keyed(raw).post(URL, body, format="json"))
    apikeys.revoke(ApiKey.objects.filter(pk=key.pk))
    err(keyed(raw).post(URL, body, format="json"), 401, "invalid_token")


def test_a_key_publishes_only_within_its_scopes(alice, bob):
    mine, other = group_with(alice), group_with(bob)
    _, raw = new_key(scopes=[f"group:{mine.pk}"])
    client = keyed(raw)
    ok(client.post(URL, {"groups": [mine.pk], "type": "custom.x", "data": {}}, format="json"))
    body = err(client.post(URL, {"groups": [mine.pk, other.pk], "type": "custom.x", "data": {}}, format="json"),
               403, "forbidden")
    assert body["details"] == {"groups": [other.pk]}
    err(client.post(URL, {"users": [alice.pk], "type": "custom.x", "data": {}}, format="json"), 403, "forbidden")
    err(client.post(URL, {"channels": ["feed"], "type": "custom.x", "data": {}}, format="json"), 403, "forbidden")


def test_only_a_digest_of_the_key_is_stored_and_it_is_found_again():
    key, raw = new_key()
    assert raw.startswith(f"kmn_{key.prefix}_") and raw not in str(ApiKey.objects.filter(pk=key.pk).values().get())
    assert key.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert apikeys.verify(raw).pk == key.pk and apikeys.verify(raw[:-1] + "?") is None


def test_a_key_is_rate_limited_by_its_own_rate(alice):
    _, raw = new_key(rate="2/min")
    client = keyed(raw)
    body = {"users": [alice.pk], "type": "custom.x", "data": {}}
    ok(client.post(URL, body, format="json"))
    ok(client.post(URL, body, format="json"))
    err(client.post(URL, body, format="json"), 429, "throttled")


# --- what it takes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("body, field", [
    ({"users": [1], "type": "sendmessage", "data": {}}, "type"),
    ({"users": [1], "type": "custom.", "data": {}}, "type"),
    ({"users": [1], "type": "custom.Upper", "data": {}}, "type"),
    ({"users": [1], "type": "custom.x", "data": [1, 2]}, "data"),
    ({"users": [1], "type": "custom.x"}, "data"),
    ({"type": "custom.x", "data": {}}, "non_field_errors"),
    ({"users": [1], "groups": [1], "type": "custom.x", "data": {}}, "non_field_errors"),
    ({"users": [], "type": "custom.x", "data": {}}, "users"),
    ({"users": ["a"], "type": "custom.x", "data": {}}, "users"),
    ({"channels": ["group:1"], "type": "custom.x", "data": {}}, "channels"),
    ({"channels": ["custom:Bad Name"], "type": "custom.x", "data": {}}, "channels"),
])
def test_bad_input_is_a_400_naming_the_field(api, staff, body, field):
    assert field in err(api(staff).post(URL, body, format="json"), 400, "validation_error")["details"]


def test_data_over_the_cap_is_a_413(api, staff, alice, settings):
    settings.PUBLISH_MAX_BYTES = 100
    err(api(staff).post(URL, {"users": [alice.pk], "type": "custom.x", "data": {"x": "y" * 200}}, format="json"),
        413, "payload_too_large")


# --- the admin: issued, shown once, revoked ------------------------------------------------------
def test_the_admin_issues_a_key_shown_once_and_revokes_it(client, make_user, alice):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post("/admin/accounts/apikey/add/", {"name": "push", "scopes": "users, group:7", "rate": ""},
                           follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get(name="push")
    shown = [str(m) for m in response.context["messages"]]
    raw = next(word for m in shown for word in m.split() if word.startswith("kmn_"))
    assert key.scopes == ["users", "group:7"] and apikeys.verify(raw).pk == key.pk
    ok(keyed(raw).post(URL, {"users": [alice.pk], "type": "custom.x", "data": {}}, format="json"))
    page = client.get("/admin/accounts/apikey/").content.decode()
    assert key.prefix in page and raw not in page
    client.post("/admin/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]})
    err(keyed(raw).post(URL, {"users": [alice.pk], "type": "custom.x", "data": {}}, format="json"),
        401, "invalid_token")


def test_the_admin_refuses_a_bad_scope_or_rate(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post("/admin/accounts/apikey/add/", {"name": "x", "scopes": "everything", "rate": "lots"})
    assert response.status_code == 200 and not ApiKey.objects.exists()
    assert "Not a scope: everything" in response.content.decode()


