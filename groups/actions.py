"""Group actions: every write about groups, their members and roles goes through here
(messages: `groups.messaging`, read markers: `groups.reading`).

Each action checks permission, writes inside one transaction, and schedules its
relay events for after commit. REST views, socket handlers and the admin call
these; none repeats their rules. An action that changes nothing relays nothing.
"""

from django.db import IntegrityError, transaction

from accounts.actions import notify_user
from config.errors import Conflict, Forbidden, NotFound, ValidationFailed
from groups.models import (
    Ban,
    Group,
    Membership,
    Role,
)
from groups.selectors import (
    membership,
)
from relay.stream import events, numbering, publish, webhooks


class OwnerCannotLeave(Conflict):
    default_detail = "The owner cannot leave the group; delete it or hand it over first."
    default_code = "owner_cannot_leave"


def _require_role(actor, group, roles, what):
    member = membership(actor, group)
    if member is None or member.role not in roles:
        raise Forbidden(f"Only the group's {what} can do this.")
    return member


def create_group(*, actor, name, description="", is_private=False) -> Group:
    with transaction.atomic():
        group = Group.objects.create(name=name, description=description, is_private=is_private, owner=actor)
        Membership.objects.create(group=group, user=actor, role=Role.OWNER)
        # The creator's `join` starts the group's stream for their sockets (offset 1).
        joined = events.join(group.pk, actor)
        publish.add_member(actor.pk, group.pk, joined)
        webhooks.record_frame("member.joined", joined)
        if not is_private:  # the directory of public groups shows it at once
            publish.emit(events.groupcreate(group), channels=["groups"])
    return group


def update_group(*, actor, group, **changes) -> Group:
    _require_role(actor, group, {Role.OWNER, Role.ADMIN}, "owner or admins")
    with transaction.atomic():
        changed = {field: value for field, value in changes.items() if getattr(group, field) != value}
        if not changed:
            return group
        for field, value in changed.items():
            setattr(group, field, value)
        group.save(update_fields=list(changed))
        if changed.get("is_private") is True:  # subscribers who are not members stop getting its events
            publish.group_closed(group.pk)
        # After the close: those who may no longer see the group are not told.
        publish.notify_groups([group.pk], events.groupupdate(group))
        if changed.get("is_private") is False:  # now in the directory of public groups
            publish.emit(events.groupcreate(group, Membership.objects.filter(group=group).count()),
                         channels=["groups"])
    return group


def delete_group(*, actor, group, moderated=False):
    """The owner deletes their group; `moderated`: a moderator does, through the desk's
    permission check and audit (moderation.actions)."""
    if group.owner_id != actor.pk and not moderated:
        raise Forbidden("Only the owner can delete the group.")
    with transaction.atomic():
        numbering.lock()  # before the delete: messages written under the lock reference the group
        member_ids = list(group.memberships.values_list("user_id", flat=True))
        group_id = group.pk
        group.delete()
        publish.remove_members(member_ids, group_id)


def _add_member(group, user):
    """Insert the membership if missing; True if it was created. Safe under concurrent joins."""
    try:
        with transaction.atomic():
            Membership.objects.create(group=group, user=user, role=Role.MEMBER)
    except IntegrityError:
        return False
    event = events.join(group.pk, user)
    publish.add_member(user.pk, group.pk, event)
    webhooks.record_frame("member.joined", event)
    return True


def join_group(*, actor, group) -> bool:
    """Join a public group; idempotent. True if the actor was not a member before."""
    with transaction.atomic():
        if membership(actor, group) is not None:
            return False
        if group.is_private:
            raise Forbidden("This group is private: a member must add you.")
        if Ban.objects.filter(group=group, user=actor).exists():
            raise Forbidden("You are banned from this group.")
        return _add_member(group, actor)


def add_member(*, actor, group, target) -> bool:
    """Owner or admin adds a user (the way into a private group); lifts a ban."""
    with transaction.atomic():
        _require_role(actor, group, {Role.OWNER, Role.ADMIN}, "owner or admins")
        if not target.is_active:
            raise NotFound("No such user.")
        Ban.objects.filter(group=group, user=target).delete()
        if membership(target, group) is not None:
            return False
        return _add_member(group, target)


def leave_group(*, actor, group) -> bool:
    with transaction.atomic():
        member = membership(actor, group)
        if member is None:
            raise Forbidden("You are not a member of this group.")
        if member.role == Role.OWNER:
            raise OwnerCannotLeave()
        deleted, _ = Membership.objects.filter(pk=member.pk).delete()
        if not deleted:  # a concurrent leave or kick got there first
            return False
        event = events.leave(group.pk, actor)
        publish.remove_member(actor.pk, group.pk, event)
        webhooks.record_frame("member.left", event)
        return True


def kick_member(*, actor, group, target, ban=False) -> bool:
    """Remove `target` (owner or admin only; nobody kicks the owner); optionally ban them."""
    with transaction.atomic():
        mine = _require_role(actor, group, {Role.OWNER, Role.ADMIN}, "owner or admins")
        if target.pk == actor.pk:
            raise Forbidden("You cannot kick yourself; leave the group instead.")
        theirs = membership(target, group)
        if theirs is not None and theirs.role == Role.OWNER:
            raise Forbidden("Nobody kicks the owner.")
        if theirs is not None and theirs.role == Role.ADMIN and mine.role != Role.OWNER:
            raise Forbidden("Only the owner can kick an admin.")
        if theirs is None and not ban:
            raise NotFound("That user is not a member of this group.")
        return _remove_member(group, target, theirs, by=actor, ban=ban)


def remove_member(*, moderator, group, target, ban=False, reason="") -> bool:
    """The desk's path of `kick_member`: a moderator removes (and optionally bans) a member of any
    group. Who may is `moderation.actions`' to check, as for every staff verb.

    Relays the same `kick` event, with `by` = the moderator. Nobody removes the owner.
    """
    with transaction.atomic():
        theirs = membership(target, group)
        if theirs is not None and theirs.role == Role.OWNER:
            raise Forbidden("Nobody removes the owner; delete the group instead.")
        if theirs is None and not ban:
            raise NotFound("That user is not a member of this group.")
        return _remove_member(group, target, theirs, by=moderator, ban=ban, reason=reason)


def _remove_member(group, target, theirs, *, by, ban, reason=""):
    """Ban if asked, delete the membership, relay `kick` to the group and the removed user, notify them."""
    banned = False
    if ban:
        _, banned = Ban.objects.get_or_create(group=group, user=target, defaults={"banned_by": by})
    if theirs is None:
        if banned:  # a subscriber who is not a member: their sockets stop getting the group
            publish.drop_subscriber(target.pk, group.pk)
        return banned
    deleted, _ = Membership.objects.filter(pk=theirs.pk).delete()
    if not deleted:  # a concurrent leave or kick got there first: it relayed
        return banned
    event = events.kick(group.pk, target, by, ban)
    publish.remove_member(target.pk, group.pk, event)
    webhooks.record_frame("member.kicked", event)
    data = {"groupid": group.pk, "by": by.pk, "ban": ban}
    message = f"{by.display_name} removed you from {group.name}."
    if reason:
        data["reason"] = reason
        message = f"{message} Reason: {reason}"
    notify_user(user=target, kind="kick", message=message, data=data)
    return True


def set_role(*, actor, group, target, role) -> Membership:
    with transaction.atomic():
        _require_role(actor, group, {Role.OWNER}, "owner")
        theirs = membership(target, group)
        if theirs is None:
            raise NotFound("That user is not a member of this group.")
        if theirs.role == Role.OWNER:
            raise Forbidden("The owner's role cannot be changed.")
        if role not in (Role.ADMIN, Role.MEMBER):
            raise ValidationFailed(details={"role": ["Must be `admin` or `member`."]})
        if theirs.role != role:
            theirs.role = role
            theirs.save(update_fields=["role"])
            publish.notify_groups([group.pk], events.role(group.pk, target, role, by=actor))
        return theirs
