"""REST for membership (SPEC §3): that join, leave and kick accept only POST, checked once for
the three.

Each membership endpoint has a file of its own in tests/groups/api/: test_join.py,
test_leave.py, test_kick.py (kick and ban), test_members.py (adding members, the member
list) and test_member_role.py (roles).
"""

import pytest

from tests.conftest import err, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("verb", ["join/", "leave/", "kick/"])
def test_membership_verbs_only_accept_post(api, alice, public_group, verb):
    for method in ("get", "put", "patch", "delete"):
        err(getattr(api(alice), method)(url(public_group, verb)), 405, "method_not_allowed")
