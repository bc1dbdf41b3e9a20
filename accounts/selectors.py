"""Reads of accounts: users, friend requests, friends and notifications, as the caller may
see them. Views and socket handlers read through these; actions write."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import FriendRequest, Notification
from config.errors import NotFound


def active_user(user_id):
    """An active user by id; NotFound for a missing and a deactivated one alike."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def any_user(user_id):
    """A user by id, active or not (group verbs act on members whatever their state)."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    return user


def pending_friend_requests(user, *, incoming=True):
    mine = {"to_user": user} if incoming else {"from_user": user}
    return (FriendRequest.objects.filter(status=FriendRequest.Status.PENDING, **mine)
            .select_related("from_user", "to_user"))


def friend_request_of(user, request_id):
    """A friend request only its two people may know exists; NotFound for anyone else."""
    friend_request = FriendRequest.objects.filter(Q(to_user=user) | Q(from_user=user), pk=request_id).first()
    if friend_request is None:
        raise NotFound("No such friend request.")
    return friend_request


def friendships(user):
    """The user's accepted friend requests, either way, with both users loaded."""
    return (FriendRequest.objects.filter(Q(from_user=user) | Q(to_user=user), status=FriendRequest.Status.ACCEPTED)
            .select_related("from_user", "to_user"))


def notifications(user, *, unread_only=False):
    qs = Notification.objects.filter(user=user)
    return qs.filter(read=False) if unread_only else qs
