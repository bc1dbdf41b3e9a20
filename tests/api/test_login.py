"""POST /api/auth/login/ (SPEC §2): tokens, the user and a socket ticket; failures are throttled."""

import pytest

from accounts.throttles import FailedLoginIPThrottle, FailedLoginThrottle
from accounts.tickets import consume_ticket
from tests.conftest import PASSWORD, err, ok

URL = "/api/auth/login/"


def login(client, username="alice", password=PASSWORD, **extra):
    return client.post(URL, {"username": username, "password": password}, format="json", **extra)


def fail_until_throttled(client, username, limit):
    for _ in range(limit):
        err(login(client, username, "wrong password"), 401, "invalid_credentials")


def test_it_returns_tokens_user_and_socket(anon, alice):
    data = ok(login(anon))
    assert set(data) == {"access", "refresh", "user", "socket"}
    assert data["user"] == {"id": alice.id, "username": "alice", "display_name": "Alice"}
    assert isinstance(data["access"], str) and isinstance(data["refresh"], str)
    assert data["access"] != data["refresh"]
    assert set(data["socket"]) == {"host", "id", "expires_in"}
    assert data["socket"]["expires_in"] == 60
    assert consume_ticket(data["socket"]["id"]) == alice.id


def test_the_access_token_signs_the_user_in(anon, alice):
    access = ok(login(anon))["access"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert ok(anon.get("/api/auth/is-user/"))["user"]["id"] == alice.id


def test_it_records_the_last_login(anon, alice):
    assert alice.last_login is None
    ok(login(anon))
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_socket_host_is_the_request_host_by_default(anon, alice, settings):
    settings.RELAY_PUBLIC_HOST = ""
    assert ok(login(anon))["socket"]["host"] == "testserver/ws/"
    assert ok(login(anon, HTTP_HOST="localhost:8000"))["socket"]["host"] == "localhost:8000/ws/"


@pytest.mark.parametrize("public_host", ["relay.example.com:8443", "relay.example.com:8443/"])
def test_socket_host_comes_from_relay_public_host_when_set(anon, alice, settings, public_host):
    settings.RELAY_PUBLIC_HOST = public_host
    data = ok(login(anon, HTTP_HOST="localhost:8000"))
    assert data["socket"]["host"] == "relay.example.com:8443/ws/"


def test_socket_expires_in_follows_the_ticket_ttl(anon, alice, settings):
    settings.SOCKET_TICKET_TTL = 15
    assert ok(login(anon))["socket"]["expires_in"] == 15


def test_each_login_mints_a_different_ticket(anon, alice):
    tickets = [ok(login(anon))["socket"]["id"] for _ in range(3)]
    assert len(set(tickets)) == 3
    assert [consume_ticket(t) for t in tickets] == [alice.id] * 3


def test_wrong_password_is_invalid_credentials(anon, alice):
    response = login(anon, password="not the password")
    err(response, 401, "invalid_credentials")
    assert b"access" not in response.content and b"socket" not in response.content


def test_unknown_user_is_invalid_credentials(anon, alice):
    err(login(anon, username="nobody"), 401, "invalid_credentials")


def test_inactive_user_is_invalid_credentials(anon, alice):
    alice.is_active = False
    alice.save()
    err(login(anon), 401, "invalid_credentials")


def test_the_username_is_case_sensitive_at_login(anon, alice):
    err(login(anon, username="ALICE"), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body, fields",
    [({}, {"username", "password"}), ({"username": "alice"}, {"password"}),
     ({"password": PASSWORD}, {"username"}), ({"username": "", "password": ""}, {"username", "password"})],
)
def test_missing_fields_are_a_validation_error(anon, alice, body, fields):
    result = err(anon.post(URL, body, format="json"), 400, "validation_error")
    assert set(result["details"]) == fields


@pytest.mark.parametrize("value", [123, ["alice"], None, {"u": "alice"}, False])
def test_a_username_of_the_wrong_type_is_a_validation_error(anon, alice, value):
    result = err(anon.post(URL, {"username": value, "password": PASSWORD}, format="json"), 400,
                 "validation_error")
    assert list(result["details"]) == ["username"]


def test_a_numeric_password_is_not_turned_into_a_string(anon, django_user_model):
    django_user_model.objects.create_user(username="numbers", password="4815162342")
    result = err(anon.post(URL, {"username": "numbers", "password": 4815162342}, format="json"), 400,
                 "validation_error")
    assert list(result["details"]) == ["password"]


@pytest.mark.parametrize("payload", ["[]", '"alice"', "null"])
def test_a_body_that_is_not_an_object_is_a_validation_error(anon, alice, payload):
    err(anon.post(URL, payload, content_type="application/json"), 400, "validation_error")


def test_malformed_json_is_invalid_json(anon, alice):
    err(anon.post(URL, '{"username": "alice", ', content_type="application/json"), 400, "invalid_json")


def test_form_encoded_body_is_unsupported(anon, alice):
    response = anon.post(URL, f"username=alice&password={PASSWORD}",
                         content_type="application/x-www-form-urlencoded")
    err(response, 415, "unsupported_media_type")


def test_repeated_failures_for_one_username_are_throttled(anon, alice):
    limit = FailedLoginThrottle().num_requests
    fail_until_throttled(anon, "alice", limit)
    response = login(anon, password="wrong password")
    body = err(response, 429, "throttled")
    retry_after = body["details"]["retry_after"]
    assert isinstance(retry_after, int) and 1 <= retry_after <= 60
    assert response["Retry-After"] == str(retry_after)


def test_once_throttled_even_the_right_password_is_refused(anon, alice):
    fail_until_throttled(anon, "alice", FailedLoginThrottle().num_requests)
    err(login(anon), 429, "throttled")


def test_the_failure_counter_ignores_the_username_case(anon, alice):
    limit = FailedLoginThrottle().num_requests
    for i in range(limit):
        err(login(anon, "alice" if i % 2 else "ALICE", "wrong password"), 401, "invalid_credentials")
    err(login(anon), 429, "throttled")


def test_the_failure_counter_ignores_white_space_and_compatibility_forms(anon, alice):
    limit = FailedLoginThrottle().num_requests
    spellings = [" alice", "alice ", "al ice", "\talice\n", "\uff41lice", "Alice"]  # \uff41: a fullwidth "a"
    for i in range(limit):
        login(anon, spellings[i % len(spellings)], "wrong password")
    err(login(anon), 429, "throttled")


def test_a_forwarded_for_header_does_not_reset_the_counter(anon, alice):
    fail_until_throttled(anon, "alice", FailedLoginThrottle().num_requests)
    err(login(anon, HTTP_X_FORWARDED_FOR="203.0.113.9"), 429, "throttled")


def test_throttling_one_username_leaves_other_users_alone(anon, alice, bob):
    fail_until_throttled(anon, "alice", FailedLoginThrottle().num_requests)
    ok(login(anon, username="bob"))


def test_throttling_one_client_leaves_other_clients_alone(anon, alice):
    fail_until_throttled(anon, "alice", FailedLoginThrottle().num_requests)
    ok(login(anon, REMOTE_ADDR="198.51.100.7"))


def test_failures_across_many_usernames_are_throttled_per_client(anon, alice):
    per_ip = FailedLoginIPThrottle().num_requests
    per_user = FailedLoginThrottle().num_requests
    for i in range(per_ip):
        username = f"stuffed{i // (per_user - 1)}"  # never trips the per-username limit
        err(login(anon, username, "guess"), 401, "invalid_credentials")
    err(login(anon), 429, "throttled")


def test_successful_logins_are_not_counted(anon, alice):
    for _ in range(FailedLoginThrottle().num_requests * 2 + 1):
        ok(login(anon))


def test_validation_errors_are_not_counted_as_failures(anon, alice):
    for _ in range(FailedLoginThrottle().num_requests + 1):
        err(anon.post(URL, {"username": "alice"}, format="json"), 400, "validation_error")
    ok(login(anon))
