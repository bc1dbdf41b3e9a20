"""A message's stream entry is found through the message's row (`relay.stream.topics.MessageIndex`),
so it has no topic rows of its own. When the row goes (deleted by its author or a moderator, or
with its group or its user), this trigger writes the entry's topic rows from the topics the entry
names, so that a replay still finds the entry at its place in each topic's stream."""

from django.db import migrations

POSTGRESQL = ["""
CREATE FUNCTION groups_message_keeps_its_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stream_entry_topic (topic, seq)
    SELECT t.topic, e.seq FROM stream_entry e, jsonb_array_elements_text(e.data::jsonb -> 't') AS t (topic)
    WHERE e.message_id = OLD.id
    ON CONFLICT DO NOTHING;
    RETURN OLD;
END $$""", """
CREATE TRIGGER groups_message_keeps_its_entry BEFORE DELETE ON groups_message
    FOR EACH ROW EXECUTE FUNCTION groups_message_keeps_its_entry()"""]
POSTGRESQL_REVERSE = ["DROP TRIGGER IF EXISTS groups_message_keeps_its_entry ON groups_message",
                      "DROP FUNCTION IF EXISTS groups_message_keeps_its_entry()"]
SQLITE = ["""
CREATE TRIGGER groups_message_keeps_its_entry BEFORE DELETE ON groups_message FOR EACH ROW BEGIN
    INSERT OR IGNORE INTO stream_entry_topic (topic, seq)
    SELECT t.value, e.seq FROM stream_entry e, json_each(e.data, '$.t') AS t WHERE e.message_id = OLD.id;
END"""]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS groups_message_keeps_its_entry"]


def _run(statements):
    def run(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            for sql in statements.get(schema_editor.connection.vendor, []):
                cursor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("groups", "0006_reactions"),
        ("stream", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
                             _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE})),
    ]
