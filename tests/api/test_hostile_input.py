"""What schemathesis found in the REST API, pinned (tests/reliability/test_schemathesis.py finds them anew).

Wrong JSON types are refused, not coerced; query filters refuse what the schema does
not allow; OPTIONS never fails; a path with an encoded newline is an envelope 404; and
the OpenAPI document states the statuses and shapes the views really answer with.
"""

import json

import pytest
from django.urls import reverse

from tests.conftest import err, ok


# --- wrong JSON types: refused, never coerced (SPEC §1: bad input is a 4xx that changes nothing) ---------
@pytest.mark.parametrize("body, field", [
    ({"name": "x", "is_private": 0}, "is_private"),
    ({"name": "x", "is_private": "true"}, "is_private"),
    ({"name": 42}, "name"),
    ({"name": "x", "description": ["a"]}, "description"),
])
def test_group_fields_of_the_wrong_type_are_refused(api, alice, body, field):
    from groups.models import Group

    response = err(api(alice).post("/api/groups/", body, format="json"), 400, "validation_error")
    assert field in response["details"]
    assert not Group.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"content": 0}, "content"), ({"content": {"a": 1}}, "content"), ({"content": "x", "group_id": "１"}, "group_id"),
    ({"content": "x", "group_id": " 1"}, "group_id"), ({"content": "x", "group_id": "1_0"}, "group_id"),
    ({"content": "x", "group_id": True}, "group_id"),
])
def test_post_fields_of_the_wrong_type_are_refused(api, alice, body, field):
    from posts.models import Post

    response = err(api(alice).post("/api/posts/", body, format="json"), 400, "validation_error")
    assert field in response["details"]
    assert not Post.objects.exists()


def test_numeric_string_ids_are_still_accepted(api, alice, bob):
    """SPEC §1: wherever a client sends an id, "42" is accepted too."""
    sent = ok(api(alice).post("/api/messages/", {"to": str(bob.pk), "message": "hi"}, format="json"), 201)
    assert sent["to"] == bob.pk


@pytest.mark.parametrize("body", [{"to": 1, "message": 42}, {"to": 1, "message": ["hi"]}])
def test_a_message_must_be_a_string(api, alice, body):
    from groups.models import Message

    err(api(alice).post("/api/messages/", body, format="json"), 400, "validation_error")
    assert not Message.objects.exists()


def test_kick_ban_and_read_all_must_be_booleans(api, alice, bob, public_group):
    err(api(alice).post(f"/api/groups/{public_group.pk}/kick/", {"user_id": bob.pk, "ban": "yes"}, format="json"),
        400, "validation_error")
    assert public_group.memberships.filter(user=bob).exists()
    err(api(alice).post("/api/notifications/read/", {"all": 1}, format="json"), 400, "validation_error")


# --- query parameters -------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["?unread=null", "?unread=", "?unread=2"])
def test_a_flag_that_is_not_a_boolean_is_refused(api, alice, query):
    err(api(alice).get("/api/notifications/" + query), 400, "validation_error")


@pytest.mark.parametrize("query", ["?mine=1", "?mine=true", "?mine=false", "?mine=0", ""])
def test_flags_accept_the_boolean_spellings(api, alice, query):
    ok(api(alice).get("/api/groups/" + query))


@pytest.mark.parametrize("url", ["/api/posts/?group=", "/api/posts/?author=", "/api/messages/?with=1&before="])
def test_an_empty_id_filter_is_refused(api, alice, url):
    err(api(alice).get(url), 400, "validation_error")


@pytest.mark.parametrize("limit", ["0", "101", " 5", "+5", "5_0", "", "５"])
def test_a_limit_outside_1_to_100_is_refused(api, alice, limit):
    err(api(alice).get("/api/posts/", {"limit": limit}), 400, "validation_error")


# --- odd requests --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/messages/", "/api/groups/", "/api/posts/", "/api/friends/requests/",
                                  "/api/notifications/read/", "/api/reports/", "/api/auth/login/"])
def test_options_describes_an_endpoint_instead_of_failing(api, alice, path):
    """OPTIONS /api/messages/ was a 500: its view had no serializer for DRF's metadata."""
    body = ok(api(alice).options(path))
    assert body["name"]


@pytest.mark.parametrize("path", ["/api/posts/%0A1/like/", "/api/groups/1/%0A/", "/api/%0A"])
def test_a_path_with_an_encoded_newline_is_an_envelope_404(api, alice, path):
    response = api(alice).post(path)
    assert response["Content-Type"].startswith("application/json")
    err(response, 404, "not_found")


# --- the OpenAPI document says what the views answer --------------------------------------------------------
@pytest.fixture
def schema(client, db):
    response = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_deletes_are_documented_as_200_envelopes(schema):
    for path in ("/api/groups/{id}/", "/api/posts/{id}/", "/api/posts/{id}/like/"):
        responses = schema["paths"][path]["delete"]["responses"]
        assert "200" in responses and "204" not in responses, path
        assert responses["200"]["content"]["application/json"]["schema"]["required"] == ["status", "message",
                                                                                         "data"]


def test_lists_are_documented_as_pages(schema):
    for path in ("/api/friends/", "/api/friends/requests/", "/api/notifications/"):
        get = schema["paths"][path]["get"]
        data = get["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
        assert data["$ref"].startswith("#/components/schemas/Paginated"), path
        limit = next(p for p in get["parameters"] if p["name"] == "limit")
        assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100), path


def test_both_answers_of_idempotent_creates_are_documented(schema):
    assert {"200", "201"} <= set(schema["paths"]["/api/groups/{id}/members/"]["post"]["responses"])
    assert {"200", "201"} <= set(schema["paths"]["/api/friends/requests/"]["post"]["responses"])


def test_patch_bodies_state_their_required_fields(schema):
    components = schema["components"]["schemas"]

    def body(path):
        ref = schema["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]

    assert body("/api/posts/{id}/")["required"] == ["content"]
    assert body("/api/groups/{id}/members/{user_id}/")["required"] == ["role"]
    assert "required" not in body("/api/groups/{id}/")  # a group's PATCH is truly partial


def test_ids_are_documented_as_integers_or_digit_strings(schema):
    to = schema["components"]["schemas"]["DirectMessageRequest"]["properties"]["to"]
    assert [branch["type"] for branch in to["oneOf"]] == ["integer", "string"]
    before = next(p for p in schema["paths"]["/api/messages/"]["get"]["parameters"] if p["name"] == "before")
    assert before["schema"]["minimum"] == 1


# --- string lengths: as the document states them ----------------------------------------------------------
def test_a_padded_name_longer_than_max_length_is_refused_as_sent(api, alice):
    from groups.models import Group

    response = err(api(alice).post("/api/groups/", {"name": "x" + " " * 100}, format="json"), 400,
                   "validation_error")
    assert "name" in response["details"]
    assert not Group.objects.exists()


def test_a_message_counts_its_4000_characters_after_stripping(api, alice, bob):
    from groups.models import Message

    padded = " " * 50 + "m" * 4000 + "\u00a0" * 50
    data = ok(api(alice).post("/api/messages/", {"to": bob.pk, "message": padded}, format="json"), 201)
    assert Message.objects.get(pk=data["id"]).body == "m" * 4000
    err(api(alice).post("/api/messages/", {"to": bob.pk, "message": "m" * 4001}, format="json"), 400,
        "validation_error")


def test_the_document_states_no_raw_length_for_message_bodies(api, alice):
    schema = api(alice).get("/api/schema/?format=json").json()
    body = schema["components"]["schemas"]["DirectMessageRequest"]["properties"]["message"]
    assert "maxLength" not in body and "after stripping" in body["description"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/posts/", "/api/auth/login/"])
def test_a_body_over_the_upload_limit_is_a_413_not_a_500(api, alice, path):
    body = json.dumps({"content": "x" * 3_000_000, "username": "x", "password": "y"})
    response = api(alice).post(path, data=body, content_type="application/json")
    assert response.status_code == 413, response.content[:200]
    assert response.json()["error"] == "payload_too_large"
