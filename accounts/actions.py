"""Account-side actions: notifications and friends."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import FriendRequest, Notification
from config.errors import Conflict, Forbidden, ValidationFailed
from relay.stream import events, publish


def notify_user(*, user, kind, message, data=None) -> Notification:
    """Store a notification and send it live to its owner after commit."""
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
            notify_user(user=target, kind="friendrequest", message=f"{actor.display_name} sent you a friend request.",
                        data={"requestid": request.pk, "from": actor.pk})
        return request, True


def respond_to_friend_request(*, actor, request, accept) -> FriendRequest:
    with transaction.atomic():
        request = FriendRequest.objects.select_for_update().select_related("from_user").get(pk=request.pk)
        if request.to_user_id != actor.pk:
            raise Forbidden("Only the person asked can answer this request.")
        if request.status != FriendRequest.Status.PENDING:
            raise Conflict(f"This request was already {request.status}.")
        request.status = FriendRequest.Status.ACCEPTED if accept else FriendRequest.Status.DECLINED
        request.responded_at = timezone.now()
        request.save(update_fields=["status", "responded_at"])
        if accept:
            notify_user(user=request.from_user, kind="friendaccept",
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
