from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    # Masseurs keep view_health_record but see only the clients booked with them
    # (screening.access); the manager sees every client's record.
    grant_permissions(apps, {"Manager": ["screening.view_all_health_records"]})


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permissions = Permission.objects.filter(content_type__app_label="screening", codename="view_all_health_records")
    for group in Group.objects.filter(name="Manager"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_view_all_health_records")]

    operations = [migrations.RunPython(grant, revoke)]
