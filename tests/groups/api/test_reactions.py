"""Reactions (issue 23, item 6): `POST /api/messages/{id}/reactions/` and `/api/posts/{id}/reactions/`
(`emoji`, idempotent), `DELETE .../reactions/{emoji}/`, client frame `react`, server `reaction` with
the counts to the message's or the post's audience. Only REACTION_EMOJI are allowed; nobody reacts
to what they cannot see; likes stay as they are.
"""

from urllib.parse import quote

import pytest

from accounts import actions as accounts_actions
from groups.models import MessageReaction
from posts.models import PostReaction
from tests.conftest import err, group_with, likes_of, ok, say
from tests.sockets import call, expect, nothing, recv, send, unnumbered, user_shape

pytestmark = pytest.mark.django_db

THUMBS, HEART = "👍", "❤️"


def message_url(message, emoji=None):
    return f"/api/messages/{message.pk}/reactions/" + (f"{quote(emoji)}/" if emoji else "")


def post_url(post, emoji=None):
    return f"/api/posts/{post.pk}/reactions/" + (f"{quote(emoji)}/" if emoji else "")


def react(client, url, emoji):
    return client.post(url, {"emoji": emoji}, format="json")


def test_react_to_a_message_is_idempotent_and_counts_per_emoji(api, alice, bob):
    group = group_with(alice, bob)
    message = say(alice, "lunch?", group=group)
    assert ok(react(api(bob), message_url(message), THUMBS), 201) == {
        "messageid": message.pk, "emoji": THUMBS, "on": True, "changed": True, "counts": {THUMBS: 1}}
    assert ok(react(api(bob), message_url(message), THUMBS), 200)["changed"] is False
    assert ok(react(api(alice), message_url(message), THUMBS), 201)["counts"] == {THUMBS: 2}
    assert ok(react(api(alice), message_url(message), HEART), 201)["counts"] == {THUMBS: 2, HEART: 1}
    assert ok(api(bob).delete(message_url(message, THUMBS)))["counts"] == {THUMBS: 1, HEART: 1}
    assert ok(api(bob).delete(message_url(message, THUMBS)))["changed"] is False
    (row,) = ok(api(alice).get(f"/api/groups/{group.pk}/messages/"))["results"]
    assert row["reactions"] == {THUMBS: 1, HEART: 1} and row["my_reactions"] == sorted([THUMBS, HEART])
    (row,) = ok(api(bob).get(f"/api/groups/{group.pk}/messages/"))["results"]
    assert row["my_reactions"] == []


def test_react_to_a_post_leaves_its_likes_alone(api, alice, bob, make_post):
    post = make_post(alice)
    assert ok(react(api(bob), post_url(post), HEART), 201)["counts"] == {HEART: 1}
    assert likes_of(post) == (0, 0)
    shown = ok(api(alice).get(f"/api/posts/{post.pk}/"))
    assert shown["reactions"] == {HEART: 1} and shown["my_reactions"] == []
    assert ok(api(bob).delete(post_url(post, HEART))) == {
        "postid": post.pk, "emoji": HEART, "on": False, "changed": True, "counts": {}}
    assert "reactions" not in ok(api(alice).get(f"/api/posts/{post.pk}/"))


def test_bad_input_and_what_one_cannot_see(api, alice, bob, charlie, anon, make_post):
    secret = group_with(alice, bob, private=True)
    message = say(alice, "hush", group=secret)
    direct = say(alice, "just us", to=bob)
    post = make_post(alice, group=secret)
    refused = err(react(api(bob), message_url(message), "🦄"), 400, "validation_error")
    assert "emoji" in refused["details"]
    err(api(bob).post(message_url(message), {}, format="json"), 400, "validation_error")
    err(api(bob).post(message_url(message), {"emoji": 5}, format="json"), 400, "validation_error")
    for url in (message_url(message), message_url(direct), post_url(post), "/api/messages/999999/reactions/"):
        err(react(api(charlie), url, THUMBS), 404, "not_found")
    err(react(anon, message_url(message), THUMBS), 401, "not_authenticated")
    # Taking back an emoji one never gave (even one not allowed) changes nothing and is no error.
    assert ok(api(bob).delete(message_url(message, "🦄")))["changed"] is False
    assert not MessageReaction.objects.exists() and not PostReaction.objects.exists()


def test_the_audience_of_a_reaction(alice, bob, charlie, capture_events, make_post):
    group = group_with(alice, bob)
    in_group, direct = say(alice, "in the group", group=group), say(alice, "to charlie", to=charlie)
    post = make_post(alice)
    accounts_actions.block(actor=charlie, target=bob)
    from groups.messaging import react_to_message
    from posts.actions import react_to_post
    with capture_events.capture():
        react_to_message(actor=bob, message_id=in_group.pk, emoji=THUMBS)
        react_to_message(actor=charlie, message_id=direct.pk, emoji=HEART)
        react_to_post(actor=bob, post_id=post.pk, emoji=THUMBS)
        react_to_post(actor=bob, post_id=post.pk, emoji=THUMBS)  # no change: nothing relayed
    to_group, to_pair, to_post = capture_events.of_type("reaction")
    assert (to_group["groups"], to_group["users"]) == ([group.pk], [])
    assert to_group["event"] == {"identifier": "kirimin", "type": "reaction", "messageid": in_group.pk,
                                 "groupid": group.pk, "user": user_shape(bob), "emoji": THUMBS, "on": True,
                                 "counts": {THUMBS: 1}}
    assert to_group["variants"] == {str(charlie.pk): "x"}  # bob's reactions are not told to charlie
    assert (to_pair["users"], to_pair["event"]["to"]) == (sorted([alice.pk, charlie.pk]), charlie.pk)
    assert (to_post["users"], to_post["channels"]) == ([alice.pk], [f"post:{post.pk}"])
    assert len(capture_events.of_type("reaction")) == 3


@pytest.mark.django_db(transaction=True)
async def test_react_frame_and_live_reaction(connect, alice, bob, charlie, make_post):
    group = await call(group_with, alice, bob)
    message = await call(say, alice, "lunch?", group=group)
    post = await call(make_post, alice)
    mine, theirs, outsider = await connect(bob), await connect(alice), await connect(charlie)
    await send(mine, "react", messageid=message.pk, emoji=THUMBS, ref="r1")
    frames = {f["type"]: f for f in [await recv(mine), await recv(mine)]}
    assert frames["ack"] == {"identifier": "kirimin", "type": "ack", "ref": "r1", "messageid": message.pk,
                             "emoji": THUMBS, "on": True, "changed": True, "counts": {THUMBS: 1}}
    live = unnumbered(await expect(theirs, "reaction"))
    assert live["messageid"] == message.pk and live["user"] == user_shape(bob) and live["counts"] == {THUMBS: 1}
    await send(mine, "react", postid=post.pk, emoji=HEART, on=False, ref="r2")
    assert (await expect(mine, "ack", ref="r2"))["changed"] is False
    await send(mine, "react", messageid=message.pk, postid=post.pk, emoji=HEART, ref="r3")
    assert (await expect(mine, "error", ref="r3"))["code"] == "invalid_frame"
    await send(mine, "react", messageid=message.pk, emoji="🦄", ref="r4")
    refused = await expect(mine, "error", ref="r4")
    assert refused["code"] == "invalid_frame" and "emoji" in refused["details"]
    await nothing(outsider, timeout=0.3)
