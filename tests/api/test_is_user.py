"""GET /api/auth/is-user/ (SPEC §2): the signed-in user and a fresh one-time socket ticket."""

from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tickets import consume_ticket
from tests.conftest import access_token, err, ok

URL = "/api/auth/is-user/"


def test_it_returns_the_user_and_a_socket(api, alice):
    data = ok(api(alice).get(URL))
    assert set(data) == {"user", "socket"}
    assert data["user"] == {"id": alice.id, "username": "alice", "display_name": "Alice"}
    assert set(data["socket"]) == {"host", "id", "expires_in"}
    assert data["socket"]["host"] == "testserver/ws/"
    assert data["socket"]["expires_in"] == 60


def test_each_call_mints_a_fresh_ticket(api, alice):
    client = api(alice)
    tickets = [ok(client.get(URL))["socket"]["id"] for _ in range(3)]
    assert len(set(tickets)) == 3
    assert [consume_ticket(t) for t in tickets] == [alice.id] * 3


def test_the_ticket_belongs_to_the_caller(api, alice, bob):
    assert consume_ticket(ok(api(bob).get(URL))["socket"]["id"]) == bob.id


def test_display_name_falls_back_to_the_username(api, make_user):
    dora = make_user("dora")
    assert ok(api(dora).get(URL))["user"]["display_name"] == "dora"


def test_socket_host_comes_from_relay_public_host_when_set(api, alice, settings):
    settings.RELAY_PUBLIC_HOST = "relay.example.com"
    assert ok(api(alice).get(URL))["socket"]["host"] == "relay.example.com/ws/"


def test_without_a_token_it_is_not_authenticated(anon, db):
    response = anon.get(URL)
    err(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_another_auth_scheme_is_not_authenticated(anon, alice):
    anon.credentials(HTTP_AUTHORIZATION=f"Token {access_token(alice)}")
    err(anon.get(URL), 401, "not_authenticated")


def test_a_bad_token_is_invalid_token(anon, db):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    err(anon.get(URL), 401, "invalid_token")


def test_a_tampered_token_is_invalid_token(anon, alice, bob):
    header, _, signature = access_token(alice).split(".")
    _, bob_payload, _ = access_token(bob).split(".")
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{bob_payload}.{signature}")
    err(anon.get(URL), 401, "invalid_token")


def test_a_bearer_header_without_a_token_is_invalid_token(anon, db):
    anon.credentials(HTTP_AUTHORIZATION="Bearer")
    err(anon.get(URL), 401, "invalid_token")


def test_an_inactive_user_is_refused(api, alice):
    client = api(alice)
    alice.is_active = False
    alice.save()
    err(client.get(URL), 401, "invalid_token")


def test_a_user_that_no_longer_exists_is_refused(anon, alice):
    token = AccessToken.for_user(alice)
    token[api_settings.USER_ID_CLAIM] = alice.id + 1000  # a validly signed token for a gone user
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    err(anon.get(URL), 401, "invalid_token")


def test_a_refused_call_mints_no_ticket(anon, db):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = anon.get(URL)
    err(response, 401, "invalid_token")
    assert b"socket" not in response.content
