"""POST /api/auth/register/ (SPEC §2): a new account, or a 400 that creates nothing."""

import pytest

from tests.conftest import PASSWORD, err, ok

URL = "/api/auth/register/"


@pytest.fixture
def users(django_user_model):
    """The number of accounts, to prove bad input created none."""
    return django_user_model.objects.count


def register(client, body):
    return client.post(URL, body, format="json")


def test_it_creates_the_account_and_returns_the_user_shape(anon, django_user_model):
    data = ok(register(anon, {"username": "dora", "password": PASSWORD, "email": "dora@example.com",
                              "display_name": "Dora the Explorer"}), 201)
    user = django_user_model.objects.get(username="dora")
    assert data == {"user": {"id": user.id, "username": "dora", "display_name": "Dora the Explorer"}}
    assert user.email == "dora@example.com"
    assert user.check_password(PASSWORD)
    assert user.is_active and not user.is_staff and not user.is_superuser


def test_the_password_never_comes_back(anon, db):
    response = register(anon, {"username": "dora", "password": PASSWORD})
    ok(response, 201)
    assert PASSWORD not in response.content.decode()


def test_the_new_account_can_log_in(anon, db):
    ok(register(anon, {"username": "dora", "password": PASSWORD}), 201)
    ok(anon.post("/api/auth/login/", {"username": "dora", "password": PASSWORD}, format="json"))


@pytest.mark.parametrize("extra", [{}, {"display_name": ""}, {"display_name": "   "}])
def test_display_name_defaults_to_the_username(anon, django_user_model, extra):
    data = ok(register(anon, {"username": "dora", "password": PASSWORD, **extra}), 201)
    assert data["user"]["display_name"] == "dora"
    assert django_user_model.objects.get(username="dora").display_name == "dora"


@pytest.mark.parametrize("username", ["alice", "ALICE", "Alice"])
def test_it_rejects_a_taken_username_whatever_its_case(anon, alice, users, username):
    body = err(register(anon, {"username": username, "password": PASSWORD}), 400, "validation_error")
    assert list(body["details"]) == ["username"]
    assert users() == 1


@pytest.mark.parametrize("username", [
    "aIice",  # capital i for l
    "a1ice",  # digit one for l
    "\u0430lice",  # Cyrillic a
    "\uff41lice",  # fullwidth a (NFKC)
    "al\u0456ce",  # Cyrillic i
])
def test_it_rejects_a_name_that_passes_for_a_taken_one(anon, alice, users, username):
    body = err(register(anon, {"username": username, "password": PASSWORD}), 400, "validation_error")
    assert list(body["details"]) == ["username"], body
    assert users() == 1


@pytest.mark.parametrize("username", ["p\u0430ypal", "j\u043ehn"])  # one Cyrillic letter among Latin ones
def test_it_rejects_a_name_mixing_scripts_with_a_look_alike_letter(anon, users, username):
    body = err(register(anon, {"username": username, "password": PASSWORD}), 400, "validation_error")
    assert "script" in body["details"]["username"][0]
    assert users() == 0


@pytest.mark.parametrize("username", ["\u0438\u0432\u0430\u043d", "\u00e9lodie", "alicia", "bob_1",
                                      "田中さん", "佐藤エミ", "さくらサクラ", "김민수_金", "user名前", "Straße"])
def test_names_in_one_script_and_names_unlike_others_are_accepted(anon, alice, username):
    ok(register(anon, {"username": username, "password": PASSWORD}), 201)


def test_the_look_alike_key_follows_a_renamed_user(alice, django_user_model):
    from accounts.usernames import skeleton

    alice.username = "Alicia"
    alice.save(update_fields=["username"])
    assert django_user_model.objects.get(pk=alice.pk).username_skeleton == skeleton("Alicia")


@pytest.mark.parametrize(
    "username, password",
    [
        ("dora", "abc"),  # too short
        ("dora", "password"),  # too common
        ("dora", "83749261039285"),  # entirely numeric
        ("margarethe", "margarethe1"),  # too similar to the username
    ],
    ids=["short", "common", "numeric", "similar-to-username"],
)
def test_it_rejects_a_weak_password(anon, users, username, password):
    body = err(register(anon, {"username": username, "password": password}), 400, "validation_error")
    assert body["details"]["password"] and all(isinstance(m, str) for m in body["details"]["password"])
    assert users() == 0


def test_a_password_too_similar_to_the_email_is_rejected(anon, users):
    body = err(register(anon, {"username": "dora", "password": "quixotic.zebra",
                               "email": "quixotic.zebra@example.com"}), 400, "validation_error")
    assert "password" in body["details"]
    assert users() == 0


@pytest.mark.parametrize(
    "body, fields",
    [
        ({}, {"username", "password"}),
        ({"password": PASSWORD}, {"username"}),
        ({"username": "dora"}, {"password"}),
        ({"username": "", "password": PASSWORD}, {"username"}),
        ({"username": "   ", "password": PASSWORD}, {"username"}),
        ({"username": "dora", "password": ""}, {"password"}),
    ],
    ids=["empty", "no-username", "no-password", "blank-username", "spaces-username", "blank-password"],
)
def test_it_rejects_missing_fields(anon, users, body, fields):
    result = err(register(anon, body), 400, "validation_error")
    assert set(result["details"]) == fields
    assert users() == 0


@pytest.mark.parametrize("field", ["username", "password", "email", "display_name"])
@pytest.mark.parametrize("value", [12345678901, 3.5, True, ["dora"], {"a": 1}, None],
                         ids=["int", "float", "bool", "list", "object", "null"])
def test_it_rejects_a_field_of_the_wrong_type(anon, users, field, value):
    body = {"username": "dora", "password": PASSWORD, field: value}
    result = err(register(anon, body), 400, "validation_error")
    assert field in result["details"]
    assert users() == 0


@pytest.mark.parametrize("payload", ["[]", '["dora", "pw"]', '"dora"', "42", "null", "true"])
def test_it_rejects_a_body_that_is_not_an_object(anon, users, payload):
    result = err(anon.post(URL, payload, content_type="application/json"), 400, "validation_error")
    assert result["details"] == {"non_field_errors": ["Expected a JSON object."]}
    assert users() == 0


@pytest.mark.parametrize("payload", ['{"username": "dora", "password": ', "{'username': 'dora'}", "{,}",
                                     '{"username": NaN}', b'{"username": "\xff\xfe"}'])
def test_it_rejects_malformed_json(anon, users, payload):
    err(anon.post(URL, payload, content_type="application/json"), 400, "invalid_json")
    assert users() == 0


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain",
                                          "multipart/form-data; boundary=x"])
def test_it_rejects_a_body_that_is_not_json(anon, users, content_type):
    response = anon.post(URL, f"username=dora&password={PASSWORD}", content_type=content_type)
    err(response, 415, "unsupported_media_type")
    assert users() == 0


@pytest.mark.parametrize("email", ["not-an-email", "dora@", "@example.com", "dora example@example.com"])
def test_it_rejects_an_invalid_email(anon, users, email):
    result = err(register(anon, {"username": "dora", "password": PASSWORD, "email": email}), 400,
                 "validation_error")
    assert list(result["details"]) == ["email"]
    assert users() == 0


@pytest.mark.parametrize("username", ["dora the explorer", "dora!", "dora/..", "dora😀", "<script>", "dora\x00"])
def test_it_rejects_a_username_with_bad_characters(anon, users, username):
    result = err(register(anon, {"username": username, "password": PASSWORD}), 400, "validation_error")
    assert list(result["details"]) == ["username"]
    assert users() == 0


def test_a_username_with_allowed_punctuation_is_accepted(anon, db):
    data = ok(register(anon, {"username": "dora.m+x_y-z@home", "password": PASSWORD}), 201)
    assert data["user"]["username"] == "dora.m+x_y-z@home"


@pytest.mark.parametrize(
    "field, value",
    [
        ("username", "d" * 151),
        ("password", "Zq9!" * 32 + "x"),
        ("display_name", "D" * 151),
        ("email", "d" * 250 + "@example.com"),
    ],
)
def test_it_rejects_an_oversize_field(anon, users, field, value):
    body = {"username": "dora", "password": PASSWORD, field: value}
    result = err(register(anon, body), 400, "validation_error")
    assert list(result["details"]) == [field]
    assert users() == 0


def test_fields_at_their_maximum_length_are_accepted(anon, django_user_model):
    username, display_name = "d" * 150, "D" * 150
    ok(register(anon, {"username": username, "password": PASSWORD, "display_name": display_name,
                       "email": "d" * 64 + "@" + "e" * 60 + ".example.com"}), 201)
    assert django_user_model.objects.get(username=username).display_name == display_name


def test_unknown_fields_cannot_make_an_admin(anon, django_user_model):
    ok(register(anon, {"username": "dora", "password": PASSWORD, "is_staff": True,
                       "is_superuser": True, "is_active": False}), 201)
    user = django_user_model.objects.get(username="dora")
    assert user.is_active and not user.is_staff and not user.is_superuser
