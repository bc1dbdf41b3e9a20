"""The SPEC §1 envelope on every API response, including Django's and DRF's own errors."""

import pytest

from tests.conftest import PASSWORD, err, ok

SUCCESS_KEYS = {"status", "message", "data"}
ERROR_KEYS = {"status", "error", "message", "details", "data"}
POST_ENDPOINTS = ["/api/auth/register/", "/api/auth/login/", "/api/auth/refresh/", "/api/auth/logout/"]


def test_a_success_has_exactly_the_success_keys(api, alice):
    body = api(alice).get("/api/auth/is-user/").json()
    assert set(body) == SUCCESS_KEYS
    assert body["status"] == 200 and body["message"] == "OK"


def test_a_created_response_says_created(anon, db):
    body = anon.post("/api/auth/register/", {"username": "dora", "password": PASSWORD}, format="json").json()
    assert body["status"] == 201 and body["message"] == "Created"


def test_an_error_has_exactly_the_error_keys(anon, db):
    body = err(anon.get("/api/auth/is-user/"), 401, "not_authenticated")
    assert set(body) == ERROR_KEYS


def test_a_validation_error_maps_fields_to_lists_of_messages(anon, db):
    body = err(anon.post("/api/auth/register/", {"username": "", "password": 5}, format="json"), 400,
               "validation_error")
    assert set(body["details"]) == {"username", "password"}
    for messages in body["details"].values():
        assert isinstance(messages, list) and all(isinstance(m, str) and m for m in messages)


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/nope/", "/api/auth/", "/api/auth/who-am-i/", "/api/", "/api/../etc/"])
def test_an_unknown_api_path_is_a_not_found_envelope(anon, db, method, path):
    err(getattr(anon, method)(path), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register", "/api/auth/is-user", "/api/schema"])
def test_a_path_without_its_trailing_slash_is_a_not_found_envelope(anon, db, path):
    # Not a redirect: a POST cannot follow one, and clients must learn that paths end with "/".
    err(anon.post(path, {"username": "alice", "password": PASSWORD}, format="json"), 404, "not_found")
    err(anon.get(path), 404, "not_found")


def test_an_unknown_path_outside_the_api_is_a_not_found_envelope(anon, db):
    err(anon.get("/no-such-page/"), 404, "not_found")


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/auth/login/"), ("get", "/api/auth/register/"), ("put", "/api/auth/refresh/"),
     ("delete", "/api/auth/logout/"), ("patch", "/api/auth/login/")],
)
def test_a_wrong_method_is_a_method_not_allowed_envelope(anon, db, method, path):
    response = getattr(anon, method)(path, {}, format="json")
    err(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_wrong_method_on_is_user_is_a_method_not_allowed_envelope(api, alice, method):
    err(getattr(api(alice), method)("/api/auth/is-user/"), 405, "method_not_allowed")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_malformed_json_is_an_invalid_json_envelope_everywhere(anon, db, path):
    body = err(anon.post(path, "{not json", content_type="application/json"), 400, "invalid_json")
    assert body["details"] is None


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_a_non_json_body_is_an_unsupported_media_type_envelope_everywhere(anon, db, path):
    err(anon.post(path, "refresh=x", content_type="application/x-www-form-urlencoded"), 415,
        "unsupported_media_type")


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_deeply_nested_json_is_an_invalid_json_envelope(anon, db, path):
    err(anon.post(path, "[" * 100_000 + "]" * 100_000, content_type="application/json"), 400, "invalid_json")


def test_the_safe_parser_turns_deep_nesting_into_a_parse_error():
    import io

    from rest_framework.exceptions import ParseError

    from config.rest.parsers import JSONParser

    with pytest.raises(ParseError):
        JSONParser().parse(io.BytesIO(b"[" * 100_000 + b"]" * 100_000))
    assert JSONParser().parse(io.BytesIO(b'{"a": [1, 2]}')) == {"a": [1, 2]}


NASTY_BODIES = [
    b"",
    b"{}",
    b"[]",
    b"null",
    b'"\\ud800"',
    b"\xff\xfe\x00",
    b'{"username": "\\u0000", "password": "\\u0000"}',
    b'{"username": 1e999, "password": -1e999}',
    b'{"username": {"$gt": ""}, "password": {"$ne": null}}',
    b'{"refresh": ["a", {"b": []}]}',
    b'{"username": "' + b"a" * 100_000 + b'", "password": "x"}',
    b'{"username": "alice", "password": "' + b"p" * 100_000 + b'"}',
]


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("payload", NASTY_BODIES, ids=range(len(NASTY_BODIES)))
def test_bad_input_is_a_4xx_envelope_without_a_traceback(anon, alice, path, payload):
    response = anon.post(path, payload, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content[:300]
    body = response.json()
    assert set(body) == ERROR_KEYS and body["status"] == response.status_code
    assert "Traceback" not in response.content.decode("utf-8", "replace")


def test_errors_stay_enveloped_with_debug_on(anon, db, settings):
    settings.DEBUG = True
    for response in (anon.get("/api/nope/"), anon.get("/api/auth/login/"),
                     anon.post("/api/auth/login/", "{", content_type="application/json")):
        assert set(response.json()) == ERROR_KEYS
        assert "Traceback" not in response.content.decode()


def test_a_success_is_json(api, alice):
    response = api(alice).get("/api/auth/is-user/")
    assert response["Content-Type"].startswith("application/json")
    ok(response)
