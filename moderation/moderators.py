"""The "Moderators" group with the least permissions the moderation desk needs.

A moderator is a user with `is_staff` in this group. They see users, groups,
memberships, bans, messages, posts, reports and the audit trail, and may only:
- deactivate and reactivate users (`accounts.deactivate_user`),
- remove members from groups (`groups.delete_membership`),
- delete messages (`groups.delete_message`), and see every earlier text of a message
  (`groups.view_messagerevision`: edits and deletes cannot erase what was reported),
- hide and delete posts (`posts.change_post`, `posts.delete_post`),
- resolve and dismiss reports (`moderation.change_report`).
The admin routes each of these through `moderation.actions` (relayed and audited);
it offers no form that edits those rows directly. Notifications, friend requests,
likes and tokens stay out of sight.

accounts' migration 0004 made the group (with the desk's models then in accounts; their
permissions moved here with them); `create_moderators_group(django.apps.apps, None)`
makes or resets it on a live database.
"""

from django.contrib.auth.management import create_permissions
from django.db.models import Q

GROUP_NAME = "Moderators"

MODERATOR_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "deactivate_user"),
    ("moderation", "view_report"),
    ("moderation", "change_report"),
    ("moderation", "view_moderationlog"),
    ("groups", "view_group"),
    ("groups", "view_membership"),
    ("groups", "delete_membership"),
    ("groups", "view_ban"),
    ("groups", "view_message"),
    ("groups", "delete_message"),
    ("groups", "view_messagerevision"),
    ("posts", "view_post"),
    ("posts", "change_post"),
    ("posts", "delete_post"),
]


def create_moderators_group(apps, schema_editor):
    """Create (or reset) the group; idempotent. Also callable with the live app registry."""
    make_group(apps, schema_editor, GROUP_NAME, MODERATOR_PERMISSIONS)


def make_group(apps, schema_editor, name, wanted_permissions):
    """Create (or reset) the auth group `name` with exactly `wanted_permissions` ((app label,
    codename) pairs), with `apps` a migration's registry or the live one."""
    group, permissions = _group_and_permissions(apps, schema_editor, name, wanted_permissions)
    group.permissions.set(permissions)


def grant(apps, schema_editor, name, permissions):
    """Add `permissions` to the auth group `name` (made if missing), keeping what it has."""
    group, found = _group_and_permissions(apps, schema_editor, name, permissions)
    group.permissions.add(*found)


def _group_and_permissions(apps, schema_editor, name, wanted_permissions):
    using = schema_editor.connection.alias if schema_editor is not None else "default"
    # Permissions are normally created after all migrations (post_migrate): make them now.
    for label in {app for app, _ in wanted_permissions}:
        app_config = apps.get_app_config(label)
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        if stub:
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Q()
    for app, codename in wanted_permissions:
        wanted |= Q(content_type__app_label=app, codename=codename)
    permissions = list(Permission.objects.using(using).filter(wanted))
    if len(permissions) != len(wanted_permissions):
        raise RuntimeError(f"Some permissions of the {name} group are missing.")
    group, _ = Group.objects.using(using).get_or_create(name=name)
    return group, permissions
