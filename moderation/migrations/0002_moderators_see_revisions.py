"""Moderators see every earlier text of a message (`groups.MessageRevision`)."""

from django.db import migrations

from moderation.moderators import GROUP_NAME, grant


def see_revisions(apps, schema_editor):
    grant(apps, schema_editor, GROUP_NAME, [("groups", "view_messagerevision")])


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial"), ("groups", "0005_message_edits")]

    operations = [migrations.RunPython(see_revisions, migrations.RunPython.noop)]
