"""Reading: a user's read markers move forward, their devices agree on what is left
unread, and the others of the conversation get a read receipt (up to a group size).
"""


from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.timezone import now

from accounts.selectors import any_user
from config.errors import Forbidden, NotFound
from groups.models import (
    Membership,
    Message,
    ReadMarker,
)
from groups.selectors import (
    access_group,
    membership,
    read_markers,
    unread_counts,
)
from relay.stream import events, publish


def mark_read(*, actor, message_id, group_id=None, to_id=None) -> dict:
    """Move `actor`'s read marker of a conversation (a group, or the direct one with `to_id`) up
    to `message_id`, a message of it. Markers only move forward: a lower or equal id changes
    and relays nothing. When it moves, the actor's sockets get `unread` with what is left, so
    that every device shows the same count."""
    if group_id is not None:
        group = access_group(actor, group_id)
        if membership(actor, group) is None:
            raise Forbidden("Join the group first.")
        target, where = {"groupid": group.pk}, {"group": group}
        in_conversation = Message.objects.filter(pk=message_id, group=group)
        key = ("group", group.pk)
    else:
        peer = any_user(to_id)
        target, where = {"with": peer.pk}, {"peer": peer}
        in_conversation = Message.objects.filter(
            Q(sender=actor, recipient=peer) | Q(sender=peer, recipient=actor), pk=message_id)
        key = ("direct", peer.pk)
    if not in_conversation.exists():
        raise NotFound("No such message.")
    with transaction.atomic():
        changed = bool(ReadMarker.objects.filter(user=actor, message_id__lt=message_id, **where)
                       .update(message_id=message_id, updated_at=now()))
        if not changed:
            try:
                with transaction.atomic():
                    ReadMarker.objects.create(user=actor, message_id=message_id, **where)
                changed = True
            except IntegrityError:  # a marker at or beyond it: nothing moves
                pass
        marks = read_markers(actor, group_ids=[key[1]] if key[0] == "group" else [],
                             peer_ids=[key[1]] if key[0] == "direct" else [])
        unread, mentioned = unread_counts(actor, group_ids=[key[1]] if key[0] == "group" else [],
                                          peer_ids=[key[1]] if key[0] == "direct" else [],
                                          marks=marks).get(key, (0, 0))
        state = {**target, "unread_count": unread, "mention_count": mentioned}
        if changed:
            publish.notify_users([actor.pk], events.unread(**state))
            if actor.read_receipts:
                _send_receipt(actor, message_id, key)
    return {**state, "message_id": marks.get(key, 0), "changed": changed}


def _send_receipt(reader, message_id, key):
    kind, target = key
    at = events.iso(now())
    if kind == "direct":
        if target != reader.pk:
            publish.notify_users([target], events.read(reader=reader, message_id=message_id, at=at,
                                                      **{"with": reader.pk}))
    elif Membership.objects.filter(group_id=target).count() <= settings.RELAY_READ_RECEIPTS_MAX_MEMBERS:
        publish.notify_groups([target], events.read(reader=reader, message_id=message_id, at=at, groupid=target))
