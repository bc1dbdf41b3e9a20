"""`accounts.actions.respond_to_friend_request`: accepting notifies the requester live, and the
new friends see each other online.

The REST endpoints are in tests/groups/api/test_friend_answers.py and test_friends.py.
"""

import pytest

from tests.conftest import FRIENDS, REQUESTS, answer, ok
from tests.sockets import expect, nothing, recv_types, rest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.django_db(transaction=True)
async def test_accepting_notifies_the_requester_live_and_shows_them_online(aapi, connect, alice, bob):
    asker, target = await connect(alice), await connect(bob)
    alice_api, bob_api = await aapi(alice), await aapi(bob)
    request_id = ok(await rest(alice_api, "post", REQUESTS, {"to": bob.pk}), 201)["id"]
    await recv_types(target, "friendrequest", "notification")

    ok(await rest(bob_api, "post", answer(request_id, "accept")))
    frame = await expect(asker, "notification", kind="friendaccept")
    assert frame["data"] == {"requestid": request_id, "userid": bob.pk}
    await nothing(asker, target)

    friends = ok(await rest(bob_api, "get", FRIENDS))["results"]
    assert [(f["user"]["id"], f["online"]) for f in friends] == [(alice.pk, True)]
    await asker.disconnect()
    friends = ok(await rest(bob_api, "get", FRIENDS))["results"]
    assert [(f["user"]["id"], f["online"]) for f in friends] == [(alice.pk, False)]
