from django.db import migrations

# Signed session logs and addenda stay immutable, with one exception: the
# erasure of a client (clients.erasure) removes the client's name, phone and
# email from the notes it keeps (or the notes themselves), inside a transaction
# that says so with SET LOCAL parlor.erasing.
FORWARD = """
CREATE OR REPLACE FUNCTION treatments_refuse_signed_update() RETURNS trigger AS $$
BEGIN
    IF current_setting('parlor.erasing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'treatments_sessionlogaddendum' OR to_jsonb(OLD)->>'status' = 'signed' THEN
        RAISE EXCEPTION '% row % is signed and cannot be changed: add an addendum instead', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# The function as migration 0004 made it.
BACKWARD = """
CREATE OR REPLACE FUNCTION treatments_refuse_signed_update() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'treatments_sessionlogaddendum' OR to_jsonb(OLD)->>'status' = 'signed' THEN
        RAISE EXCEPTION '% row % is signed and cannot be changed: add an addendum instead', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("treatments", "0009_change_history")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
