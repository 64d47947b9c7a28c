from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    grant_permissions(apps, {"Manager": ["parlor.view_securityevent"]})


class Migration(migrations.Migration):
    dependencies = [("parlor", "0005_security_events")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
