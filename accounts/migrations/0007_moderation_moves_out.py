"""Report and ModerationLog now belong to the `moderation` app (its 0001): only the state
changes here; the tables stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0006_username_skeleton"),
        ("moderation", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(name="ModerationLog"),
            migrations.DeleteModel(name="Report"),
        ]),
    ]
