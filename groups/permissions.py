"""Who may call a group endpoint, judged on the group the view has looked up.

Only the REST surface's own rules live here: the rules of every write stay in
`groups.actions`, which REST, the socket and the admin share. A group the caller
may not see never gets this far: the lookup answers "not found" first.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from groups.selectors import membership


class IsGroupMemberToRead(BasePermission):
    """Reading needs membership of the group; a write is judged by the action it calls."""

    message = "Only members can read this."

    def has_object_permission(self, request, view, group):
        return request.method not in SAFE_METHODS or membership(request.user, group) is not None


class CanSeeMemberList(IsGroupMemberToRead):
    """Only members see who else is in the group."""

    message = "Only members can see the member list."


class CanReadMessages(IsGroupMemberToRead):
    """Only members read the group's messages."""

    message = "Only members can read the messages."
