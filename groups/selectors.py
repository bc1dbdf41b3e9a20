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
