"""Maintenance drain on real processes (uvicorn, as shipped): SIGTERM or `manage.py relay_drain`
tells every socket `reconnect`, each at its own moment within RELAY_DRAIN_WINDOW, refuses new
sockets and answers /healthz/ with 503 meanwhile, closes each socket with 1012, and exits; clients
that come back to another process and resume there miss nothing and get nothing twice."""

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect

from tests import servers
from tests.conftest import needs_redis
from tests.servers import receive, send

pytestmark = pytest.mark.usefixtures("server_logs_on_failure")
WINDOW = 2.0
EXITED = (0, -15)  # uvicorn raises the SIGTERM it handled again once it has shut down


def _health(server):
    try:
        with urllib.request.urlopen(server.base_url + "/healthz/", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


async def _open(server, login, resume=None):
    ticket = server.client().socket(login["access"])["id"]
    url = f"ws://127.0.0.1:{server.port}/ws/?id={ticket}" + (f"&resume={resume}" if resume is not None else "")
    ws = await connect(url, open_timeout=10)
    first = await receive(ws, timeout=10)
    assert first["type"] == "connection", first
    return ws, first


async def test_sigterm_drains_a_process_over_its_window_then_it_exits(embedded_stack):
    server = servers.Server.start(embedded_stack, server="uvicorn", RELAY_DRAIN_WINDOW=str(WINDOW))
    try:
        http = server.client()
        logins = [http.register() for _ in range(5)]
        sockets = [(await _open(server, login))[0] for login in logins]
        started = time.monotonic()
        out = await asyncio.to_thread(
            embedded_stack.manage, "relay_drain", "--pid", str(server.process.pid), "--timeout", "30")
        assert "drained and exited" in out
        # (the command waited for the exit; the sockets were told and closed meanwhile)
        told, codes = [], []
        for ws in sockets:
            frame = await receive(ws, timeout=5)
            assert frame["type"] == "reconnect" and frame["reason"] == "maintenance", frame
            told.append(frame["after_ms"])
            await ws.wait_closed()
            codes.append(ws.close_code)
        assert codes == [1012] * 5
        assert sorted(told)[0] == 0 and all(0 <= t < WINDOW * 1000 for t in told) and len(set(told)) == 5
        assert server.process.wait(5) in EXITED
        assert time.monotonic() - started < WINDOW + 15
    finally:
        server.kill()


async def test_while_draining_new_sockets_are_refused_and_health_says_503(embedded_stack):
    server = servers.Server.start(embedded_stack, server="uvicorn", RELAY_DRAIN_WINDOW="4")
    try:
        login = server.client().register()
        # Four sockets, so that the drain lasts (the last one's moment is 3 s in): with one, it
        # would be over, and the process gone, before anything else is asked of it.
        sockets = [(await _open(server, login))[0] for _ in range(4)]
        server.process.send_signal(15)
        for kept in sockets:
            assert (await receive(kept, timeout=5))["type"] == "reconnect"
        assert _health(server) == 503
        ticket = server.client().socket(login["access"])["id"]
        late = await connect(f"ws://127.0.0.1:{server.port}/ws/?id={ticket}", open_timeout=10)
        await late.wait_closed()
        assert late.close_code == 1012
        for kept in sockets:
            await kept.wait_closed()
            assert kept.close_code == 1012
        assert server.process.wait(15) in EXITED
    finally:
        server.kill()


@needs_redis
async def test_clients_resume_on_another_process_and_miss_nothing(e2e_stack):
    """Ten members on A, a sender on B sending all along; A drains. Every member moves to B at
    its moment, resumes from the newest position it saw, and has every message once, in order."""
    a = servers.Server.start(e2e_stack, server="uvicorn", wait=False, RELAY_DRAIN_WINDOW=str(WINDOW))
    b = servers.Server.start(e2e_stack, server="uvicorn", wait=False, RELAY_DRAIN_WINDOW=str(WINDOW))
    try:
        a.wait_ready()
        b.wait_ready()
        http_b = b.client()
        owner = http_b.register()
        group = http_b.data("POST", "/api/groups/", {"name": "drained"}, token=owner["access"], expect=201)
        members = [http_b.register() for _ in range(10)]
        for login in members:
            http_b.data("POST", f"/api/groups/{group['id']}/join/", token=login["access"])
        sender, _ = await _open(b, owner)
        got = {i: [] for i in range(len(members))}
        moved = {}

        async def member(i, login):
            ws, first = await _open(a, login)
            newest = first["seq"]
            while True:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
                except Exception:  # closed (1012): come back to B from the newest position seen
                    if ws.close_code == 1012 and i not in moved:
                        moved[i] = ws.close_code
                        ws, _ = await _open(b, login, resume=newest)
                        continue
                    return
                if "seq" in frame:
                    newest = max(newest, frame["seq"])
                if frame["type"] == "sendmessage":
                    got[i].append(frame["message"])
                    if frame["message"] == "last":
                        await ws.close()
                        return

        readers = [asyncio.create_task(member(i, login)) for i, login in enumerate(members)]
        await asyncio.sleep(1)
        sent = []
        drained = asyncio.create_task(asyncio.to_thread(a.stop, 30))  # SIGTERM: the drain
        deadline = time.monotonic() + WINDOW + 1.5
        n = 0
        while time.monotonic() < deadline:
            text = f"m{n}"
            await send(sender, "sendmessage", groupid=group["id"], message=text, ref=text)
            while (await receive(sender, timeout=10)).get("ref") != text:
                pass
            sent.append(text)
            n += 1
            await asyncio.sleep(0.05)
        await send(sender, "sendmessage", groupid=group["id"], message="last", ref="last")
        sent.append("last")
        await asyncio.wait_for(asyncio.gather(*readers), 60)
        await drained
        await sender.close()
        assert a.process.returncode in EXITED
        assert len(moved) == len(members) and set(moved.values()) == {1012}
        for i in got:
            assert got[i] == sent, (i, len(got[i]), len(sent))
    finally:
        a.kill()
        b.stop()
