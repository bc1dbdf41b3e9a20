"""REST for friends (SPEC §5): that every friend endpoint needs a signed-in user, checked once
for all of them.

Each endpoint has a file of its own in tests/groups/api/: test_friend_requests.py (asking,
the pending requests), test_friend_answers.py (accept, decline) and test_friends.py (the
friend list); who hears about them live is in tests/groups/actions/
(test_send_friend_request.py, test_respond_to_friend_request.py).
"""

import pytest

from accounts.models import FriendRequest
from tests.conftest import FRIENDS, REQUESTS, answer, err

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method, url", [("get", FRIENDS), ("get", REQUESTS), ("post", REQUESTS),
                                         ("post", answer(1, "accept")), ("post", answer(1, "decline"))])
def test_friend_endpoints_need_a_signed_in_user(anon, bob, method, url):
    err(getattr(anon, method)(url, {"to": bob.pk}, format="json"), 401, "not_authenticated")
    assert not FriendRequest.objects.exists()
