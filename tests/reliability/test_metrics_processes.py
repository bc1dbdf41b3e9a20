"""GET /metrics on real processes: each answers for itself, and with PROMETHEUS_MULTIPROC_DIR
shared by the processes of a host any of them answers for all (the socket gauge sums the live ones)."""

import re
import urllib.request

import pytest

from tests import servers
from tests.conftest import needs_redis

pytestmark = pytest.mark.usefixtures("server_logs_on_failure")
TOKEN = "metrics-token-for-the-processes"


def open_user_sockets(server):
    text = scrape(server)
    found = re.search(r'^kirimin_sockets_open\{kind="user"\} ([0-9.]+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def scrape(server):
    request = urllib.request.Request(server.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read().decode()


@needs_redis
async def test_with_a_shared_directory_any_process_answers_for_all(e2e_stack, tmp_path):
    env = {"METRICS_TOKEN": TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with servers.running(e2e_stack, server="uvicorn", **env) as (a, b):
        alice, bob = a.client().register(), b.client().register()
        ws_a, _ = await servers.open_socket(alice["socket"])
        ws_b, _ = await servers.open_socket(bob["socket"])
        try:
            assert open_user_sockets(a) == 2 and open_user_sockets(b) == 2
        finally:
            await ws_a.close()
            await ws_b.close()


async def test_without_it_each_process_answers_for_itself(embedded_stack):
    server = servers.Server.start(embedded_stack, server="uvicorn", METRICS_TOKEN=TOKEN)
    try:
        login = server.client().register()
        ws, _ = await servers.open_socket(login["socket"])
        assert open_user_sockets(server) == 1
        await ws.close()
    finally:
        server.stop()
