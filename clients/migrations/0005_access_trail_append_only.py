from django.db import migrations

# The access trail is evidence of who read health records: once written, no
# row is ever changed or removed, whoever asks (the application included). The
# function has no way around it, unlike the append-only rules of screenings and
# session logs, which an erasure may pass. TRUNCATE is not refused: a test
# database is emptied that way between tests, and it needs the table owner.
FORWARD = """
CREATE OR REPLACE FUNCTION clients_accessentry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the access trail is append-only: % of an entry is refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS clients_accessentry_append_only ON clients_accessentry;
CREATE TRIGGER clients_accessentry_append_only BEFORE UPDATE OR DELETE ON clients_accessentry
    FOR EACH ROW EXECUTE FUNCTION clients_accessentry_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS clients_accessentry_append_only ON clients_accessentry;
DROP FUNCTION IF EXISTS clients_accessentry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("clients", "0004_access_trail_erasure_history")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
