"""kirimin.js, the reusable client, on its own: backoff, reconnect with a fresh ticket and
`resume=` (the event stream: positions, per-stream offsets, gaps, duplicates, joins and leaves,
`resync`), `since=` with an older server, ping/pong, the queue, request/ack, 4403, the heartbeat.

The scenario (kirimin_client_scenario.js) runs in Chromium against the module as the server
serves it, with a fake WebSocket and fetch in place of the server, so every step is exact.
"""

from pathlib import Path

import pytest

from relay.stream.events import STATEFUL_TYPES

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

SCENARIO = (Path(__file__).parent / "kirimin_client_scenario.js").read_text()


def run_scenario(browser, spa_server, scenario):
    """Run a scenario (a JS function of the module's URL) in a page of the server's origin; what it returned."""
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(spa_server.base_url + "/healthz/")  # any page of the server's origin
    result = page.evaluate(scenario, "/static/app/kirimin.js")
    context.close()
    assert not errors, errors
    return result


@pytest.fixture(scope="module")
def outcome(browser, spa_server):
    """What the scenario saw, run once for the module's tests."""
    return run_scenario(browser, spa_server, SCENARIO)


def test_backoff_grows_exponentially_to_a_cap_with_jitter_below_it(outcome):
    assert outcome["delaysLow"] == [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]
    assert outcome["delaysHigh"] == [350, 700, 1400, 2800, 5600, 10500, 10500]


def test_the_socket_url_is_the_spec_one_with_resume_or_since_when_known(outcome):
    assert outcome["urls"] == ["ws://127.0.0.1:8000/ws/?id=a%20b", "wss://example.com/ws/?id=t1&since=42",
                               "ws://h/ws/?id=t2&resume=0", "ws://h/ws/?id=t3&resume=7"]


def test_the_stateful_frames_are_the_servers(outcome):
    assert outcome["stateful"] == sorted(STATEFUL_TYPES)


def test_it_connects_with_the_login_ticket_and_answers_ping(outcome):
    assert outcome["savedSession"] == {"user": {"id": 5, "username": "bo", "display_name": "Bo"},
                                       "access": "A1", "refresh": "R1"}
    assert outcome["firstUrl"] == "ws://h/ws/?id=T0"
    assert outcome["connectResolved"] == "c1"
    # An answer to a `connection` frame of ours does not start the socket over (no second subscribe).
    assert outcome["firstSent"] == [
        {"channel": "post:3", "identifier": "kirimin", "type": "subscribe"},
        {"identifier": "kirimin", "type": "pong", "ref": "p1"},
        {"groupid": 1, "message": "hi", "identifier": "kirimin", "type": "sendmessage"},
    ]


def test_a_fresh_socket_starts_at_the_connection_frames_position_and_streams(outcome):
    assert outcome["fresh"] == {"position": 100, "streams": {"user:5": 3, "group:1": 10}, "resumed": False}
    assert outcome["afterLive"] == {"position": 104, "streams": {"user:5": 3, "group:1": 12}}


def test_it_reconnects_with_backoff_a_fresh_ticket_and_resume_at_the_newest_position(outcome):
    # The access token expired meanwhile: is-user is refused once, refreshed, and asked again.
    assert outcome["calls"] == [
        "POST /api/auth/login/ -",
        "GET /api/auth/is-user/ Bearer A1",
        "POST /api/auth/refresh/ -",
        "GET /api/auth/is-user/ Bearer A2",
        "GET /api/auth/is-user/ Bearer A2",
    ]
    assert outcome["secondUrl"] == "ws://h/ws/?id=T1&resume=104"
    assert outcome["thirdUrl"] == "ws://h/ws/?id=T2&resume=104"
    assert outcome["states"][:6] == ["connecting", "open", "reconnecting:20", "reconnecting",
                                     "reconnecting:40", "reconnecting"]
    assert outcome["states"][6] == "open"


def test_after_a_reconnect_it_restores_subscriptions_and_sends_the_queue_but_not_typing(outcome):
    assert outcome["thirdSent"] == [
        {"channel": "post:3", "identifier": "kirimin", "type": "subscribe"},
        {"groupid": 1, "message": "queued while away", "identifier": "kirimin", "type": "sendmessage"},
    ]


def test_a_resumed_socket_keeps_its_offsets_follows_a_join_and_drops_a_replayed_duplicate(outcome):
    assert outcome["resumed"] is True
    # Message 10 came twice and was emitted once; the join of Bo started group 2's stream at its offset.
    assert outcome["afterReplay"] == {"position": 112, "streams": {"user:5": 4, "group:1": 15, "group:2": 3}}
    assert outcome["received"][:6] == [7, 9, 10, 11, 12, 13]
    assert outcome["stream"][:7] == ["sendmessage:101", "sendmessage:104", "sendmessage:105", "join:106",
                                     "sendmessage:107", "sendmessage:109", "sendmessage:112"]


def test_requests_resolve_with_the_ack_and_reject_with_the_error_or_a_drop(outcome):
    assert outcome["ack"]["id"] == 11 and outcome["ack"]["type"] == "ack"
    assert outcome["refused"] == "KiriminError:forbidden"
    assert outcome["cut"] == "disconnected"
    assert outcome["fourthUrl"] == "ws://h/ws/?id=T3&resume=112"


def test_a_stream_of_ours_without_a_join_is_followed_once_the_replay_is_over(outcome):
    # Group 3 was created while Bo was away (no `join` frame): the resumed `connection` frame gives
    # its offset at 120, after the replay, so its replayed message (offset 7) is no duplicate; the
    # stream is followed from that offset once the replay is over (the first frame past 120).
    assert outcome["duringReplay"] == {"position": 119, "streams": {"user:5": 5, "group:1": 16, "group:2": 3}}
    assert outcome["afterPending"] == {"position": 121,
                                       "streams": {"user:5": 5, "group:1": 16, "group:2": 3, "group:3": 8}}


def test_a_gap_is_not_emitted_and_resumes_from_the_position_before_it(outcome):
    assert outcome["gapClosedWith"] == 4000
    assert outcome["atGap"]["position"] == 121
    assert outcome["fifthUrl"] == "ws://h/ws/?id=T4&resume=121"
    # The replay brought the missing message and then the one after the gap: each once, in order.
    assert outcome["received"][6:11] == [14, 15, 16, 17, 18]
    assert outcome["stream"][7:13] == ["notification:115", "sendmessage:118", "sendmessage:119",
                                       "sendmessage:121", "sendmessage:123", "sendmessage:125"]


def test_duplicates_by_position_or_by_offset_are_dropped(outcome):
    assert outcome["afterDuplicates"] == {"position": 125,
                                          "streams": {"user:5": 5, "group:1": 18, "group:2": 3, "group:3": 8}}
    assert 19 not in outcome["received"]
    assert outcome["received"].count(18) == 1


def test_a_leave_or_a_kick_of_the_user_stops_following_the_group(outcome):
    assert outcome["afterMembership"] == {"position": 130, "streams": {"user:5": 7, "group:1": 19}}
    assert outcome["stream"][13:17] == ["leave:127", "kick:128", "kick:129", "postlike:130"]


def test_a_gap_that_a_resume_does_not_fill_is_taken_once_with_a_resync(outcome):
    assert outcome["sixthUrl"] == "ws://h/ws/?id=T5&resume=130"
    assert outcome["persistentGap"] == {"position": 133, "streams": {"user:5": 7, "group:1": 21},
                                        "sockets": 6, "closedWith": None}
    assert outcome["resyncs"][0] == {"reason": "gap", "seq": 130, "position": 130}
    assert outcome["received"].count(21) == 1


def test_resync_for_retention_is_emitted_and_the_socket_goes_on_from_the_new_position(outcome):
    assert outcome["seventhUrl"] == "ws://h/ws/?id=T6&resume=133"
    assert outcome["resyncs"][1] == {"reason": "retention", "seq": 500, "position": 500}
    assert outcome["afterRetention"] == {"position": 501, "streams": {"user:5": 40, "group:1": 91},
                                         "sockets": 7, "closedWith": None, "resumed": False}
    assert 22 in outcome["received"]


def test_an_older_server_without_seq_gets_since_and_its_resync_reconnects(outcome):
    assert outcome["eighthUrl"] == "ws://h/ws/?id=T7&resume=501"
    assert outcome["oldServer"] == {"position": None, "streams": {}, "closedWith": 4000}
    assert outcome["ninthUrl"] == "ws://h/ws/?id=T8&since=30"
    assert outcome["resyncs"][2]["reason"] == "relay_reconnected" and len(outcome["resyncs"]) == 3


def test_every_message_is_emitted_once_in_order(outcome):
    assert outcome["received"] == [7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 21, 22, 30]
    assert outcome["stream"] == [
        "sendmessage:101", "sendmessage:104", "sendmessage:105", "join:106", "sendmessage:107",
        "sendmessage:109", "sendmessage:112", "notification:115", "sendmessage:118", "sendmessage:119",
        "sendmessage:121", "sendmessage:123", "sendmessage:125", "leave:127", "kick:128", "kick:129",
        "postlike:130", "sendmessage:133", "sendmessage:501", "sendmessage:-"]


def test_a_stored_session_is_restored(outcome):
    assert outcome["restored"] == {"signedIn": True, "user": "bo", "position": None}


def test_a_deactivated_account_is_signed_out_and_not_reconnected(outcome):
    assert outcome["after4403"] == {"sockets": 9, "state": "signedout", "signedOut": ["deactivated"],
                                    "stored": False, "position": None}


def test_an_unanswered_heartbeat_drops_the_socket_and_resumes(outcome):
    # The first ping was answered, so only the second one, unanswered, dropped the socket; the
    # stream was empty when it connected: position 0 is a position.
    assert outcome["heartbeatDropped"] == {"closedWith": 4000, "pings": 2, "url": "ws://h/ws/?id=T9&resume=0"}


def test_disconnect_closes_for_good(outcome):
    assert outcome["afterDisconnect"] == {"state": "closed", "sockets": 2, "closedWith": 1000}


@pytest.fixture(scope="module")
def helpers(browser, spa_server):
    """What the helpers' scenario (kirimin_helpers_scenario.js) saw."""
    return run_scenario(browser, spa_server, (Path(__file__).parent / "kirimin_helpers_scenario.js").read_text())


def test_the_conversation_helpers_call_rest_and_follow_the_next_page(helpers):
    assert helpers["firstPage"] == {"results": [], "next": None}
    assert helpers["restCalls"] == [
        "GET /api/conversations/?limit=20",
        "GET /api/conversations/?cursor=5.group.7&limit=20",
        "GET /api/conversations/",
        'POST /api/conversations/read/ {"to":6,"message_id":41}',
        "GET /api/presence/?ids=6,7",
        "GET /api/groups/3/messages/99/reads/",
    ]


def test_mark_read_goes_by_the_socket_while_it_is_open(helpers):
    assert helpers["socketSent"] == [{"groupid": 3, "message_id": 42, "ref": helpers["socketAck"]["ref"],
                                      "identifier": "kirimin", "type": "read"}]
    assert helpers["socketAck"]["type"] == "ack"
    assert helpers["restWhileOpen"] == []


def test_it_gives_up_after_max_attempts_failed_reconnects_until_connect(outcome):
    """`maxAttempts` (as socket.io's `reconnect_failed`): two reconnects failed in a row, then
    state "failed" and one "failed" event; a request waiting for the socket is rejected, no
    more sockets are opened, and `connect()` starts again (its promise rejected if it gives up
    again before a socket opens)."""
    gave_up = outcome["gaveUp"]
    assert gave_up["state"] == "failed"
    assert gave_up["failed"] == [{"attempts": 2, "code": 1006}]
    assert gave_up["pending"] == "failed"
    assert gave_up["sockets"] == 3
    assert gave_up["states"][-3:] == ["reconnecting", "reconnecting", "failed"]
    assert outcome["connectAfterGivingUp"] == "failed"  # the promise of a connect() that never opened
    assert outcome["afterGivingUp"] == {"state": "open", "attempt": 0}


def test_a_reconnect_frame_moves_the_client_at_its_moment_and_it_resumes(outcome):
    drained = outcome["drained"]
    assert drained["stillOpenBefore"] is True  # not before `after_ms`
    assert drained["closedWith"] == 4000 and "resume=40" in drained["url"]
