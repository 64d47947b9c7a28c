from django.db import migrations

# A signed session log is part of the client's permanent record: the database
# refuses any UPDATE of a row that was signed when read (no exception, not even
# a column nobody reads), and any UPDATE of an addendum. Corrections are new
# addenda. A draft may be updated, and signing is the draft's last UPDATE.
FORWARD = """
CREATE OR REPLACE FUNCTION treatments_refuse_signed_update() RETURNS trigger AS $$
BEGIN
    -- Through jsonb: an addendum row has no status column, and PL/pgSQL does not short-circuit OR.
    IF TG_TABLE_NAME = 'treatments_sessionlogaddendum' OR to_jsonb(OLD)->>'status' = 'signed' THEN
        RAISE EXCEPTION '% row % is signed and cannot be changed: add an addendum instead', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS treatments_sessionlog_signed_immutable ON treatments_sessionlog;
CREATE TRIGGER treatments_sessionlog_signed_immutable BEFORE UPDATE ON treatments_sessionlog
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_update();

DROP TRIGGER IF EXISTS treatments_sessionlogaddendum_immutable ON treatments_sessionlogaddendum;
CREATE TRIGGER treatments_sessionlogaddendum_immutable BEFORE UPDATE ON treatments_sessionlogaddendum
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_update();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS treatments_sessionlogaddendum_immutable ON treatments_sessionlogaddendum;
DROP TRIGGER IF EXISTS treatments_sessionlog_signed_immutable ON treatments_sessionlog;
DROP FUNCTION IF EXISTS treatments_refuse_signed_update();
"""


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_masseur_side")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
