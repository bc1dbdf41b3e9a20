"""The "Moderators" group with the least permissions the moderation desk needs.

A moderator is a user with `is_staff` in this group. They see users, groups,
memberships, bans, messages, posts, reports and the audit trail, and may only:
- deactivate and reactivate users (`accounts.deactivate_user`),
- remove members from groups (`groups.delete_membership`),
- delete messages (`groups.delete_message`),
- hide and delete posts (`posts.change_post`, `posts.delete_post`),
- resolve and dismiss reports (`accounts.change_report`).
The admin routes each of these through a moderation action (relayed and audited);
it offers no form that edits those rows directly. Notifications, friend requests,
likes and tokens stay out of sight.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

GROUP_NAME = "Moderators"

MODERATOR_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "deactivate_user"),
    ("accounts", "view_report"),
    ("accounts", "change_report"),
    ("accounts", "view_moderationlog"),
    ("groups", "view_group"),
    ("groups", "view_membership"),
    ("groups", "delete_membership"),
    ("groups", "view_ban"),
    ("groups", "view_message"),
    ("groups", "delete_message"),
    ("posts", "view_post"),
    ("posts", "change_post"),
    ("posts", "delete_post"),
]


def create_moderators_group(apps, schema_editor):
    """Create (or reset) the group with the permissions of this migration's day (the desk's
    models were in accounts then; moderation's 0001 moved them, permissions included).
    A migration keeps its own copy of what it runs, so that later code cannot change it."""
    using = schema_editor.connection.alias
    # Permissions are normally created after all migrations (post_migrate): make them now.
    for label in {app for app, _ in MODERATOR_PERMISSIONS}:
        app_config = apps.get_app_config(label)
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        if stub:
            app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    wanted = Q()
    for app, codename in MODERATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app, codename=codename)
    permissions = list(Permission.objects.using(using).filter(wanted))
    if len(permissions) != len(MODERATOR_PERMISSIONS):
        raise RuntimeError(f"Some permissions of the {GROUP_NAME} group are missing.")
    group, _ = apps.get_model("auth", "Group").objects.using(using).get_or_create(name=GROUP_NAME)
    group.permissions.set(permissions)


def drop_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_moderation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("groups", "0001_initial"),
        ("posts", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_moderators_group, drop_moderators_group)]
