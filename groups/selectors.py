"""Reads about groups and messages, shared by REST, the relay and the admin."""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from config.errors import NotFound
from groups.models import Ban, Group, Membership, Message


def member_group_ids(user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("group_id", flat=True))


def membership(user, group):
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, group=group).first()


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


def group_list(user, *, mine=False, q=""):
    """The groups `user` may see, theirs only if `mine`, names containing `q`."""
    qs = visible_groups(user)
    if mine:
        qs = qs.filter(my_role__isnull=False)
    return qs.filter(name__icontains=q[:100]) if q else qs


def group_messages(group, *, before=None):
    """A group's messages (unordered: the cursor pagination puts them newest first), older
    than `before` if given."""
    qs = group.messages.select_related("sender")
    return qs.filter(id__lt=before) if before is not None else qs


def direct_messages(user_id, other_id, *, before=None):
    """The direct conversation between two users, older than `before` if given."""
    qs = Message.objects.filter(Q(sender_id=user_id, recipient_id=other_id) | Q(sender_id=other_id, recipient_id=user_id))
    qs = qs.select_related("sender")
    return qs.filter(id__lt=before) if before is not None else qs


def messages_between(user, since, until=None, *, limit=1000):
    """The messages `user` can see with since < id < until, oldest first."""
    messages = visible_messages(user).filter(id__gt=since)
    if until is not None:
        messages = messages.filter(id__lt=until)
    return list(messages.select_related("sender").order_by("id").distinct()[:limit])


def existing_message_ids(ids) -> set[int]:
    return set(Message.objects.filter(id__in=list(ids)).values_list("id", flat=True))
