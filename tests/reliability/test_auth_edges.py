"""Auth edges on real processes: a ticket raced across two processes, an expired access token at the
handshake, a refresh token reused after rotation, a user deactivated while their sockets are open.
"""

import asyncio
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests import servers
from tests.conftest import needs_redis
from tests.servers import open_socket

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("server_logs_on_failure")]



@pytest.fixture(scope="module")
def pair(e2e_stack):
    with servers.running(e2e_stack, JWT_ACCESS_LIFETIME=2) as both:
        yield both


async def first_frame_or_close(url, headers=None):
    """('connection', None) if the socket opened, or ('closed', code)."""
    async with connect(url, open_timeout=10, additional_headers=headers or {}) as ws:
        try:
            frame = await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed as closed:
            return "closed", closed.rcvd.code
        return ("connection" if '"connection"' in frame else frame), None


@needs_redis
async def test_one_ticket_raced_on_two_processes_opens_exactly_one_socket(pair):
    a, b = pair
    for _ in range(10):
        user = a.client().register()
        ticket = user["socket"]["id"]
        urls = [f"ws://127.0.0.1:{server.port}/ws/?id={ticket}" for server in (a, b)]
        outcomes = await asyncio.gather(*(first_frame_or_close(url) for url in urls))
        assert sorted(outcomes, key=str) == [("closed", 4401), ("connection", None)], outcomes


async def test_an_access_token_expired_at_the_handshake_closes_4401(pair):
    server = pair[0]
    user = server.client().register()
    url = f"ws://127.0.0.1:{server.port}/ws/"
    assert await first_frame_or_close(url, {"Authorization": f"Bearer {user['access']}"}) == ("connection", None)
    await asyncio.sleep(3)  # the servers here issue 2-second access tokens
    assert await first_frame_or_close(url, {"Authorization": f"Bearer {user['access']}"}) == ("closed", 4401)


async def test_a_refresh_token_reused_after_rotation_is_refused_on_every_process(pair):
    a, b = pair
    user = a.client().register()
    rotated = a.client().data("POST", "/api/auth/refresh/", {"refresh": user["refresh"]})
    for server in (a, b):
        status, body = server.client().request("POST", "/api/auth/refresh/", {"refresh": user["refresh"]})
        assert (status, body["error"]) == (401, "invalid_token"), body
    assert b.client().data("POST", "/api/auth/refresh/", {"refresh": rotated["refresh"]})["access"]


@needs_redis
async def test_a_user_deactivated_elsewhere_loses_every_open_socket_at_once(pair, e2e_stack):
    a, b = pair
    bob = a.client().register()
    on_a, _ = await open_socket(bob["socket"])
    on_b, _ = await open_socket(b.client().socket(bob["access"]))
    # A moderator acts from a third process (a management shell, as an admin worker would).
    started = time.monotonic()
    e2e_stack.python(
        "from accounts.models import User; from moderation.actions import deactivate_user; "
        "mod = User.objects.create_superuser('mod-' + str(User.objects.count()), password='x-Long-pass-1'); "
        f"print(deactivate_user(moderator=mod, user=User.objects.get(pk={bob['user']['id']}), reason='spam'))"
    )
    for ws in (on_a, on_b):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 4403
    assert time.monotonic() - started < 15
    status, body = b.client().request("POST", "/api/auth/login/",
                                      {"username": bob["user"]["username"], "password": servers.PASSWORD})
    assert status == 401, body
    status, body = a.client().request("POST", "/api/auth/refresh/", {"refresh": bob["refresh"]})
    assert status == 401, body
