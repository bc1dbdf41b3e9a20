"""Spoofed actors and hidden ids, over a real server process (SPEC §6 rule 8, §1, house style "ids leak nothing").

- A frame or a request that names another user in `from`, `userid`, `user`, `sender`,
  `by`, `author` or `reporter` is stored and relayed as the authenticated user.
- An id of something the caller may not see answers exactly as a missing id does
  (`not_found`, same sentence), and never carries its contents. The one exception is
  SPEC §3's: joining a private group is `forbidden` (403), as over REST.
"""

import asyncio
import json
import uuid

import pytest

from tests.reliability.conftest import tracebacks
from tests.servers import nothing, nothing_more, open_socket, receive, receive_types, send

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("server_logs_on_failure")]

MISSING = 10**12
SECRET = f"secret-{uuid.uuid4().hex[:8]}"  # in every hidden name, text and message: it must never come back


class Scene:
    """alice acts; bob's and carol's identities are what she tries to borrow; carol hides things from her."""

    def __init__(self, server):
        self.http = http = server.client()
        self.alice, self.bob, self.carol = http.register(), http.register(), http.register()
        a, b, c = (u["access"] for u in (self.alice, self.bob, self.carol))
        self.public = http.data("POST", "/api/groups/", {"name": "open"}, a, expect=201)["id"]
        http.data("POST", f"/api/groups/{self.public}/join/", token=b)
        self.carols_public = http.data("POST", "/api/groups/", {"name": "carol's"}, c, expect=201)["id"]
        self.private = http.data("POST", "/api/groups/", {"name": f"{SECRET} club", "is_private": True}, c,
                                 expect=201)["id"]
        http.data("POST", f"/api/groups/{self.private}/members/", {"user_id": self.bob["user"]["id"]}, c, expect=201)
        self.hidden_post = http.data("POST", "/api/posts/", {"content": f"{SECRET} post", "group_id": self.private},
                                     c, expect=201)["id"]
        self.public_post = http.data("POST", "/api/posts/", {"content": "hello all"}, c, expect=201)["id"]
        self.hidden_group_message = http.data("POST", f"/api/groups/{self.private}/messages/",
                                              {"message": f"{SECRET} group message"}, c, expect=201)["id"]
        self.hidden_direct_message = http.data("POST", "/api/messages/", {"to": self.bob["user"]["id"],
                                                                          "message": f"{SECRET} dm"}, c,
                                               expect=201)["id"]
        self.hidden_friend_request = http.data("POST", "/api/friends/requests/", {"to": self.bob["user"]["id"]}, c,
                                               expect=201)["id"]

    def socket(self, who):
        return open_socket(self.http.socket(who["access"]))


@pytest.fixture(scope="module")
def scene(hostile_server):
    return Scene(hostile_server)


def spoofed(user):
    """Every actor-like field a client might slip in, all naming `user`."""
    shape = user["user"]
    return {"from": shape, "userid": shape["id"], "user": shape, "sender": shape["id"], "by": shape,
            "author": shape, "user_id": shape["id"], "reporter": shape["id"]}


def assert_no_secret(*payloads):
    for payload in payloads:
        assert SECRET not in json.dumps(payload), payload


# --- spoofed actors over the socket --------------------------------------------------------------------------
async def test_a_spoofed_direct_message_is_stored_and_relayed_as_the_sender(scene):
    alice_ws, _ = await scene.socket(scene.alice)
    bob_ws, _ = await scene.socket(scene.bob)
    try:
        await send(alice_ws, "sendmessage", to=scene.bob["user"]["id"], message="it is me", ref="dm",
                   **spoofed(scene.carol))
        mine = await receive_types(alice_ws, "ack", "sendmessage")
        relayed = await receive(bob_ws)
        assert {**relayed, "streams": None} == {**mine["sendmessage"], "streams": None}, relayed
        assert relayed["from"] == scene.alice["user"], relayed
    finally:
        await alice_ws.close()
        await bob_ws.close()
    history = scene.http.data("GET", f"/api/messages/?with={scene.alice['user']['id']}", token=scene.bob["access"])
    stored = next(m for m in history["results"] if m["id"] == mine["ack"]["id"])
    assert stored["from"] == scene.alice["user"] and stored["to"] == scene.bob["user"]["id"]


async def test_spoofed_group_message_typing_and_like_carry_the_socket_user(scene):
    alice_ws, _ = await scene.socket(scene.alice)
    bob_ws, _ = await scene.socket(scene.bob)
    carol_ws, _ = await scene.socket(scene.carol)
    alice = scene.alice["user"]
    try:
        await send(alice_ws, "sendmessage", groupid=scene.public, message="group hi", ref="g", **spoofed(scene.bob))
        frames = await receive_types(alice_ws, "ack", "sendmessage")
        assert frames["sendmessage"]["from"] == alice
        assert (await receive(bob_ws))["from"] == alice

        await send(alice_ws, "typing", to=scene.bob["user"]["id"], **spoofed(scene.carol))
        typing = await receive(bob_ws)
        assert typing["type"] == "typing" and typing["from"] == alice, typing

        await send(alice_ws, "postlike", postid=scene.public_post, ref="like", **spoofed(scene.bob))
        ack = await receive(alice_ws)
        assert ack["type"] == "ack" and ack["liked"] is True, ack
        events = await receive_types(carol_ws, "postlike", "notification")
        assert events["postlike"]["userid"] == alice["id"]
        assert events["notification"]["data"]["userid"] == alice["id"]
        # bob got nothing of the like, spoofed in his name: the next thing he gets is a message sent after it.
        await nothing_more(bob_ws, lambda text: send(alice_ws, "sendmessage", to=scene.bob["user"]["id"], message=text))
    finally:
        for ws in (alice_ws, bob_ws, carol_ws):
            await ws.close()


async def test_spoofed_join_and_kick_carry_the_socket_user(scene):
    alice_ws, _ = await scene.socket(scene.alice)
    bob_ws, _ = await scene.socket(scene.bob)
    alice = scene.alice["user"]
    try:
        # alice joins carol's public group naming bob: alice joins, bob does not.
        await send(alice_ws, "join", groupid=scene.carols_public, ref="j", **spoofed(scene.bob))
        frames = await receive_types(alice_ws, "ack", "join")
        assert frames["join"]["user"] == alice and frames["ack"]["changed"] is True
        members = scene.http.data("GET", f"/api/groups/{scene.carols_public}/members/", token=scene.carol["access"])
        assert scene.bob["user"]["id"] not in {m["user"]["id"] for m in members["results"]}

        # alice kicks bob from her group naming carol as the kicker: `by` is alice.
        await send(alice_ws, "kick", groupid=scene.public, ref="k",
                   **{**spoofed(scene.carol), "userid": scene.bob["user"]["id"]})  # userid: whom to kick
        frames = await receive_types(alice_ws, "ack", "kick")
        assert frames["kick"]["by"] == alice and frames["kick"]["user"] == scene.bob["user"]
        kicked = await receive_types(bob_ws, "kick", "notification")
        assert kicked["kick"]["by"] == alice and kicked["notification"]["data"]["by"] == alice["id"]
    finally:
        await alice_ws.close()
        await bob_ws.close()
        scene.http.data("POST", f"/api/groups/{scene.public}/members/", {"user_id": scene.bob["user"]["id"]},
                        scene.alice["access"], expect=201)  # bob back, for the other tests


# --- spoofed actors over REST ------------------------------------------------------------------------------------
def test_spoofed_rest_writes_are_the_callers(scene):
    http, a, alice = scene.http, scene.alice["access"], scene.alice["user"]
    message = http.data("POST", "/api/messages/", {"to": scene.bob["user"]["id"], "message": "rest dm",
                                                   **spoofed(scene.carol)}, a, expect=201)
    assert message["from"] == alice
    group_message = http.data("POST", f"/api/groups/{scene.public}/messages/",
                              {"message": "rest group", **spoofed(scene.bob)}, a, expect=201)
    assert group_message["from"] == alice
    post = http.data("POST", "/api/posts/", {"content": "mine", **spoofed(scene.bob)}, a, expect=201)
    assert post["author"] == alice
    edited = http.data("PATCH", f"/api/posts/{post['id']}/", {"content": "still mine", **spoofed(scene.bob)}, a)
    assert edited["author"] == alice
    group = http.data("POST", "/api/groups/", {"name": "alice's own", "owner": scene.bob["user"],
                                               **spoofed(scene.bob)}, a, expect=201)
    assert group["owner"] == alice and group["my_role"] == "owner"
    http.data("POST", "/api/reports/", {"target": f"post:{scene.public_post}", "reason": "spam",
                                        **spoofed(scene.bob)}, a, expect=201)
    assert http.data("GET", "/api/reports/", token=scene.bob["access"])["results"] == []


# --- hidden ids: not_found, exactly as missing ones, and nothing of theirs -------------------------------------
async def test_hidden_ids_over_the_socket_answer_as_missing_ones(scene):
    ws, _ = await scene.socket(scene.alice)
    bob_id = scene.bob["user"]["id"]
    frames = {
        "sendmessage to a hidden group": ("sendmessage", {"groupid": scene.private, "message": "in?"}),
        "typing in a hidden group": ("typing", {"groupid": scene.private}),
        "leave a hidden group": ("leave", {"groupid": scene.private}),
        "kick in a hidden group": ("kick", {"groupid": scene.private, "userid": bob_id}),
        "like a hidden post": ("postlike", {"postid": scene.hidden_post}),
        "unlike a hidden post": ("postlike", {"postid": scene.hidden_post, "liked": False}),
        "subscribe to a hidden group": ("subscribe", {"channel": f"group:{scene.private}"}),
        "subscribe to a hidden post": ("subscribe", {"channel": f"post:{scene.hidden_post}"}),
    }
    try:
        for name, (type_, fields) in frames.items():
            await send(ws, type_, ref="hidden", **fields)
            hidden = await receive(ws)
            missing_fields = {k: (MISSING if v in (scene.private, scene.hidden_post) else v)
                              for k, v in fields.items() if k != "channel"}
            if "channel" in fields:
                missing_fields["channel"] = fields["channel"].split(":")[0] + f":{MISSING}"
            if type_ == "typing":
                await asyncio.sleep(0.35)  # one typing indicator per 300 ms
            await send(ws, type_, ref="hidden", **missing_fields)
            missing = await receive(ws)
            assert hidden["type"] == "error" and hidden["code"] == "not_found", (name, hidden)
            assert hidden == missing, (name, hidden, missing)
            assert_no_secret(hidden)
        # SPEC §3: a private group refuses a join with 403, over REST and the socket alike; still nothing of it.
        await send(ws, "join", groupid=scene.private, ref="join")
        refused = await receive(ws)
        assert refused["code"] == "forbidden", refused
        assert_no_secret(refused)
        await nothing(ws)
    finally:
        await ws.close()


def rest_pair(scene, method, template, body=None, *, ids):
    """The answers for a hidden id and for a missing one, with `template` formatted by each."""
    answers = []
    for value in ids:
        status, envelope = scene.http.request(method, template.format(value), body, scene.alice["access"])
        assert_no_secret(envelope)
        answers.append((status, envelope))
    return answers


@pytest.mark.parametrize("method, template, body", [
    ("GET", "/api/groups/{}/", None),
    ("PATCH", "/api/groups/{}/", {"name": "mine now"}),
    ("DELETE", "/api/groups/{}/", None),
    ("POST", "/api/groups/{}/leave/", None),
    ("POST", "/api/groups/{}/kick/", {"user_id": 1}),
    ("GET", "/api/groups/{}/members/", None),
    ("POST", "/api/groups/{}/members/", {"user_id": 1}),
    ("GET", "/api/groups/{}/messages/", None),
    ("POST", "/api/groups/{}/messages/", {"message": "in?"}),
    ("POST", "/api/posts/", {"content": "in?", "group_id": "{}"}),
])
def test_hidden_groups_over_rest_answer_as_missing_ones(scene, method, template, body):
    if body and body.get("group_id") == "{}":
        answers = [scene.http.request(method, template, {**body, "group_id": gid}, scene.alice["access"])
                   for gid in (scene.private, MISSING)]
        for _, envelope in answers:
            assert_no_secret(envelope)
    else:
        if body and "user_id" in body:
            body = {"user_id": scene.bob["user"]["id"]}
        answers = rest_pair(scene, method, template, body, ids=(scene.private, MISSING))
    (hidden_status, hidden), (missing_status, missing) = answers
    assert hidden_status == 404 and hidden["error"] == "not_found", hidden
    assert (hidden_status, hidden) == (missing_status, missing)


@pytest.mark.parametrize("method, template, body", [
    ("GET", "/api/posts/{}/", None),
    ("PATCH", "/api/posts/{}/", {"content": "mine now"}),
    ("DELETE", "/api/posts/{}/", None),
    ("POST", "/api/posts/{}/like/", None),
    ("DELETE", "/api/posts/{}/like/", None),
])
def test_hidden_posts_over_rest_answer_as_missing_ones(scene, method, template, body):
    (hidden_status, hidden), (missing_status, missing) = rest_pair(scene, method, template, body,
                                                                   ids=(scene.hidden_post, MISSING))
    assert hidden_status == 404 and hidden["error"] == "not_found", hidden
    assert (hidden_status, hidden) == (missing_status, missing)


@pytest.mark.parametrize("target", ["message:{hidden_group_message}", "message:{hidden_direct_message}",
                                    "post:{hidden_post}"])
def test_reporting_something_hidden_answers_as_missing(scene, target):
    hidden = scene.http.request("POST", "/api/reports/", {"target": target.format(**vars(scene)), "reason": "x"},
                                scene.alice["access"])
    missing = scene.http.request("POST", "/api/reports/", {"target": f"{target.split(':')[0]}:{MISSING}",
                                                           "reason": "x"}, scene.alice["access"])
    assert hidden[0] == 404 and hidden == missing, (hidden, missing)
    assert_no_secret(hidden)


@pytest.mark.parametrize("verb", ["accept", "decline"])
def test_someone_elses_friend_request_answers_as_missing(scene, verb):
    hidden = scene.http.request("POST", f"/api/friends/requests/{scene.hidden_friend_request}/{verb}/", None,
                                scene.alice["access"])
    missing = scene.http.request("POST", f"/api/friends/requests/{MISSING}/{verb}/", None, scene.alice["access"])
    assert hidden[0] == 404 and hidden == missing, (hidden, missing)


def test_lists_and_searches_show_nothing_hidden(scene):
    http, a = scene.http, scene.alice["access"]
    for path in (f"/api/posts/?group={scene.private}", f"/api/groups/?q={SECRET}",
                 f"/api/messages/?with={scene.carol['user']['id']}", f"/api/posts/?author={scene.carol['user']['id']}",
                 "/api/groups/", "/api/posts/", "/api/notifications/", "/api/friends/requests/?direction=incoming"):
        page = http.data("GET", path, token=a)
        assert_no_secret(page)
        if "?group=" in path or "?q=" in path or "?with=" in path:
            assert page["results"] == [], (path, page)
    # The group's own id is no key to it either: the members see it, alice does not.
    assert http.request("GET", f"/api/groups/{scene.private}/", token=scene.bob["access"])[0] == 200


def test_the_server_logged_no_error(scene, hostile_server):
    assert tracebacks(hostile_server) == []
