"""The desk's models move here from `accounts`, keeping their tables (`db_table`): the state
moves, the database does not, and the content types move with them, so that permissions
already granted (the Moderators group's included) stay granted."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ["report", "moderationlog"]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="accounts", model__in=MODELS).update(app_label="moderation")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="moderation", model__in=MODELS).update(app_label="accounts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("accounts", "0006_username_skeleton"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    state_operations = [
        migrations.CreateModel(
            name='ModerationLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('moderator_name', models.CharField(help_text='kept if the account is deleted', max_length=150)),
                ('action', models.CharField(choices=[('deactivate_user', 'Deactivate User'), ('reactivate_user', 'Reactivate User'), ('remove_member', 'Remove Member'), ('ban_member', 'Ban Member'), ('hide_post', 'Hide Post'), ('unhide_post', 'Unhide Post'), ('delete_post', 'Delete Post'), ('delete_message', 'Delete Message'), ('delete_group', 'Delete Group'), ('resolve_report', 'Resolve Report'), ('dismiss_report', 'Dismiss Report')], max_length=30)),
                ('target_type', models.CharField(max_length=20)),
                ('target_id', models.PositiveBigIntegerField()),
                ('target_repr', models.CharField(blank=True, max_length=200)),
                ('reason', models.TextField(blank=True, max_length=1000)),
                ('details', models.JSONField(blank=True, default=dict)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('moderator', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'audit entry',
                'verbose_name_plural': 'audit trail',
                'db_table': 'accounts_moderationlog',
                'indexes': [models.Index(fields=['target_type', 'target_id'], name='accounts_mo_target__bcf676_idx')],
            },
        ),
        migrations.CreateModel(
            name='Report',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('target_type', models.CharField(choices=[('post', 'Post'), ('message', 'Message'), ('user', 'User')], max_length=10)),
                ('target_id', models.PositiveBigIntegerField()),
                ('target_repr', models.CharField(blank=True, max_length=200)),
                ('reason', models.TextField(max_length=1000)),
                ('status', models.CharField(choices=[('open', 'Open'), ('resolved', 'Resolved'), ('dismissed', 'Dismissed')], default='open', max_length=10)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('handled_at', models.DateTimeField(blank=True, null=True)),
                ('handled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('reporter', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reports_filed', to=settings.AUTH_USER_MODEL)),
                ('target_owner', models.ForeignKey(blank=True, help_text="the post's author, the message's sender, or the reported user", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'accounts_report',
                'indexes': [models.Index(fields=['status', '-id'], name='accounts_re_status_90283f_idx'), models.Index(fields=['target_type', 'target_id'], name='accounts_re_target__a61117_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('reporter', 'target_type', 'target_id'), name='one_open_report_per_target')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
