from tests.conftest import PASSWORD, err, ok


def test_login_returns_tokens_user_and_socket(anon, alice):
    data = ok(anon.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"))
    assert data["user"] == {"id": alice.id, "username": "alice", "display_name": "Alice"}
    assert data["socket"]["host"] == "testserver/ws/"
    assert data["socket"]["expires_in"] == 60
    assert data["access"] and data["refresh"]


def test_wrong_password_is_invalid_credentials(anon, alice):
    err(anon.post("/api/auth/login/", {"username": "alice", "password": "nope"}, format="json"), 401,
        "invalid_credentials")
