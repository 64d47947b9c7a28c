from django.db import migrations

# Screenings stay append-only, with one exception: the erasure of a client
# (clients.erasure) removes the client's name, phone and email from the notes
# it keeps, inside a transaction that says so with SET LOCAL parlor.erasing.
FORWARD = """
CREATE OR REPLACE FUNCTION screening_refuse_update() RETURNS trigger AS $$
BEGIN
    IF current_setting('parlor.erasing', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF (to_jsonb(NEW) - 'client_id') IS DISTINCT FROM (to_jsonb(OLD) - 'client_id') THEN
        RAISE EXCEPTION '% rows are append-only: record a new screening instead', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# The function as migration 0002 made it.
BACKWARD = """
CREATE OR REPLACE FUNCTION screening_refuse_update() RETURNS trigger AS $$
BEGIN
    IF (to_jsonb(NEW) - 'client_id') IS DISTINCT FROM (to_jsonb(OLD) - 'client_id') THEN
        RAISE EXCEPTION '% rows are append-only: record a new screening instead', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("screening", "0007_change_history")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
