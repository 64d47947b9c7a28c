from django.db import migrations

from parlor.roles import grant_permissions

MANAGER_PERMISSIONS = ["clients.view_accessentry", "clients.export_client", "clients.erase_client"]


def grant(apps, schema_editor):
    # Reading the trail, exporting a client's data and erasing it are the manager's.
    grant_permissions(apps, {"Manager": MANAGER_PERMISSIONS})


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    codenames = [name.split(".")[1] for name in MANAGER_PERMISSIONS]
    permissions = Permission.objects.filter(content_type__app_label="clients", codename__in=codenames)
    for group in Group.objects.filter(name="Manager"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("clients", "0005_access_trail_append_only")]

    operations = [migrations.RunPython(grant, revoke)]
