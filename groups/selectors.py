"""Reads about groups and messages, shared by REST, the relay and the admin."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from accounts.selectors import marks_of
from config.errors import NotFound
from groups.models import Ban, Group, Membership, Mention, Message, ReadMarker, Role


def member_group_ids(user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("group_id", flat=True))


def membership(user, group):
    """`user`'s membership of `group` (a group or its id), or None."""
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, group=group).first()


def manages_group(user, group_id) -> bool:
    """Whether `user` is an owner or an admin of the group (who may remove others' posts and messages)."""
    return Membership.objects.filter(group_id=group_id, user=user, role__in=[Role.OWNER, Role.ADMIN]).exists()


def visible_groups(user):
    """Public groups and the caller's groups, with `members_count` and the caller's `my_role`."""
    mine = Membership.objects.filter(user=user)
    counts = (Membership.objects.filter(group=OuterRef("pk")).order_by().values("group")
              .annotate(n=Count("id")).values("n"))
    return (Group.objects.filter(Q(is_private=False) | Q(pk__in=mine.values("group_id")))
            .select_related("owner")
            .annotate(members_count=Coalesce(Subquery(counts), 0),
                      my_role=Subquery(mine.filter(group=OuterRef("pk")).values("role")[:1])))


def group_members(group):
    return Membership.objects.filter(group=group).select_related("user").order_by("id")


def access_group(user, group_id, *, lock=False) -> Group:
    """The group if `user` may see it; `NotFound` for missing and for hidden alike."""
    qs = Group.objects.select_for_update() if lock else Group.objects
    group = qs.filter(pk=group_id).first()
    if group is None or (group.is_private and membership(user, group) is None):
        raise NotFound("No such group.")
    return group


def group_to_join(group_id) -> Group:
    """The group, private or not: joining a private group is a 403, not a 404 (SPEC §3)."""
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        raise NotFound("No such group.")
    return group


def can_see_group(user, group_id) -> bool:
    try:
        access_group(user, group_id)
    except NotFound:
        return False
    return True


def can_follow_group(user, group_id) -> bool:
    """Whether `user` may subscribe to the group's events: they may see it and are not banned from it."""
    if not can_see_group(user, group_id):
        return False
    return user is None or not user.is_authenticated or not Ban.objects.filter(group_id=group_id, user=user).exists()


def visible_messages(user):
    """Every message `user` can read: their groups' messages and their direct messages."""
    return Message.objects.filter(
        Q(group__memberships__user=user) | Q(recipient=user) | Q(sender=user, group__isnull=True)
    )


def message_for(user, message_id) -> Message:
    """A message `user` may read (staff: any), with its sender and mentions; `NotFound` for
    missing and hidden alike."""
    qs = Message.objects if user.is_staff else visible_messages(user)
    message = (qs.select_related("sender").prefetch_related(Prefetch("mentions", to_attr="mention_rows"))
               .filter(pk=message_id).first())
    if message is None:
        raise NotFound("No such message.")
    return message


def group_list(user, *, mine=False, q=""):
    """The groups `user` may see, theirs only if `mine`, names containing `q`."""
    qs = visible_groups(user)
    if mine:
        qs = qs.filter(my_role__isnull=False)
    return qs.filter(name__icontains=q[:100]) if q else qs


def group_messages(group, *, before=None):
    """A group's messages (unordered: the cursor pagination puts them newest first), older
    than `before` if given."""
    qs = group.messages.select_related("sender").prefetch_related(Prefetch("mentions", to_attr="mention_rows"))
    return qs.filter(id__lt=before) if before is not None else qs


def direct_messages(user_id, other_id, *, before=None):
    """The direct conversation between two users, older than `before` if given."""
    qs = Message.objects.filter(Q(sender_id=user_id, recipient_id=other_id) | Q(sender_id=other_id, recipient_id=user_id))
    qs = qs.select_related("sender")  # direct messages mention nobody
    return qs.filter(id__lt=before) if before is not None else qs


def messages_between(user, since, until=None, *, limit=1000):
    """The messages `user` can see with since < id < until, oldest first."""
    messages = visible_messages(user).filter(id__gt=since)
    if until is not None:
        messages = messages.filter(id__lt=until)
    return list(messages.select_related("sender").prefetch_related(Prefetch("mentions", to_attr="mention_rows"))
                .order_by("id").distinct()[:limit])


def existing_message_ids(ids) -> set[int]:
    return set(Message.objects.filter(id__in=list(ids)).values_list("id", flat=True))


# --- conversations and what is unread ------------------------------------------------------------
GROUP, DIRECT = 1, 0  # a conversation's kind, as the cursor orders it

_CONVERSATIONS = """
SELECT kind, target, activity FROM (
    SELECT 1 AS kind, m.group_id AS target,
           COALESCE((SELECT MAX(g.id) FROM groups_message g WHERE g.group_id = m.group_id), 0) AS activity
    FROM groups_membership m WHERE m.user_id = %s
    UNION ALL
    SELECT 0 AS kind, d.peer AS target, MAX(d.id) AS activity FROM (
        SELECT recipient_id AS peer, id FROM groups_message WHERE sender_id = %s AND recipient_id IS NOT NULL
        UNION ALL
        SELECT sender_id AS peer, id FROM groups_message WHERE recipient_id = %s
    ) d GROUP BY d.peer
) c {where}
ORDER BY activity DESC, kind DESC, target DESC
LIMIT %s
"""


def conversations(user, *, after=None, limit=20):
    """The groups `user` is in and the users they have direct messages with, newest activity
    (last message) first: `limit` (kind, target id, activity) rows, those after the cursor
    `after` (such a row) if given. One query, whatever their number."""
    params = [user.pk, user.pk, user.pk]
    where = ""
    if after is not None:
        where = "WHERE activity < %s OR (activity = %s AND (kind < %s OR (kind = %s AND target < %s)))"
        activity, kind, target = after
        params += [activity, activity, kind, kind, target]
    with connection.cursor() as cursor:
        cursor.execute(_CONVERSATIONS.format(where=where), [*params, limit])
        return [tuple(row) for row in cursor.fetchall()]


def describe_conversations(user, rows):
    """What the conversation list shows of `rows` (from `conversations`), in their order: the
    group or the other user, the last message, the read marker and the unread count. A fixed
    number of queries, whatever the number of rows."""
    group_ids = [target for kind, target, _ in rows if kind == GROUP]
    peer_ids = [target for kind, target, _ in rows if kind == DIRECT]
    groups = Group.objects.in_bulk(group_ids) if group_ids else {}
    peers = get_user_model().objects.in_bulk(peer_ids) if peer_ids else {}
    last = (Message.objects.select_related("sender").prefetch_related(Prefetch("mentions", to_attr="mention_rows"))
            .in_bulk([a for _, _, a in rows if a])) if rows else {}
    marks = read_markers(user, group_ids=group_ids, peer_ids=peer_ids)
    unread = unread_counts(user, group_ids=group_ids, peer_ids=peer_ids, marks=marks)
    out = []
    for kind, target, activity in rows:
        key = ("group", target) if kind == GROUP else ("direct", target)
        item = {"kind": key[0]}
        if kind == GROUP:
            group = groups[target]
            item["group"] = {"id": group.pk, "name": group.name, "is_private": group.is_private}
        else:
            item["user"] = peers[target]
        unread_count, mention_count = unread.get(key, (0, 0))
        item.update(last_message=last.get(activity), last_read_message_id=marks.get(key, 0),
                    unread_count=unread_count, mention_count=mention_count)
        out.append(item)
    return out


def read_markers(user, *, group_ids=(), peer_ids=()):
    """{("group", id) or ("direct", user id): the newest message id `user` has read there}."""
    if not group_ids and not peer_ids:
        return {}
    rows = ReadMarker.objects.filter(Q(group_id__in=group_ids) | Q(peer_id__in=peer_ids), user=user)
    return {(("group", m.group_id) if m.group_id else ("direct", m.peer_id)): m.message_id for m in rows}


def unread_counts(user, *, group_ids=(), peer_ids=(), marks=None):
    """{("group", id) or ("direct", user id): (unread, mentions)}: messages from others after
    `user`'s read marker (in a group, only those since they joined), and how many of them
    mention `user`. Four queries at most, whatever the number of conversations."""
    marks = read_markers(user, group_ids=group_ids, peer_ids=peer_ids) if marks is None else marks
    counts, mentions = {}, {}
    quiet = set(marks_of(user.pk))  # muted or blocked: nothing of theirs counts
    if group_ids:
        joined = dict(Membership.objects.filter(user=user, group_id__in=group_ids).values_list("group_id", "joined_at"))
        after = Q()
        for group_id in group_ids:
            if group_id in joined:
                after |= Q(group_id=group_id, id__gt=marks.get(("group", group_id), 0),
                           created_at__gte=joined[group_id])
        if after:
            rows = (Message.objects.filter(after).exclude(sender=user).exclude(sender_id__in=quiet).order_by()
                    .values("group_id").annotate(n=Count("id")).values_list("group_id", "n"))
            counts.update({("group", g): n for g, n in rows})
            mentioned = Q()
            for group_id in joined:
                mentioned |= Q(message__group_id=group_id, message_id__gt=marks.get(("group", group_id), 0))
            rows = (Mention.objects.filter(mentioned, user=user).exclude(message__sender_id__in=quiet).order_by()
                    .values("message__group_id").annotate(n=Count("id")).values_list("message__group_id", "n"))
            mentions.update({("group", g): n for g, n in rows})
    if set(peer_ids) - quiet:
        after = Q()
        for peer_id in set(peer_ids) - quiet:
            after |= Q(sender_id=peer_id, id__gt=marks.get(("direct", peer_id), 0))
        rows = (Message.objects.filter(after, recipient=user).exclude(sender=user).order_by()
                .values("sender_id").annotate(n=Count("id")).values_list("sender_id", "n"))
        counts.update({("direct", p): n for p, n in rows})
    return {key: (n, mentions.get(key, 0)) for key, n in counts.items()}


def message_reads(group, message_id):
    """The members who have read `group` up to `message_id` (a message of it, else NotFound) and
    share read receipts, its sender aside; newest marker first by the pagination."""
    message = Message.objects.filter(pk=message_id, group=group).first()
    if message is None:
        raise NotFound("No such message.")
    return (ReadMarker.objects.filter(group=group, message_id__gte=message_id, user__read_receipts=True,
                                      user__memberships__group=group)
            .exclude(user_id=message.sender_id).select_related("user"))


def groups_and_members(group_ids) -> tuple[set[int], int]:
    """Which of `group_ids` exist, and how many users are members of any of them."""
    found = set(Group.objects.filter(pk__in=group_ids).values_list("pk", flat=True))
    members = Membership.objects.filter(group_id__in=found).values("user_id").distinct().count() if found else 0
    return found, members
