"""The drain in process (`relay.drain.drain`): each socket is told `reconnect` with its own moment
within the window and closed with 1012 then; new sockets are refused; /healthz/ answers 503."""

import pytest
from django.test import Client

from relay import drain
from relay.hub import get_hub
from tests.sockets import call, closed_with, recv

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _not_draining_after():
    yield
    drain.draining = False


async def test_every_socket_is_told_its_moment_then_closed_with_1012(connect, open_socket, alice, bob):
    sockets = [await connect(alice), await connect(bob), await connect()]
    hub = await get_hub()
    await drain.drain(hub, 0.3)
    moments = []
    for comm in sockets:
        frame = await recv(comm)
        assert frame["type"] == "reconnect" and frame["reason"] == "maintenance"
        moments.append(frame["after_ms"])
        assert await closed_with(comm) == 1012
    assert sorted(moments) == [0, 100, 200]
    late, connected, _ = await open_socket("/ws/")
    assert connected and await closed_with(late) == 1012
    assert await call(lambda: Client().get("/healthz/").status_code) == 503
    hub.draining = False
