"""kirimin.js, the reusable client, on its own: backoff, reconnect with a fresh ticket and
`since=`, ping/pong, the queue, request/ack, resync, 4403, the heartbeat.

The scenario (kirimin_client_scenario.js) runs in Chromium against the module as the server
serves it, with a fake WebSocket and fetch in place of the server, so every step is exact.
"""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

SCENARIO = (Path(__file__).parent / "kirimin_client_scenario.js").read_text()


@pytest.fixture(scope="module")
def outcome(browser, spa_server):
    """What the scenario saw, run once for the module's tests."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(spa_server.base_url + "/healthz/")  # any page of the server's origin
    result = page.evaluate(SCENARIO, "/static/app/kirimin.js")
    context.close()
    assert not errors, errors
    return result


def test_backoff_grows_exponentially_to_a_cap_with_jitter_below_it(outcome):
    assert outcome["delaysLow"] == [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]
    assert outcome["delaysHigh"] == [350, 700, 1400, 2800, 5600, 10500, 10500]


def test_the_socket_url_is_the_spec_one_with_since_when_known(outcome):
    assert outcome["urls"] == ["ws://127.0.0.1:8000/ws/?id=a%20b", "wss://example.com/ws/?id=t1&since=42"]


def test_it_connects_with_the_login_ticket_and_answers_ping(outcome):
    assert outcome["savedSession"] == {"user": {"id": 5, "username": "bo", "display_name": "Bo"},
                                       "access": "A1", "refresh": "R1"}
    assert outcome["firstUrl"] == "ws://h/ws/?id=T0"
    assert outcome["connectResolved"] == "c1"
    assert outcome["firstSent"] == [
        {"channel": "post:3", "identifier": "kirimin", "type": "subscribe"},
        {"identifier": "kirimin", "type": "pong", "ref": "p1"},
        {"groupid": 1, "message": "hi", "identifier": "kirimin", "type": "sendmessage"},
    ]


def test_it_reconnects_with_backoff_a_fresh_ticket_and_since(outcome):
    # The access token expired meanwhile: is-user is refused once, refreshed, and asked again.
    assert outcome["calls"] == [
        "POST /api/auth/login/ -",
        "GET /api/auth/is-user/ Bearer A1",
        "POST /api/auth/refresh/ -",
        "GET /api/auth/is-user/ Bearer A2",
        "GET /api/auth/is-user/ Bearer A2",
    ]
    assert outcome["secondUrl"] == "ws://h/ws/?id=T1&since=9"
    assert outcome["thirdUrl"] == "ws://h/ws/?id=T2&since=9"
    assert outcome["states"][:6] == ["connecting", "open", "reconnecting:20", "reconnecting",
                                     "reconnecting:40", "reconnecting"]
    assert outcome["states"][6] == "open"


def test_after_a_reconnect_it_restores_subscriptions_and_sends_the_queue_but_not_typing(outcome):
    assert outcome["thirdSent"] == [
        {"channel": "post:3", "identifier": "kirimin", "type": "subscribe"},
        {"groupid": 1, "message": "queued while away", "identifier": "kirimin", "type": "sendmessage"},
    ]


def test_requests_resolve_with_the_ack_and_reject_with_the_error_or_a_drop(outcome):
    assert outcome["ack"]["id"] == 11 and outcome["ack"]["type"] == "ack"
    assert outcome["refused"] == "KiriminError:forbidden"
    assert outcome["cut"] == "disconnected"


def test_resync_reconnects_at_once_with_since(outcome):
    assert outcome["resyncClosedWith"] == 4000
    assert outcome["fifthUrl"] == "ws://h/ws/?id=T4&since=12"
    assert outcome["received"] == [7, 9, 12]


def test_a_stored_session_is_restored(outcome):
    assert outcome["restored"] == {"signedIn": True, "user": "bo"}


def test_a_deactivated_account_is_signed_out_and_not_reconnected(outcome):
    assert outcome["after4403"] == {"sockets": 5, "state": "signedout", "signedOut": ["deactivated"],
                                    "stored": False}


def test_an_unanswered_heartbeat_drops_the_socket_and_reconnects(outcome):
    # The first ping was answered, so only the second one, unanswered, dropped the socket.
    assert outcome["heartbeatDropped"] == {"closedWith": 4000, "pings": 2}


def test_disconnect_closes_for_good(outcome):
    assert outcome["afterDisconnect"] == {"state": "closed", "sockets": 2, "closedWith": 1000}
