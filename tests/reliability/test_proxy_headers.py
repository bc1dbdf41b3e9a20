"""Throttles key on the client address that the settings say to trust, on uvicorn as shipped:
with `NUM_PROXIES=0` no forwarded header is believed (uvicorn runs with `--no-proxy-headers`, so it
does not rewrite the client address from `X-Forwarded-For` before Django sees it); with
`NUM_PROXIES=1`, only the hop the proxy appended counts."""

import json
import urllib.error
import urllib.request

import pytest

from tests import servers

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("server_logs_on_failure")]


def failed_logins(server, forwarded_for, count=15):
    """The statuses of `count` failed logins of one username, each with its own forwarded header."""
    statuses = []
    for i in range(count):
        request = urllib.request.Request(
            f"{server.base_url}/api/auth/login/", method="POST",
            data=json.dumps({"username": "nobody-here", "password": "wrong-password"}).encode(),
            headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for(i)})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    return statuses


@pytest.mark.parametrize("num_proxies, header", [
    (0, lambda i: f"203.0.113.{i}"),  # a client making up addresses
    (1, lambda i: f"203.0.113.{i}, 198.51.100.7"),  # made-up hops before the one the proxy appended
], ids=["no-proxy", "one-proxy"])
def test_rotating_x_forwarded_for_does_not_escape_the_login_throttle(e2e_stack, num_proxies, header):
    server = servers.Server.start(e2e_stack, server="uvicorn", NUM_PROXIES=num_proxies, THROTTLE_LOGIN="10/min",
                                  THROTTLE_LOGIN_IP="60/min")
    try:
        statuses = failed_logins(server, header)
    finally:
        server.stop()
    assert statuses[:10] == [401] * 10, statuses
    assert statuses[10:] == [429] * 5, statuses
