"""Who receives what (SPEC §6 server frames, rules 2-5): direct and group audiences, live membership."""

import time

import pytest
from django.db import transaction

from groups import actions as group_actions
from groups import messaging as group_messaging
from posts import actions as post_actions
from relay.stream import events
from relay.stream import publish as notify
from tests.sockets import (
    call,
    closed_with,
    error_of,
    nothing,
    recv,
    recv_types,
    send,
    settle,
    still_alive,
)

pytestmark = pytest.mark.django_db(transaction=True)


def run(fn, **kwargs):
    """Call a sync domain function off the event loop; its events are sent from this loop."""
    return call(fn, **kwargs)


# --- direct messages ------------------------------------------------------------------------------
async def test_direct_message_reaches_every_socket_of_both_users_only(connect, alice, bob, charlie):
    alice_1, alice_2 = await connect(alice), await connect(alice)
    bob_1, bob_2 = await connect(bob), await connect(bob)
    outsider = await connect(charlie)
    await send(alice_1, "sendmessage", to=bob.pk, message="hello bob", ref="dm")
    frames = await recv_types(alice_1, "ack", "sendmessage")
    message = frames["sendmessage"]
    assert frames["ack"]["id"] == message["id"] and frames["ack"]["ref"] == "dm"
    assert message["from"] == {"id": alice.pk, "username": "alice", "display_name": "Alice"}
    assert message["to"] == bob.pk and message["message"] == "hello bob" and "groupid" not in message
    assert message["created_at"].endswith("Z")
    assert message["streams"] == {f"user:{alice.pk}": message["streams"][f"user:{alice.pk}"]}
    assert await recv(alice_2) == message
    for comm in (bob_1, bob_2):  # the same frame, with bob's own stream's offset instead of alice's
        got = await recv(comm)
        assert set(got["streams"]) == {f"user:{bob.pk}"}
        assert {**got, "streams": None} == {**message, "streams": None}
    await nothing(outsider)


async def test_direct_message_sent_by_action_reaches_the_same_people(connect, alice, bob, charlie):
    alice_socket, bob_socket, outsider = await connect(alice), await connect(bob), await connect(charlie)
    msg = await run(group_messaging.send_message, actor=alice, body="  via REST  ", to_id=bob.pk)
    for comm in (alice_socket, bob_socket):
        frame = await recv(comm)
        assert frame["id"] == msg.pk and frame["message"] == "via REST"
    await nothing(outsider)


async def test_direct_message_to_oneself_arrives_once(connect, alice):
    first, second = await connect(alice), await connect(alice)
    await send(first, "sendmessage", to=alice.pk, message="note to self")
    await recv_types(first, "ack", "sendmessage")
    assert (await recv(second))["type"] == "sendmessage"
    await nothing(first)
    await nothing(second)


# --- group messages --------------------------------------------------------------------------------
async def test_group_message_reaches_members_only(connect, chess, alice, bob, charlie):
    owner, member, outsider, anonymous = await connect(alice), await connect(bob), await connect(charlie), await connect()
    await send(member, "sendmessage", groupid=chess.pk, message="e4", ref="g")
    frames = await recv_types(member, "ack", "sendmessage")
    message = frames["sendmessage"]
    assert message["groupid"] == chess.pk and message["from"]["id"] == bob.pk and "to" not in message
    assert await recv(owner) == message
    await nothing(outsider)
    await nothing(anonymous)


async def test_event_for_several_topics_reaches_each_socket_once(connect, chess, alice, bob):
    # A like in a group goes to the author, the group and `post:<id>`: alice sits in all three.
    post = await run(post_actions.create_post, actor=alice, content="my opening", group=chess)
    author = await connect(alice)
    await send(author, "subscribe", channel=f"post:{post.pk}", ref="sub")
    assert (await recv(author))["subscribed"] == f"post:{post.pk}"
    await run(post_actions.like_post, actor=bob, post=post)
    frames = await recv_types(author, "postlike", "notification")
    like = frames["postlike"]
    assert like == {"identifier": "kirimin", "type": "postlike", "postid": post.pk, "userid": bob.pk,
                    "liked": True, "likes_count": 1, "seq": like["seq"], "streams": like["streams"]}
    # Once, though numbered in each of its three streams.
    assert set(like["streams"]) == {f"user:{alice.pk}", f"group:{chess.pk}", f"post:{post.pk}"}
    await nothing(author)


# --- live membership (rule 4) ---------------------------------------------------------------------
async def test_join_reaches_the_new_members_open_socket_then_group_messages(connect, alice, bob, charlie):
    group = await run(group_actions.create_group, actor=alice, name="Go")
    owner, joiner, outsider = await connect(alice), await connect(bob), await connect(charlie)
    assert joiner.first["groups"] == []
    assert await run(group_actions.join_group, actor=bob, group=group) is True
    for comm in (owner, joiner):
        frame = await recv(comm)
        assert frame["type"] == "join" and frame["groupid"] == group.pk and frame["user"]["id"] == bob.pk
    await nothing(joiner)  # the join arrives once, not via both the group and the user topic
    await run(group_messaging.send_message, actor=alice, body="welcome", group_id=group.pk)
    assert (await recv(joiner))["message"] == "welcome"
    assert (await recv(owner))["message"] == "welcome"
    await nothing(outsider)


async def test_join_by_frame_reaches_every_socket_of_the_joiner(connect, alice, bob):
    group = await run(group_actions.create_group, actor=alice, name="Go")
    owner, bob_1, bob_2 = await connect(alice), await connect(bob), await connect(bob)
    await send(bob_1, "join", groupid=str(group.pk), ref="j")
    frames = await recv_types(bob_1, "ack", "join")
    assert frames["ack"] == {"identifier": "kirimin", "type": "ack", "ref": "j", "groupid": group.pk, "changed": True}
    assert (await recv(bob_2))["type"] == "join"
    assert (await recv(owner))["type"] == "join"
    await send(owner, "sendmessage", groupid=group.pk, message="hi both")
    for comm in (bob_1, bob_2):
        assert (await recv(comm))["message"] == "hi both"


async def test_added_member_of_a_private_group_receives_its_messages(connect, alice, bob):
    group = await run(group_actions.create_group, actor=alice, name="Inner", is_private=True)
    member = await connect(bob)
    await run(group_actions.add_member, actor=alice, group=group, target=bob)
    assert (await recv(member))["type"] == "join"
    await run(group_messaging.send_message, actor=alice, body="psst", group_id=group.pk)
    assert (await recv(member))["message"] == "psst"


async def test_new_group_reaches_the_owners_open_socket(connect, alice, bob):
    owner = await connect(alice)
    group = await run(group_actions.create_group, actor=alice, name="Fresh")
    await settle(0.1)  # creating relays no frame to wait for; let the hub join the group's topic
    await run(group_actions.join_group, actor=bob, group=group)
    assert (await recv(owner))["type"] == "join"


async def test_leaver_gets_leave_then_no_group_messages(connect, chess, alice, bob, charlie):
    owner, leaver = await connect(alice), await connect(bob)
    assert leaver.first["groups"] == [chess.pk]
    await send(leaver, "leave", groupid=chess.pk, ref="bye")
    frames = await recv_types(leaver, "ack", "leave")
    assert frames["leave"]["user"]["id"] == bob.pk and frames["ack"]["changed"] is True
    assert (await recv(owner))["type"] == "leave"
    await run(group_messaging.send_message, actor=alice, body="after you left", group_id=chess.pk)
    assert (await recv(owner))["message"] == "after you left"
    await nothing(leaver)


async def test_leaver_who_also_subscribed_stops_receiving(connect, chess, alice, bob):
    owner, leaver = await connect(alice), await connect(bob)
    await send(leaver, "subscribe", channel=f"group:{chess.pk}")
    await recv(leaver)
    await run(group_actions.leave_group, actor=bob, group=chess)
    assert (await recv(leaver))["type"] == "leave"
    assert (await recv(owner))["type"] == "leave"
    await run(group_messaging.send_message, actor=alice, body="gone", group_id=chess.pk)
    assert (await recv(owner))["message"] == "gone"
    await nothing(leaver)


async def test_rejoin_after_leave_receives_again(connect, chess, alice, bob):
    member = await connect(bob)
    await run(group_actions.leave_group, actor=bob, group=chess)
    assert (await recv(member))["type"] == "leave"
    await run(group_actions.join_group, actor=bob, group=chess)
    assert (await recv(member))["type"] == "join"
    await run(group_messaging.send_message, actor=alice, body="back", group_id=chess.pk)
    assert (await recv(member))["message"] == "back"


# --- nothing changed, nothing committed: nothing relayed (rules 2, 3) ------------------------------
async def test_no_op_join_relays_nothing(connect, chess, alice, bob):
    owner, member = await connect(alice), await connect(bob)
    assert await run(group_actions.join_group, actor=bob, group=chess) is False
    await send(member, "join", groupid=chess.pk, ref="twice")
    assert await recv(member) == {"identifier": "kirimin", "type": "ack", "ref": "twice", "groupid": chess.pk,
                                  "changed": False}
    await nothing(owner)
    await nothing(member)


async def test_rolled_back_notify_relays_nothing(connect, alice, bob):
    comm = await connect(bob)

    def notify_then_fail():
        with transaction.atomic():
            notify.notify_users([bob.pk], events.resync("rolled back"))
            notify.close_user_sockets(bob.pk)
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        await call(notify_then_fail)
    await nothing(comm)

    def notify_and_commit():
        with transaction.atomic():
            notify.notify_users([bob.pk], events.resync("committed"))

    await call(notify_and_commit)
    assert (await recv(comm))["reason"] == "committed"


async def test_rolled_back_action_relays_nothing(connect, chess, alice, bob):
    owner = await connect(alice)

    def send_then_fail():
        with transaction.atomic():
            group_messaging.send_message(actor=bob, body="never", group_id=chess.pk)
            raise RuntimeError("outer transaction failed")

    with pytest.raises(RuntimeError):
        await call(send_then_fail)
    await nothing(owner)


async def test_events_wait_for_the_outer_commit(connect, alice, bob):
    comm = await connect(bob)
    pending = []

    def inside_transaction():
        with transaction.atomic():
            group_messaging.send_message(actor=alice, body="later", to_id=bob.pk)
            time.sleep(0.2)  # were it sent now, the hub would deliver it meanwhile
            pending.append(comm.output_queue.qsize())

    await call(inside_transaction)
    assert pending == [0]
    assert (await recv(comm))["message"] == "later"


# --- single sockets and closing -------------------------------------------------------------------
async def test_notify_clients_reaches_only_that_socket(connect, bob):
    target, other = await connect(bob), await connect(bob)
    await call(notify.to_clients, [target.first["client_id"]], events.resync("just you"))
    assert (await recv(target))["reason"] == "just you"
    await nothing(other)


async def test_notify_clients_ignores_unknown_client_ids(connect, bob):
    target = await connect(bob)
    channel = target.first["client_id"].rpartition("#")[0]
    await call(notify.to_clients, [f"{channel}#999999", "nonsense"], events.resync("nobody"))
    await nothing(target)
    await still_alive(target)


async def test_close_user_sockets_closes_all_of_them_with_4403(connect, alice, bob):
    bob_1, bob_2, other = await connect(bob), await connect(bob), await connect(alice)
    await call(notify.close_user_sockets, bob.pk)
    assert await closed_with(bob_1) == 4403
    assert await closed_with(bob_2) == 4403
    await still_alive(other)


async def test_closed_sockets_receive_nothing_more(connect, alice, bob):
    bob_socket = await connect(bob)
    await call(notify.close_user_sockets, bob.pk)
    assert await closed_with(bob_socket) == 4403
    await run(group_messaging.send_message, actor=alice, body="too late", to_id=bob.pk)
    await nothing(bob_socket)


# --- typing -----------------------------------------------------------------------------------------
async def test_group_typing_reaches_the_others_not_the_sender(connect, chess, alice, bob, charlie):
    owner, typist, typist_2, outsider = await connect(alice), await connect(bob), await connect(bob), await connect(charlie)
    await send(typist, "typing", groupid=chess.pk)
    frame = await recv(owner)
    assert frame == {"identifier": "kirimin", "type": "typing", "groupid": chess.pk,
                     "from": {"id": bob.pk, "username": "bob", "display_name": "Bob"}}
    await nothing(typist)
    await nothing(typist_2)
    await nothing(outsider)


async def test_direct_typing_reaches_the_recipient_only(connect, alice, bob, charlie):
    typist, recipient, outsider = await connect(alice), await connect(bob), await connect(charlie)
    await send(typist, "typing", to=bob.pk, ref="t")
    assert await recv(typist) == {"identifier": "kirimin", "type": "ack", "ref": "t"}
    frame = await recv(recipient)
    assert frame["type"] == "typing" and frame["to"] == bob.pk and frame["from"]["id"] == alice.pk
    await nothing(typist)
    await nothing(outsider)


async def test_typing_is_rate_limited(connect, chess, alice, bob):
    owner, typist = await connect(alice), await connect(bob)
    await send(typist, "typing", groupid=chess.pk)
    await send(typist, "typing", groupid=chess.pk, ref="too-fast")
    await error_of(typist, "rate_limited", ref="too-fast")
    assert (await recv(owner))["type"] == "typing"
    await nothing(owner)
    await settle(0.35)
    await send(typist, "typing", groupid=chess.pk)
    assert (await recv(owner))["type"] == "typing"


async def test_typing_to_a_group_one_is_not_in_is_forbidden(connect, chess, charlie):
    outsider = await connect(charlie)
    await send(outsider, "typing", groupid=chess.pk, ref="ty")
    await error_of(outsider, "forbidden", ref="ty")
