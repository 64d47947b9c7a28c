from django.db import migrations

# Screenings and their findings are history: never updated in place. The one
# UPDATE allowed is a client merge moving rows to the surviving client, which
# changes client_id and nothing else (findings have no client_id, so any
# change to a finding is refused). DELETE stays possible: erasing a client's
# personal data removes the history with the client.
FORWARD = """
CREATE OR REPLACE FUNCTION screening_refuse_update() RETURNS trigger AS $$
BEGIN
    IF (to_jsonb(NEW) - 'client_id') IS DISTINCT FROM (to_jsonb(OLD) - 'client_id') THEN
        RAISE EXCEPTION '% rows are append-only: record a new screening instead', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS screening_screening_append_only ON screening_screening;
CREATE TRIGGER screening_screening_append_only BEFORE UPDATE ON screening_screening
    FOR EACH ROW EXECUTE FUNCTION screening_refuse_update();

DROP TRIGGER IF EXISTS screening_finding_append_only ON screening_finding;
CREATE TRIGGER screening_finding_append_only BEFORE UPDATE ON screening_finding
    FOR EACH ROW EXECUTE FUNCTION screening_refuse_update();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS screening_finding_append_only ON screening_finding;
DROP TRIGGER IF EXISTS screening_screening_append_only ON screening_screening;
DROP FUNCTION IF EXISTS screening_refuse_update();
"""


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
