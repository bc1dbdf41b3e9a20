"""Account-side actions: notifications and friends."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Block, FriendRequest, Mute, Notification
from accounts.selectors import active_mutes, blocked_between, quiet_to
from config.errors import Conflict, Forbidden, ValidationFailed
from relay.stream import events, publish


def notify_user(*, user, kind, message, data=None, actor=None) -> Notification | None:
    """Store a notification and send it live to its owner after commit. None, and nothing
    stored, when `user` mutes or blocks the `actor` it would be about."""
    if actor is not None and quiet_to(user.pk, actor.pk):
        return None
    with transaction.atomic():
        note = Notification.objects.create(user=user, kind=kind, message=message[:500], data=data or {})
        publish.notify_users([user.pk], events.notification(note))
    return note


def change_settings(*, user, read_receipts=None):
    """Change the user's own settings; those not given stay as they are."""
    if read_receipts is not None and read_receipts != user.read_receipts:
        user.read_receipts = read_receipts
        user.save(update_fields=["read_receipts"])


# --- friends -------------------------------------------------------------------------------------
class AlreadyFriends(Conflict):
    default_detail = "You are already friends."
    default_code = "already_friends"


class RequestPending(Conflict):
    default_detail = "They already sent you a friend request: accept it instead."
    default_code = "request_pending"


def are_friends(a_id, b_id) -> bool:
    return FriendRequest.objects.filter(
        Q(from_user_id=a_id, to_user_id=b_id) | Q(from_user_id=b_id, to_user_id=a_id),
        status=FriendRequest.Status.ACCEPTED,
    ).exists()


REQUEST_NOTICE_EVERY = timedelta(days=1)


def send_friend_request(*, actor, target) -> tuple[FriendRequest, bool]:
    """Ask `target` to be friends; (request, created). Asking again while pending changes nothing."""
    if target.pk == actor.pk:
        raise ValidationFailed(details={"to": ["You cannot befriend yourself."]})
    with transaction.atomic():
        refuse_if_blocked(actor.pk, target.pk)
        if are_friends(actor.pk, target.pk):
            raise AlreadyFriends()
        if FriendRequest.objects.filter(from_user=target, to_user=actor, status=FriendRequest.Status.PENDING).exists():
            raise RequestPending()
        request, created = FriendRequest.objects.select_for_update().get_or_create(from_user=actor, to_user=target)
        if not created and request.status == FriendRequest.Status.PENDING:
            return request, False
        if not created:  # declined before: ask again
            request.status, request.responded_at = FriendRequest.Status.PENDING, None
            request.save(update_fields=["status", "responded_at"])
        publish.notify_users([target.pk], events.friendrequest(request.pk, actor))
        # Asking, being declined and asking again must not flood the target: one notification
        # per request a day.
        recent = Notification.objects.filter(user=target, kind="friendrequest", data__requestid=request.pk,
                                             created_at__gte=timezone.now() - REQUEST_NOTICE_EVERY)
        if not recent.exists():
            notify_user(user=target, kind="friendrequest", actor=actor,
                        message=f"{actor.display_name} sent you a friend request.",
                        data={"requestid": request.pk, "from": actor.pk})
        return request, True


def respond_to_friend_request(*, actor, request, accept) -> FriendRequest:
    with transaction.atomic():
        request = FriendRequest.objects.select_for_update().select_related("from_user").get(pk=request.pk)
        if request.to_user_id != actor.pk:
            raise Forbidden("Only the person asked can answer this request.")
        if request.status != FriendRequest.Status.PENDING:
            raise Conflict(f"This request was already {request.status}.")
        if accept:
            refuse_if_blocked(actor.pk, request.from_user_id)
        request.status = FriendRequest.Status.ACCEPTED if accept else FriendRequest.Status.DECLINED
        request.responded_at = timezone.now()
        request.save(update_fields=["status", "responded_at"])
        if accept:
            notify_user(user=request.from_user, kind="friendaccept", actor=actor,
                        message=f"{actor.display_name} accepted your friend request.",
                        data={"requestid": request.pk, "userid": actor.pk})
        return request


def unfriend(*, actor, target) -> bool:
    """End a friendship, whoever asked whom; both get `unfriend`. False if they were not friends.
    Either may ask again later."""
    with transaction.atomic():
        ended, _ = FriendRequest.objects.filter(
            Q(from_user=actor, to_user=target) | Q(from_user=target, to_user=actor),
            status=FriendRequest.Status.ACCEPTED,
        ).delete()
        if not ended:
            return False
        publish.notify_users(sorted({actor.pk, target.pk}), events.unfriend(by=actor, user=target))
    return True


def mark_notifications_read(*, actor, ids=None, all_=False) -> int:
    qs = Notification.objects.filter(user=actor, read=False)
    if not all_:
        qs = qs.filter(pk__in=ids or [])
    return qs.update(read=True)


# --- blocks and mutes ------------------------------------------------------------------------------
class Blocked(Forbidden):
    default_detail = "One of you blocks the other."

    def __init__(self, detail=None):
        super().__init__(detail, details={"reason": "blocked"})


def refuse_if_blocked(a_id, b_id):
    """Raise `Blocked` (403, `details.reason = "blocked"`) if either of the two blocks the other."""
    if blocked_between(a_id, b_id):
        raise Blocked()


def block(*, actor, target) -> tuple[Block, bool]:
    """`actor` blocks `target`; (block, created). Their friendship and pending friend requests end;
    the actor's sockets get `block`; the target is never told."""
    if target.pk == actor.pk:
        raise ValidationFailed(details={"user_id": ["You cannot block yourself."]})
    with transaction.atomic():
        row, created = Block.objects.get_or_create(user=actor, blocked=target)
        if not created:
            return row, False
        between = FriendRequest.objects.filter(Q(from_user=actor, to_user=target) | Q(from_user=target, to_user=actor))
        ended = between.filter(status=FriendRequest.Status.ACCEPTED).exists()
        between.exclude(status=FriendRequest.Status.DECLINED).delete()
        publish.notify_users([actor.pk], events.block(target, blocked=True, friendship_ended=ended))
    return row, True


def unblock(*, actor, target) -> bool:
    """False if `actor` did not block `target`. A friendship that ended stays ended."""
    with transaction.atomic():
        removed, _ = Block.objects.filter(user=actor, blocked=target).delete()
        if removed:
            publish.notify_users([actor.pk], events.block(target, blocked=False))
    return bool(removed)


def mute(*, actor, target, expires_in=None) -> tuple[Mute, bool]:
    """`actor` mutes `target` (for `expires_in` seconds, or until unmuted); (mute, created). Muting
    again sets the new end. The actor's sockets get `mute`."""
    if target.pk == actor.pk:
        raise ValidationFailed(details={"user_id": ["You cannot mute yourself."]})
    moment = timezone.now()
    expires_at = moment + timedelta(seconds=expires_in) if expires_in else None
    with transaction.atomic():
        row, made = Mute.objects.get_or_create(user=actor, muted=target, defaults={"expires_at": expires_at})
        created = made or (row.expires_at is not None and row.expires_at <= moment)  # an ended one counts as new
        if not made:
            row.expires_at = expires_at
            row.save(update_fields=["expires_at"])
        publish.notify_users([actor.pk], events.mute(target, muted=True, expires_at=expires_at))
    return row, created


def unmute(*, actor, target) -> bool:
    """False if `actor` did not mute `target` (or the mute had ended by itself)."""
    with transaction.atomic():
        live = active_mutes().filter(user=actor, muted=target).exists()
        Mute.objects.filter(user=actor, muted=target).delete()
        if live:
            publish.notify_users([actor.pk], events.mute(target, muted=False))
    return live
