"""Moderation actions: reports, and what moderators do from the admin (and the staff deletes
of REST), each one audited.

Every moderator action checks the moderator's permission, calls the domain action
that owns the rules and the relay events (`groups.actions`, `posts.actions`), and
writes its `ModerationLog` row in the same transaction: an action that fails or
rolls back leaves no audit row and relays nothing. Acting on a target also
resolves the open reports about it. The admin and `moderation.views` call these; neither
repeats a rule.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from config.errors import Forbidden, NotFound, ValidationFailed
from groups import actions as group_actions
from groups import messaging as group_messaging
from groups.models import Membership, Message
from groups.selectors import message_for, visible_messages
from moderation.models import Announcement, AnnouncementDismissal, ModerationLog, Report
from posts import actions as post_actions
from posts.models import Post
from posts.selectors import visible_posts
from relay.stream import events, publish, webhooks
from relay.stream.topics import EVERYONE

Action = ModerationLog.Action
Target = Report.TargetType


def _require(moderator, perm):
    if not (moderator.is_active and moderator.is_staff and moderator.has_perm(perm)):
        raise Forbidden("You are not allowed to do this.")


def _clip(text, size):
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def user_repr(user):
    return f"{user.username} (#{user.pk})"


def post_repr(post):
    return _clip(f"post #{post.pk} by {post.author.username}: {post.content}", 200)


def message_repr(message):
    return _clip(f"message #{message.pk} from {message.sender.username}: {message.body}", 200)


def record(*, moderator, action, target_type, target_id, target_repr="", reason="", details=None):
    """Write one audit row (call inside the action's transaction)."""
    return ModerationLog.objects.create(
        moderator=moderator, moderator_name=moderator.get_username(), action=action, target_type=target_type,
        target_id=target_id, target_repr=_clip(target_repr, 200), reason=(reason or "")[:1000],
        details=details or {})


def _close_reports(moderator, target_type, target_id, reason):
    """Resolve every open report about a target the moderator just acted on; their ids."""
    reports = list(Report.objects.select_for_update()
                   .filter(target_type=target_type, target_id=target_id, status=Report.Status.OPEN))
    if not reports:
        return []
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(
        status=Report.Status.RESOLVED, handled_by=moderator, handled_at=timezone.now())
    ModerationLog.objects.bulk_create([
        ModerationLog(moderator=moderator, moderator_name=moderator.get_username(), action=Action.RESOLVE_REPORT,
                      target_type="report", target_id=r.pk, target_repr=str(r), reason=(reason or "")[:1000],
                      details={"target": r.target})
        for r in reports
    ])
    return [r.pk for r in reports]


# --- users ---------------------------------------------------------------------------------------
def _blacklist_refresh_tokens(user):
    """A reactivated user must sign in again: their old refresh tokens stay dead."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now(),
                                                  blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in outstanding], ignore_conflicts=True)


def deactivate_user(*, moderator, user, reason) -> bool:
    """Ban a user: deactivate, refuse their tokens, close their open sockets with 4403. False if already inactive."""
    _require(moderator, "accounts.deactivate_user")
    if user.pk == moderator.pk:
        raise Forbidden("You cannot deactivate yourself.")
    if (user.is_staff or user.is_superuser) and not moderator.is_superuser:
        raise Forbidden("Only a superuser can deactivate staff.")
    with transaction.atomic():
        changed = get_user_model().objects.filter(pk=user.pk, is_active=True).update(is_active=False) > 0
        user.is_active = False
        if not changed:
            return False
        _blacklist_refresh_tokens(user)
        publish.close_user_sockets(user.pk, code=4403)
        webhooks.record("user.deactivated", {"user": events.user_shape(user), "by": events.user_shape(moderator),
                                             "reason": reason})
        reports = _close_reports(moderator, Target.USER, user.pk, reason)
        record(moderator=moderator, action=Action.DEACTIVATE_USER, target_type="user", target_id=user.pk,
               target_repr=user_repr(user), reason=reason, details={"reports": reports} if reports else None)
    return True


def reactivate_user(*, moderator, user, reason) -> bool:
    """Lift a ban; the user signs in again. False if already active."""
    _require(moderator, "accounts.deactivate_user")
    with transaction.atomic():
        changed = get_user_model().objects.filter(pk=user.pk, is_active=False).update(is_active=True) > 0
        user.is_active = True
        if changed:
            record(moderator=moderator, action=Action.REACTIVATE_USER, target_type="user", target_id=user.pk,
                   target_repr=user_repr(user), reason=reason)
    return changed


# --- groups ----------------------------------------------------------------------------------------
def remove_member(*, moderator, group, target, ban=False, reason) -> bool:
    """Remove `target` from `group` (relays `kick`, by = the moderator); optionally ban them from it."""
    _require(moderator, "groups.delete_membership")
    with transaction.atomic():
        changed = group_actions.remove_member(moderator=moderator, group=group, target=target, ban=ban,
                                              reason=reason)
        if changed:
            record(moderator=moderator, action=Action.BAN_MEMBER if ban else Action.REMOVE_MEMBER,
                   target_type="user", target_id=target.pk,
                   target_repr=f"{user_repr(target)} from group #{group.pk} {group.name}", reason=reason,
                   details={"groupid": group.pk, "ban": ban})
    return changed


def delete_message(*, moderator, message, reason) -> bool:
    """Delete a message; `deletemessage` reaches the group, or both users of a direct message."""
    _require(moderator, "groups.delete_message")
    with transaction.atomic():
        target_repr = message_repr(message)
        changed = group_messaging.delete_message(message=message, by=moderator)
        if changed:
            reports = _close_reports(moderator, Target.MESSAGE, message.pk, reason)
            details = {"groupid": message.group_id} if message.group_id else {"to": message.recipient_id}
            if reports:
                details["reports"] = reports
            record(moderator=moderator, action=Action.DELETE_MESSAGE, target_type="message",
                   target_id=message.pk, target_repr=target_repr, reason=reason, details=details)
    return changed


def delete_message_as(*, actor, message, reason="") -> bool:
    """Delete a message as `actor` may: as its author or its group's owner or admin, or, staff,
    through the desk (its permission, its audit row). REST and the `deletemessage` frame."""
    if actor.is_staff and not group_messaging.can_delete_message(actor, message):
        return delete_message(moderator=actor, message=message, reason=reason)
    return group_messaging.remove_message(actor=actor, message=message)


def delete_message_by_id(*, actor, message_id) -> dict:
    """`delete_message_as` of a message `actor` may read (the `deletemessage` frame)."""
    return {"id": message_id, "changed": delete_message_as(actor=actor, message=message_for(actor, message_id))}


def delete_group(*, moderator, group, reason) -> bool:
    """Delete a group with its messages and posts; its members' sockets leave it."""
    _require(moderator, "groups.delete_group")
    with transaction.atomic():
        target_repr, group_id = f"group #{group.pk} {group.name}", group.pk
        group_actions.delete_group(actor=moderator, group=group, moderated=True)
        record(moderator=moderator, action=Action.DELETE_GROUP, target_type="group", target_id=group_id,
               target_repr=target_repr, reason=reason)
    return True


# --- posts -----------------------------------------------------------------------------------------
def hide_post(*, moderator, post, reason, hidden=True) -> bool:
    """Hide a post from every feed (relays `postdelete`), or show it again."""
    _require(moderator, "posts.change_post")
    with transaction.atomic():
        changed = post_actions.hide_post(post=post, hidden=hidden)
        if changed:
            reports = _close_reports(moderator, Target.POST, post.pk, reason) if hidden else []
            record(moderator=moderator, action=Action.HIDE_POST if hidden else Action.UNHIDE_POST,
                   target_type="post", target_id=post.pk, target_repr=post_repr(post), reason=reason,
                   details={"reports": reports} if reports else None)
    return changed


def delete_post(*, moderator, post, reason) -> bool:
    """Delete a post for good (relays `postdelete`)."""
    _require(moderator, "posts.delete_post")
    with transaction.atomic():
        target_repr, post_id = post_repr(post), post.pk
        post_actions.delete_post(actor=moderator, post=post, moderated=True)
        reports = _close_reports(moderator, Target.POST, post_id, reason)
        record(moderator=moderator, action=Action.DELETE_POST, target_type="post", target_id=post_id,
               target_repr=target_repr, reason=reason, details={"reports": reports} if reports else None)
    return True


# --- reports ---------------------------------------------------------------------------------------
def _report_target(reporter, target_type, target_id):
    """(owner, snapshot) of a target the reporter can see; NotFound for missing and hidden alike."""
    if target_type == Target.POST:
        post = visible_posts(reporter).filter(pk=target_id).first()
        if post is None:
            raise NotFound("No such post.")
        return post.author, post_repr(post)
    if target_type == Target.MESSAGE:
        message = visible_messages(reporter).filter(pk=target_id).select_related("sender").first()
        if message is None:
            raise NotFound("No such message.")
        return message.sender, message_repr(message)
    if target_type == Target.USER:
        if target_id == reporter.pk:
            raise ValidationFailed(details={"target_id": ["You cannot report yourself."]})
        user = get_user_model().objects.filter(pk=target_id, is_active=True).first()
        if user is None:
            raise NotFound("No such user.")
        return user, user_repr(user)
    raise ValidationFailed(details={"target_type": ["Must be `post`, `message` or `user`."]})


def file_report(*, reporter, target_type, target_id, reason) -> tuple[Report, bool]:
    """Report a post, a message or a user; (report, created). Reporting again returns the open report."""
    owner, snapshot = _report_target(reporter, target_type, target_id)
    key = {"reporter": reporter, "target_type": target_type, "target_id": target_id, "status": Report.Status.OPEN}
    existing = Report.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            report = Report.objects.create(**key, target_owner=owner, target_repr=snapshot, reason=reason)
            webhooks.record("report.created", {"id": report.pk, "target": f"{target_type}:{target_id}",
                                               "reason": reason, "by": events.user_shape(reporter)})
    except IntegrityError:  # the same report, filed concurrently, won
        return Report.objects.get(**key), False
    return report, True


def _handle_report(moderator, report, status, action, note):
    _require(moderator, "moderation.change_report")
    with transaction.atomic():
        changed = Report.objects.filter(pk=report.pk, status=Report.Status.OPEN).update(
            status=status, handled_by=moderator, handled_at=timezone.now()) > 0
        if changed:
            report.status, report.handled_by = status, moderator
            record(moderator=moderator, action=action, target_type="report", target_id=report.pk,
                   target_repr=str(report), reason=note, details={"target": report.target})
    return changed


def resolve_report(*, moderator, report, note="") -> bool:
    """Close an open report as handled. False if it was not open."""
    return _handle_report(moderator, report, Report.Status.RESOLVED, Action.RESOLVE_REPORT, note)


def dismiss_report(*, moderator, report, note="") -> bool:
    """Close an open report as unfounded. False if it was not open."""
    return _handle_report(moderator, report, Report.Status.DISMISSED, Action.DISMISS_REPORT, note)


TAKE_DOWN_LABELS = {Target.POST: "Hide post", Target.MESSAGE: "Delete message", Target.USER: "Deactivate user"}


def take_down(*, moderator, report, note="") -> bool:
    """Act on a report's target in one step: hide the post, delete the message or deactivate the user.

    The target action resolves every open report about the target (this one
    included); a target that is already gone or hidden just resolves the report.
    """
    _require(moderator, "moderation.change_report")
    reason = note or _clip(f"report #{report.pk}: {report.reason}", 1000)
    with transaction.atomic():
        if report.target_type == Target.POST:
            post = Post.objects.select_related("author", "group").filter(pk=report.target_id).first()
            if post is not None:
                hide_post(moderator=moderator, post=post, reason=reason)
        elif report.target_type == Target.MESSAGE:
            message = Message.objects.select_related("sender").filter(pk=report.target_id).first()
            if message is not None:
                delete_message(moderator=moderator, message=message, reason=reason)
        else:
            user = get_user_model().objects.filter(pk=report.target_id).first()
            if user is not None:
                deactivate_user(moderator=moderator, user=user, reason=reason)
        resolve_report(moderator=moderator, report=report, note=reason)
        report.refresh_from_db()
    return report.status == Report.Status.RESOLVED


# --- announcements --------------------------------------------------------------------------------
def announce(*, moderator, message, level=Announcement.Level.INFO, starts_at=None, ends_at=None, group=None):
    """Store an announcement (audited); its `announcement` frame goes out now if it has started,
    else when it starts (`publish_due_announcements`, run by every relay process's upkeep)."""
    _require(moderator, "moderation.add_announcement")
    now = timezone.now()
    starts_at = starts_at or now
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed(details={"ends_at": ["Must be after starts_at."]})
    with transaction.atomic():
        item = Announcement.objects.create(message=message, level=level, starts_at=starts_at, ends_at=ends_at,
                                           group=group, created_by=moderator)
        record(moderator=moderator, action=ModerationLog.Action.ANNOUNCE, target_type="announcement",
               target_id=item.pk, target_repr=message, details={"group": group.pk if group else None,
                                                                 "level": level})
        if starts_at <= now:
            _publish(item, now)
    return item


def _publish(item, now):
    event = events.announcement(item)
    if item.group_id is None:
        publish.emit(event, channels=[EVERYONE])
    else:
        publish.emit(event, groups=[item.group_id])
    Announcement.objects.filter(pk=item.pk).update(published_at=now)


def publish_due_announcements():
    """Send the frames of announcements that have started since (each once, whichever process
    gets there first); how many."""
    now = timezone.now()
    due = (Announcement.objects.filter(published_at__isnull=True, starts_at__lte=now)
           .exclude(ends_at__lte=now).order_by("starts_at"))
    sent = 0
    with transaction.atomic():
        skip = {"skip_locked": True} if transaction.get_connection().features.has_select_for_update_skip_locked else {}
        for item in due.select_for_update(**skip)[:100]:
            _publish(item, now)
            sent += 1
    return sent


def active_announcements(user):
    """What `user` (or an anonymous visitor) is shown now: everyone's and their groups', not dismissed."""
    now = timezone.now()
    shown = (Announcement.objects.filter(starts_at__lte=now).exclude(ends_at__lte=now).order_by("-starts_at", "-id"))
    if user is None or not user.is_authenticated:
        return shown.filter(group__isnull=True)
    mine = Membership.objects.filter(user=user).values("group_id")
    return (shown.filter(Q(group__isnull=True) | Q(group_id__in=mine))
            .exclude(pk__in=AnnouncementDismissal.objects.filter(user=user).values("announcement_id")))


def dismiss_announcement(*, user, announcement_id):
    """`user` no longer sees it; NotFound if it is not theirs to see."""
    item = active_announcements(user).filter(pk=announcement_id).first()
    if item is None and not AnnouncementDismissal.objects.filter(user=user, announcement_id=announcement_id).exists():
        raise NotFound("No such announcement.")
    AnnouncementDismissal.objects.get_or_create(user=user, announcement_id=announcement_id)
    return True
