"""`accounts.actions.send_friend_request`: what a friend request relays (the `friendrequest`
frame and a notification, to the target only), and that asking again relays nothing.

The REST endpoint is in tests/groups/api/test_friend_requests.py.
"""

import pytest

from accounts.models import Notification
from tests.conftest import REQUESTS, ok
from tests.sockets import call, nothing, recv_types, rest, unnumbered, user_shape

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.django_db(transaction=True)
async def test_the_target_gets_a_friendrequest_frame_and_a_notification(aapi, connect, alice, bob, charlie):
    asker, target, other = await connect(alice), await connect(bob), await connect(charlie)
    client = await aapi(alice)

    data = ok(await rest(client, "post", REQUESTS, {"to": bob.pk}), 201)
    frames = await recv_types(target, "friendrequest", "notification")
    assert unnumbered(frames["friendrequest"]) == {"identifier": "kirimin", "type": "friendrequest", "id": data["id"],
                                       "from": user_shape(alice)}
    note = await call(Notification.objects.get, user=bob)
    assert unnumbered(frames["notification"]) == {"identifier": "kirimin", "type": "notification", "id": note.pk,
                                      "kind": "friendrequest", "message": note.message, "data": note.data}
    await nothing(asker, target, other)

    # Asking again while pending relays nothing.
    ok(await rest(client, "post", REQUESTS, {"to": bob.pk}), 200)
    await nothing(asker, target, other)
