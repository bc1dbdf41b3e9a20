"""Account-side actions: notifications (and, later, friends)."""

from django.db import transaction

from accounts.models import Notification
from relay import events, notify


def notify_user(*, user, kind, message, data=None) -> Notification:
    """Store a notification and send it live to its owner after commit."""
    with transaction.atomic():
        note = Notification.objects.create(user=user, kind=kind, message=message[:500], data=data or {})
        notify.notify_users([user.pk], events.notification(note))
    return note
