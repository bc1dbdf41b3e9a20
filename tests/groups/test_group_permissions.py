"""groups.permissions on the REST surface: reads of the member list and the messages need
membership, with the envelope the views answered before; writes are left to the actions."""

import pytest

from tests.conftest import err

pytestmark = pytest.mark.django_db


def url(group, tail):
    return f"/api/groups/{group.pk}/{tail}"


@pytest.mark.parametrize(("tail", "message"), [
    ("members/", "Only members can see the member list."),
    ("messages/", "Only members can read the messages."),
])
def test_it_rejects_a_non_member_reading(api, charlie, public_group, tail, message):
    response = api(charlie).get(url(public_group, tail))
    assert response.status_code == 403
    assert response.json() == {"status": 403, "error": "forbidden", "message": message, "details": None,
                               "data": None}


@pytest.mark.parametrize("tail", ["members/", "messages/"])
def test_it_asks_an_anonymous_caller_to_sign_in_first(anon, public_group, tail):
    body = err(anon.get(url(public_group, tail)), 401, "not_authenticated")
    assert body["message"] == "Authentication credentials were not provided."


@pytest.mark.parametrize(("tail", "message"), [
    ("members/", "Only the group's owner or admins can do this."),
    ("messages/", "Join the group to send messages."),
])
def test_it_leaves_a_non_member_writing_to_the_action(api, charlie, public_group, tail, message):
    data = {"user_id": charlie.pk, "message": "let me in"}
    body = err(api(charlie).post(url(public_group, tail), data, format="json"), 403, "forbidden")
    assert body["message"] == message
