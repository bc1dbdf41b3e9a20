"""Message actions: every write about messages (sending, mentions, reactions, edits,
deletes, typing) goes through here, on the rules of `groups.actions` (checked, one
transaction, events after commit, nothing relayed when nothing changed); reading is
`groups.reading`.
"""

import collections
import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils.timezone import now

from accounts.actions import Blocked, notify_user, refuse_if_blocked
from accounts.selectors import block_partners, told_differently, withheld_from
from config.errors import Forbidden, KiriminError, NotFound, ValidationFailed
from groups import reactions
from groups.models import (
    Group,
    Membership,
    Mention,
    Message,
    MessageReaction,
    MessageRevision,
)
from groups.selectors import (
    access_group,
    manages_group,
    membership,
    message_for,
    visible_messages,
)
from groups.serializers import message_dict
from relay.stream import events, numbering, presence, publish, webhooks
from relay.stream.variants import FROM_BLOCKED


def _clean_body(body):
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(details={"message": ["Must not be blank."]})
    if len(body) > 4000:
        raise ValidationFailed(details={"message": ["At most 4000 characters."]})
    return body


def send_message(*, actor, body, group_id=None, to_id=None) -> Message:
    """Store a group or direct message, then relay it to its audience (`send_messages` of one)."""
    [result] = send_messages([(actor, body, group_id, to_id)])
    if isinstance(result, KiriminError):
        raise result
    return result


def send_messages(requests) -> list:
    """Store many messages at once, each checked on its own: one transaction, the rows written
    together (`numbering.insert_in_order`).

    `requests` are (actor, body, group_id, to_id) tuples, in the order they were sent.
    Returns, in the same order, the stored `Message` or the `KiriminError` that refused
    it; a refused message does not stop the others. Ids follow the order of `requests`.
    The relay's message writer (`relay.writer`) stores every `sendmessage` frame through here.
    """
    results = [None] * len(requests)
    group_ids = {r[2] for r in requests if r[2] is not None}
    to_ids = {r[3] for r in requests if r[2] is None}
    actor_ids = {r[0].pk for r in requests}
    pending = []
    with transaction.atomic():
        groups = Group.objects.in_bulk(group_ids) if group_ids else {}
        members = set(Membership.objects.filter(group_id__in=group_ids, user_id__in=actor_ids)
                      .values_list("group_id", "user_id")) if group_ids else set()
        recipients = (get_user_model().objects.filter(is_active=True).in_bulk(to_ids)) if to_ids else {}
        # Who blocks or mutes each sender (and each recipient): one query for the batch.
        told = told_differently(actor_ids | to_ids)
        for i, (actor, body, group_id, to_id) in enumerate(requests):
            try:
                body = _clean_body(body)
                if group_id is not None:
                    group = groups.get(group_id)
                    member = (group_id, actor.pk) in members
                    if group is None or (group.is_private and not member):
                        raise NotFound("No such group.")
                    if not member:
                        raise Forbidden("Join the group to send messages.")
                    pending.append((i, _new_message(actor, body, group=group)))
                else:
                    recipient = recipients.get(to_id)
                    if recipient is None:
                        raise NotFound("No such user.")
                    if FROM_BLOCKED in told[actor.pk].get(to_id, "") or FROM_BLOCKED in told[to_id].get(actor.pk, ""):
                        raise Blocked()
                    pending.append((i, _new_message(actor, body, recipient=recipient)))
            except KiriminError as exc:
                results[i] = exc
        # Ids are taken under the stream's lock, so they follow commit order; the checks above
        # and the events below run beside other processes' batches, each event completed with
        # its message's id and time once the message is stored.
        mentioned = _mentioned([msg for _, msg in pending])
        entries = []
        stamp = now()  # the batch's messages are written in one statement, at one time
        for i, msg in pending:
            if msg in mentioned:
                msg.mentioned = sorted(user.pk for user in mentioned[msg][1])
            msg.created_at = stamp
            event = events.message(message_dict(msg))
            variants = told[msg.sender_id]
            if msg.group_id is not None:
                entry = publish.emit(event, groups=[msg.group_id], variants=variants)
            else:  # only the recipient's mark matters
                mark = variants.get(msg.recipient_id)
                entry = publish.emit(event, users=sorted({msg.sender_id, msg.recipient_id}),
                                     variants={msg.recipient_id: mark} if mark else None)
            entries.append((event, entry))
            results[i] = msg
        # Who has no open socket (for push services) is asked before the stream's lock is taken.
        offline = _offline_audiences([msg for _, msg in pending]) if webhooks.wanted("user.offline_message") else None
        numbering.insert_in_order([msg for _, msg in pending])
        for (_, msg), (event, entry) in zip(pending, entries, strict=True):
            event["id"] = entry.message_id = msg.pk
            event["created_at"] = events.iso(msg.created_at)  # as written (SQLite's bulk_create sets it again)
        if mentioned:
            _store_mentions(mentioned)
        webhooks.record_all("message.created", (webhooks.frame_data(event) for event, _ in entries))
        if offline:
            webhooks.record_all("user.offline_message", (
                {"message": webhooks.frame_data(event), "users": users}
                for (event, _), users in zip(entries, offline, strict=True) if users))
    return results


OFFLINE_MAX_MEMBERS = 1000  # `user.offline_message` covers the members of groups up to this size


def _offline_audiences(msgs):
    """For each message, who of its audience but its sender has no open socket: a direct
    message's recipient; the members of a group of up to OFFLINE_MAX_MEMBERS."""
    group_ids = {msg.group_id for msg in msgs if msg.group_id is not None}
    small = {g for g, n in Membership.objects.filter(group_id__in=group_ids).values("group_id")
             .annotate(n=Count("id")).values_list("group_id", "n") if n <= OFFLINE_MAX_MEMBERS} if group_ids else set()
    members = collections.defaultdict(list)
    for group_id, user_id in Membership.objects.filter(group_id__in=small).values_list("group_id", "user_id"):
        members[group_id].append(user_id)
    audiences = [[msg.recipient_id] if msg.group_id is None else members.get(msg.group_id, []) for msg in msgs]
    online = presence.online_user_ids({u for audience in audiences for u in audience})
    return [sorted(u for u in audience if u != msg.sender_id and u not in online)
            for msg, audience in zip(msgs, audiences, strict=True)]


_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+)")


class _ById(dict):
    """Unsaved messages as keys (a model instance without a pk is unhashable)."""

    def __contains__(self, msg):
        return super().__contains__(id(msg))

    def __getitem__(self, msg):
        return super().__getitem__(id(msg))


def _new_message(sender, body, group=None, recipient=None):
    """A message to store, its sender and group loaded: built from ids, with the loaded objects
    cached, which skips the related-object checks of the model's constructor (measured: half
    of building a batch's messages)."""
    msg = Message(sender_id=sender.pk, group_id=group and group.pk, recipient_id=recipient and recipient.pk,
                  body=body)
    _SENDER.set_cached_value(msg, sender)
    if group is not None:
        _GROUP.set_cached_value(msg, group)
    return msg


_SENDER, _GROUP = Message._meta.get_field("sender"), Message._meta.get_field("group")


def _mentioned(messages):
    """The members each group message names with `@username` (its sender aside), as users:
    one query for the whole batch, none when no message holds an `@`."""
    wanted = {}
    for msg in messages:
        if msg.group_id is not None and "@" in msg.body:
            names = {name.rstrip(".").lower() for name in _MENTION.findall(msg.body)} - {""}
            if names:
                wanted[id(msg)] = (msg, names)
    found = _ById()
    if not wanted:
        return found
    rows = (Membership.objects.filter(group_id__in={m.group_id for m, _ in wanted.values()})
            .annotate(name=Lower("user__username"))
            .filter(name__in=set().union(*(names for _, names in wanted.values())))
            .select_related("user"))
    members = {(row.group_id, row.name): row.user for row in rows}
    for key, (msg, names) in wanted.items():
        users = {members[msg.group_id, n] for n in names if (msg.group_id, n) in members} - {msg.sender}
        if users:
            found[key] = (msg, users)
    return found


def _store_mentions(mentioned):
    Mention.objects.bulk_create([Mention(message=msg, user=user) for msg, users in mentioned.values() for user in users])
    for msg, users in mentioned.values():
        sender = msg.sender.display_name or msg.sender.username
        for user in sorted(users, key=lambda u: u.pk):
            notify_user(user=user, kind="mention", actor=msg.sender,
                        message=f"{sender} mentioned you in {msg.group.name}.",
                        data={"groupid": msg.group_id, "message_id": msg.pk, "from": msg.sender_id})


def _to_message_audience(message, event, variants=None):
    """Relay `event` to those who see `message`: its group, or both users of a direct one
    (`variants`: how some of them are told it)."""
    if message.group_id is not None:
        publish.notify_groups([message.group_id], event, variants=variants)
    else:
        publish.notify_users(sorted({message.sender_id, message.recipient_id}), event, variants=variants)


def _audience_ids(message):
    """The users who see `message`: both of a direct one; None (not worth a query) for a group's."""
    return None if message.group_id is not None else {message.sender_id, message.recipient_id}


def react_to_message(*, actor, message_id, emoji, on=True) -> dict:
    """Add (`on`) or take back `actor`'s `emoji` on a message they can see; idempotent. On a
    change, `reaction` reaches the message's audience (not the actor's block partners)."""
    message = visible_messages(actor).filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such message.")
    if message.group_id is None:  # a direct message between users one of whom now blocks the other
        refuse_if_blocked(message.sender_id, message.recipient_id)
    with transaction.atomic():
        changed, counts = reactions.react(MessageReaction, message, user=actor, emoji=emoji, on=on)
        if changed:
            target = {"groupid": message.group_id} if message.group_id else {"to": message.recipient_id}
            event = events.reaction(messageid=message.pk, **target, user=actor, emoji=emoji, on=on, counts=counts)
            _to_message_audience(message, event, variants=withheld_from(actor.pk))
    return {"messageid": message.pk, "emoji": emoji, "on": on, "changed": changed, "counts": counts}


def _keep_revision(message, kind, by):
    MessageRevision.objects.create(message_id=message.pk, sender_id=message.sender_id, group_id=message.group_id,
                                   recipient_id=message.recipient_id, body=message.body, kind=kind, by=by)


def edit_message(*, actor, message, body) -> bool:
    """The author changes their message's text; the old text is kept (`MessageRevision`) and
    `editmessage` reaches those who see the message. A group message is edited only while its
    author is a member. Mentions stay as sent. False if the text is the same."""
    body = _clean_body(body)
    with transaction.atomic():
        # Only the message's row is locked (`of`), not its sender's.
        message = Message.objects.select_for_update(of=("self",)).select_related("sender").filter(pk=message.pk).first()
        if message is None:
            raise NotFound("No such message.")
        if message.sender_id != actor.pk:
            raise Forbidden("Only the author can edit a message.")
        if message.group_id is not None and not Membership.objects.filter(group_id=message.group_id,
                                                                          user=actor).exists():
            raise Forbidden("Join the group to edit your messages there.")
        if message.group_id is None:
            refuse_if_blocked(message.sender_id, message.recipient_id)
        if body == message.body:
            return False
        _keep_revision(message, MessageRevision.Kind.EDITED, actor)
        message.body, message.edited_at = body, now()
        message.save(update_fields=["body", "edited_at"])
        # Marked for those who block or mute its sender, as the message was.
        variants = told_differently([message.sender_id], audience=_audience_ids(message))[message.sender_id]
        event = events.editmessage(message_dict(message))
        _to_message_audience(message, event, variants=variants)
        webhooks.record_frame("message.edited", event)
    return True


def edit_message_by_id(*, actor, message_id, body) -> dict:
    """`edit_message` of a message `actor` may read (the `editmessage` frame)."""
    return {"id": message_id, "changed": edit_message(actor=actor, message=message_for(actor, message_id), body=body)}


def can_delete_message(actor, message) -> bool:
    """The author, or an owner or admin of the message's group. (Staff delete through the
    moderation desk, which checks their permission and audits it.)"""
    return message.sender_id == actor.pk or (message.group_id is not None and manages_group(actor, message.group_id))


def remove_message(*, actor, message) -> bool:
    """Delete a message as its author or its group's owner or admin may (`can_delete_message`)."""
    if not can_delete_message(actor, message):
        raise Forbidden("Only the author or the group's owner or admins can delete this message.")
    return delete_message(message=message, by=actor)


def delete_message(*, message, by) -> bool:
    """Delete a message; its text is kept for the moderators (`MessageRevision`), and `deletemessage`
    (with `by`) reaches those who could see it. False if it was already gone. Who may is the
    caller's to check: `remove_message`, or the desk (`moderation.actions`)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message.pk).first()
        if message is None:
            return False
        _keep_revision(message, MessageRevision.Kind.DELETED, by)
        event = events.deletemessage(message_id=message.pk, groupid=message.group_id, by=by)
        message.delete()
        _to_message_audience(message, event)
        webhooks.record_frame("message.deleted", event)
    return True


def relay_typing(*, actor, group_id=None, to_id=None):
    """Relay a typing indicator (never stored) to the others."""
    if group_id is not None:
        group = access_group(actor, group_id)
        if membership(actor, group) is None:
            raise Forbidden("Join the group first.")
        publish.ephemeral(events.typing(actor, groupid=group.pk), groups=[group.pk],
                          exclude_users=[actor.pk, *sorted(block_partners(actor.pk))])
    else:
        if not get_user_model().objects.filter(pk=to_id, is_active=True).exists():
            raise NotFound("No such user.")
        refuse_if_blocked(actor.pk, to_id)
        if to_id != actor.pk:
            publish.ephemeral(events.typing(actor, to=to_id), users=[to_id])
