"""The Django admin as the moderation desk: every page of it.

Rows whose change must reach live clients (users' activity, memberships, posts,
messages) are never edited or deleted through Django's generic forms: moderation
actions ask for a reason, then call `moderation.actions`, which checks the
moderator's permission, runs the domain action (relayed after commit) and writes
the audit trail.
"""

from moderation.admin import groups, platform, posts, reports, users  # noqa: F401 - each registers its models
