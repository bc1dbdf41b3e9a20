from django.db import migrations, models


def create_head(apps, schema_editor):
    apps.get_model("stream", "Head").objects.create(pk=1, seq=0, trimmed=0)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Head",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                ("trimmed", models.BigIntegerField(default=0, help_text="entries up to this position are gone")),
            ],
            options={"db_table": "stream_head"},
        ),
        migrations.CreateModel(
            name="Topic",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("head", models.BigIntegerField(default=0)),
            ],
            options={"db_table": "stream_topic"},
        ),
        migrations.CreateModel(
            name="Entry",
            fields=[
                ("seq", models.BigIntegerField(primary_key=True, serialize=False)),
                ("at", models.FloatField(help_text="when it was stored (Unix time)")),
                ("text", models.TextField(blank=True)),
                ("data", models.TextField(default="{}", help_text="JSON: topics (t) and membership changes (o)")),
                ("message_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
            ],
            options={"db_table": "stream_entry"},
        ),
        migrations.CreateModel(
            name="EntryTopic",
            fields=[
                ("pk", models.CompositePrimaryKey("topic", "seq", blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ("topic", models.CharField(max_length=64)),
                ("seq", models.BigIntegerField()),
            ],
            options={"db_table": "stream_entry_topic"},
        ),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
