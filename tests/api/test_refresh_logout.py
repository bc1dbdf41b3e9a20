"""POST /api/auth/refresh/ and /api/auth/logout/ (SPEC §2): rotation, blacklisting, expiry."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import aware_utcnow

from tests.conftest import PASSWORD, err, ok

REFRESH = "/api/auth/refresh/"
LOGOUT = "/api/auth/logout/"


@pytest.fixture
def tokens(anon, alice):
    """A real login's access and refresh tokens for alice."""
    data = ok(anon.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"))
    return data["access"], data["refresh"]


def refresh(client, token):
    return client.post(REFRESH, {"refresh": token}, format="json")


def logout(client, token):
    return client.post(LOGOUT, {"refresh": token}, format="json")


def is_user(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return client.get("/api/auth/is-user/")
    finally:
        client.credentials()


def expired(token):
    """`token` with an expiry an hour in the past."""
    token.set_exp(from_time=aware_utcnow() - timedelta(hours=2), lifetime=timedelta(hours=1))
    return str(token)


def test_refresh_returns_a_new_pair_and_rotates(anon, alice, tokens):
    access, old_refresh = tokens
    data = ok(refresh(anon, old_refresh))
    assert set(data) == {"access", "refresh"}
    assert data["refresh"] != old_refresh and data["access"] != access
    assert ok(is_user(anon, data["access"]))["user"]["id"] == alice.id


def test_a_rotated_refresh_token_cannot_be_reused(anon, tokens):
    _, old_refresh = tokens
    ok(refresh(anon, old_refresh))
    err(refresh(anon, old_refresh), 401, "invalid_token")


def test_the_rotated_chain_keeps_working(anon, tokens):
    _, current = tokens
    for _ in range(3):
        previous, current = current, ok(refresh(anon, current))["refresh"]
        err(refresh(anon, previous), 401, "invalid_token")
    ok(refresh(anon, current))


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "x" * 4096])
def test_garbage_refresh_is_invalid_token(anon, db, garbage):
    err(refresh(anon, garbage), 401, "invalid_token")


def test_an_access_token_is_not_a_refresh_token(anon, tokens):
    access, _ = tokens
    err(refresh(anon, access), 401, "invalid_token")


def test_an_expired_refresh_token_is_invalid_token(anon, alice):
    err(refresh(anon, expired(RefreshToken.for_user(alice))), 401, "invalid_token")


def test_a_refresh_token_signed_with_another_key_is_invalid_token(anon, alice):
    token = RefreshToken.for_user(alice)
    header, payload, _ = str(token).split(".")
    err(refresh(anon, f"{header}.{payload}.c2lnbmF0dXJl"), 401, "invalid_token")


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_a_missing_refresh_field_is_a_validation_error(anon, db, url):
    body = err(anon.post(url, {}, format="json"), 400, "validation_error")
    assert list(body["details"]) == ["refresh"]


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
@pytest.mark.parametrize("value", [12345, None, ["token"], {"refresh": "x"}, "", "x" * 4097])
def test_a_refresh_field_of_the_wrong_type_or_size_is_a_validation_error(anon, db, url, value):
    body = err(anon.post(url, {"refresh": value}, format="json"), 400, "validation_error")
    assert list(body["details"]) == ["refresh"]


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_a_body_that_is_not_an_object_is_a_validation_error(anon, db, url):
    err(anon.post(url, '["token"]', content_type="application/json"), 400, "validation_error")


@pytest.mark.parametrize("url", [REFRESH, LOGOUT])
def test_malformed_json_is_invalid_json(anon, db, url):
    err(anon.post(url, '{"refresh": ', content_type="application/json"), 400, "invalid_json")


def test_refresh_for_a_user_deactivated_after_login_is_refused(anon, alice, tokens):
    _, token = tokens
    alice.is_active = False
    alice.save()
    err(refresh(anon, token), 401, "invalid_token")


def test_refresh_for_a_user_that_no_longer_exists_is_refused(anon, alice):
    token = RefreshToken.for_user(alice)
    token[api_settings.USER_ID_CLAIM] = alice.id + 1000  # a validly signed token for a gone user
    err(refresh(anon, str(token)), 401, "invalid_token")


def test_logout_blacklists_the_refresh_token(anon, tokens):
    _, token = tokens
    assert ok(logout(anon, token)) is None
    err(refresh(anon, token), 401, "invalid_token")


def test_logout_twice_is_invalid_token(anon, tokens):
    _, token = tokens
    ok(logout(anon, token))
    err(logout(anon, token), 401, "invalid_token")


def test_logout_leaves_other_sessions_alone(anon, alice, tokens):
    _, token = tokens
    other = str(RefreshToken.for_user(alice))
    ok(logout(anon, token))
    ok(refresh(anon, other))


def test_logout_after_rotation_blacklists_the_new_token(anon, tokens):
    _, first = tokens
    second = ok(refresh(anon, first))["refresh"]
    ok(logout(anon, second))
    err(refresh(anon, second), 401, "invalid_token")


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", ""])
def test_logout_with_garbage_is_refused(anon, db, garbage):
    response = logout(anon, garbage)
    if garbage:
        err(response, 401, "invalid_token")
    else:
        err(response, 400, "validation_error")


def test_logout_with_an_access_token_is_invalid_token(anon, tokens):
    access, _ = tokens
    err(logout(anon, access), 401, "invalid_token")


def test_logout_with_an_expired_refresh_token_is_invalid_token(anon, alice):
    err(logout(anon, expired(RefreshToken.for_user(alice))), 401, "invalid_token")


def test_an_expired_access_token_is_invalid_token(anon, alice):
    err(is_user(anon, expired(AccessToken.for_user(alice))), 401, "invalid_token")


def test_a_refresh_token_is_not_an_access_token(anon, tokens):
    _, token = tokens
    err(is_user(anon, token), 401, "invalid_token")


def login_tokens(anon):
    data = ok(anon.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"))
    return data["access"], data["refresh"]


def test_logout_ends_the_sessions_access_tokens_at_once(anon, tokens):
    access, token = tokens
    rotated = ok(refresh(anon, token))  # an access token made later in the same session
    other_access, _ = login_tokens(anon)  # another device
    ok(is_user(anon, access))
    ok(logout(anon, rotated["refresh"]))
    err(is_user(anon, access), 401, "invalid_token")
    err(is_user(anon, rotated["access"]), 401, "invalid_token")
    ok(is_user(anon, other_access))


def test_an_access_token_of_a_deactivated_user_is_refused(anon, alice, tokens):
    access, _ = tokens
    ok(is_user(anon, access))
    alice.is_active = False
    alice.save()
    err(is_user(anon, access), 401, "invalid_token")


def test_a_refresh_token_of_a_session_that_logged_out_is_refused_even_if_not_blacklisted(anon, tokens):
    """Two refreshes of one token at once can both rotate it: the spare is of an ended session."""
    _, token = tokens
    spare = RefreshToken(token)
    spare.set_jti()  # another valid refresh token of the same session, not on the blacklist
    ok(logout(anon, token))
    err(refresh(anon, str(spare)), 401, "invalid_token")
