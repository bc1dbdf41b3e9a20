"""The dispatch table: frame type -> (serializer, handler), and the handlers.

Handlers are thin: they get the socket's `relay.session.Session`, the validated
frame and the frame's `RelayOutcome` (where events that could not be sent count),
resolve ids the caller may see and call the same domain actions as REST, in a
database thread. They return the reply frame (an `ack`), or None when the frame
needs no answer.
"""

from typing import NamedTuple

from channels.db import database_sync_to_async
from django.conf import settings

from accounts.selectors import any_user
from config.errors import NotFound
from config.fields import MAX_ID
from groups import actions as group_actions
from groups import messaging as group_messaging
from groups import reading as group_reading
from groups import selectors as group_selectors
from moderation import actions as moderation
from posts.actions import like_post_by_id, react_to_post
from posts.selectors import can_see_post
from relay import auth, opening
from relay import frames as f
from relay.db import pooled
from relay.stream import events, publish
from relay.stream.topics import channel_topic
from relay.writer import get_writer


def action(fn):
    """Run a domain action from a handler off the loop (`relay.db.pooled`: actions of
    different sockets in parallel where the database allows), then send the events it
    committed from here, on the event loop; those that could not be sent count in the
    frame's `outcome`, the first argument of the returned callable."""

    def run_and_take(*args, **kwargs):
        try:
            return fn(*args, **kwargs), None, publish.take()
        except Exception as exc:  # whatever committed is relayed, even if the action failed afterwards
            return None, exc, publish.take()

    in_thread = pooled(run_and_take)

    async def run(outcome, *args, **kwargs):
        result, error, sends = await in_thread(*args, **kwargs)
        outcome.failed += await publish.send(sends)
        if error is not None:
            raise error
        return result

    return run


class Route(NamedTuple):
    serializer: type
    handler: object
    signed_in: bool = True
    # Stored by the process's message writer: the socket reads its next frame at once
    # and the `ack` follows when the batch is stored (acks keep the frames' order).
    pipelined: bool = False


def _can_subscribe(user, channel):
    if channel in ("feed", "groups"):  # public posts and public groups: anyone may see them
        return True
    kind, _, raw_id = channel.partition(":")
    if kind == "custom":  # what other services publish for anyone (`POST /api/publish/`)
        return True
    if int(raw_id) > MAX_ID:  # past any id the database holds (19 digits may be): no such thing
        return False
    if kind == "group":
        return group_selectors.can_follow_group(user, int(raw_id))
    if kind == "presence":  # who of a group comes and goes: its members only
        return group_selectors.membership(user, int(raw_id)) is not None
    if kind == "post":
        return can_see_post(user, int(raw_id))
    return False


# --- built-in frames -----------------------------------------------------------------------------
async def ping(session, data, outcome):
    return events.pong()


async def pong(session, data, outcome):
    return None


async def connection(session, data, outcome):
    return session.connection_frame()


async def authenticate(session, data, outcome):
    if session.user is not None:
        return events.error("forbidden", "This socket is already signed in.")
    user_id = await auth.user_id_from_credential(data["token"])
    if await opening.sign_in(session, user_id) is None:
        return None
    await session.hub.catch_up(session, opening.CATCH_UP_TIMEOUT)
    frame = session.connection_frame()
    return events.ack(user=frame["user"], client_id=frame["client_id"], groups=frame["groups"])


async def subscribe(session, data, outcome):
    channel = data["channel"]
    user = session.user
    if len(session.subscriptions) >= settings.RELAY_MAX_SUBSCRIPTIONS:
        return events.error("too_many_subscriptions",
                            f"A socket follows at most {settings.RELAY_MAX_SUBSCRIPTIONS} channels: unsubscribe first.")
    allowed = database_sync_to_async(_can_subscribe)
    if not await allowed(user, channel):
        raise NotFound("No such channel, or you may not see it.")
    topic = channel_topic(channel)
    session.subscriptions.add(topic)
    session.hub.registry.subscribe(session, topic)
    # Once more now that it listens: a change (a group made private) applied between the
    # first look and the subscription would not have reached this socket.
    if not await allowed(user, channel):
        session.subscriptions.discard(topic)
        if topic not in session.member_topics:
            session.hub.registry.unsubscribe(session, topic)
        raise NotFound("No such channel, or you may not see it.")
    return events.subscribed(channel)


async def unsubscribe(session, data, outcome):
    channel = data["channel"]
    topic = channel_topic(channel)
    session.subscriptions.discard(topic)
    if topic not in session.member_topics:  # membership keeps group events flowing
        session.hub.registry.unsubscribe(session, topic)
    return events.unsubscribed(channel)


# --- domain frames: the same actions as REST -------------------------------------------------------
async def sendmessage(session, data, outcome):
    return events.ack(id=await get_writer().submit(session.user, data, outcome))


@action
def _group_action(verb, user, group_id, **kwargs):
    group = group_selectors.access_group(user, group_id)
    return verb(actor=user, group=group, **kwargs)


@action
def _join(user, group_id):
    # As REST join: a private group answers `forbidden` (SPEC §3), a missing one `not_found`.
    return group_actions.join_group(actor=user, group=group_selectors.group_to_join(group_id))


async def join(session, data, outcome):
    changed = await _join(outcome, session.user, data["groupid"])
    return events.ack(groupid=data["groupid"], changed=changed)


async def leave(session, data, outcome):
    changed = await _group_action(outcome, group_actions.leave_group, session.user, data["groupid"])
    return events.ack(groupid=data["groupid"], changed=changed)


@action
def _kick(user, data):
    group = group_selectors.access_group(user, data["groupid"])
    target = any_user(data["userid"])
    return group_actions.kick_member(actor=user, group=group, target=target, ban=data["ban"])


async def kick(session, data, outcome):
    changed = await _kick(outcome, session.user, data)
    return events.ack(groupid=data["groupid"], userid=data["userid"], changed=changed)


async def typing(session, data, outcome):
    if not session.typing.allow():
        return events.error("rate_limited", "Typing indicators are limited to a few per second.")
    await action(group_messaging.relay_typing)(outcome, actor=session.user, group_id=data.get("groupid"),
                                               to_id=data.get("to"))
    return events.ack() if "ref" in data else None


async def read(session, data, outcome):
    result = await action(group_reading.mark_read)(outcome, actor=session.user, message_id=data["message_id"],
                                                   group_id=data.get("groupid"), to_id=data.get("to"))
    return events.ack(**result)


async def editmessage(session, data, outcome):
    result = await action(group_messaging.edit_message_by_id)(outcome, actor=session.user, message_id=data["id"],
                                                              body=data["message"])
    return events.ack(**result)


async def deletemessage(session, data, outcome):
    result = await action(moderation.delete_message_by_id)(outcome, actor=session.user, message_id=data["id"])
    return events.ack(**result)


async def react(session, data, outcome):
    if "messageid" in data:
        result = await action(group_messaging.react_to_message)(outcome, actor=session.user,
                                                                message_id=data["messageid"], emoji=data["emoji"],
                                                                on=data["on"])
    else:
        result = await action(react_to_post)(outcome, actor=session.user, post_id=data["postid"], emoji=data["emoji"],
                                             on=data["on"])
    return events.ack(**result)


async def postlike(session, data, outcome):
    result = await action(like_post_by_id)(outcome, actor=session.user, post_id=data["postid"], liked=data["liked"])
    return events.ack(**result)


DISPATCH = {
    "ping": Route(f.EmptyFrame, ping, signed_in=False),
    "pong": Route(f.EmptyFrame, pong, signed_in=False),
    "connection": Route(f.EmptyFrame, connection, signed_in=False),
    "auth": Route(f.AuthFrame, authenticate, signed_in=False),
    "subscribe": Route(f.ChannelFrame, subscribe, signed_in=False),
    "unsubscribe": Route(f.ChannelFrame, unsubscribe, signed_in=False),
    "sendmessage": Route(f.MessageFrame, sendmessage, pipelined=True),
    "join": Route(f.GroupFrame, join),
    "leave": Route(f.GroupFrame, leave),
    "kick": Route(f.KickFrame, kick),
    "typing": Route(f.TypingFrame, typing),
    "postlike": Route(f.PostLikeFrame, postlike),
    "read": Route(f.ReadFrame, read),
    "editmessage": Route(f.EditMessageFrame, editmessage),
    "deletemessage": Route(f.DeleteMessageFrame, deletemessage),
    "react": Route(f.ReactFrame, react),
}

# Kept for the drift test and the AsyncAPI document.
CLIENT_FRAME_DESCRIPTIONS = {
    "ping": "answered with `pong`",
    "pong": "answers a server `ping`; no reply",
    "connection": "answered with the `connection` frame again",
    "auth": "signs an anonymous socket in with an access JWT or a ticket; answered with `ack` (user, client_id, groups)",
    "subscribe": ('live events of "post:<id>" or "group:<id>" the caller may see, of "presence:<group id>" (who '
                  'of a group of yours over RELAY_PRESENCE_MAX_MEMBERS comes and goes), of "feed" (new public '
                  'posts) or of "groups" (new public groups); answered with `ack`'),
    "unsubscribe": "stops a subscription; answered with `ack`",
    "sendmessage": "stores and relays a message; answered with `ack` carrying the new `id`",
    "join": "joins a public group, as REST; answered with `ack`",
    "leave": "leaves a group, as REST; answered with `ack`",
    "kick": "removes (and optionally bans) a member, as REST; answered with `ack`",
    "typing": "relayed to the others, never stored; rate limited",
    "postlike": "likes or unlikes a post, as REST; answered with `ack` (postid, liked, likes_count)",
    "read": ("marks a conversation (`groupid`, or `to` a user) read up to `message_id`, as REST; answered "
             "with `ack` (unread_count, mention_count, message_id, changed); your sockets get `unread`"),
    "editmessage": ("changes the text of your message (`id`), as `PATCH /api/messages/{id}/`; answered with `ack` "
                    "(id, changed); its audience gets `editmessage`"),
    "react": ("adds (or with `on: false` takes back) an emoji reaction (REACTION_EMOJI) on a message (`messageid`) or "
              "a post (`postid`), as `POST .../reactions/`; answered with `ack` (changed, counts); the audience gets "
              "`reaction`"),
    "deletemessage": ("deletes a message (`id`: yours, or one of a group you own or administer; staff: any, "
                      "audited), as `DELETE /api/messages/{id}/`; answered with `ack` (id, changed)"),
}
