from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    # Idempotent (get_or_create, permissions.add) and fine with the live
    # registry, since tests/conftest.py's seeded_db runs it again after a flush.
    grant_permissions(
        apps,
        {
            "Receptionist": ["clients.add_client", "clients.change_client", "clients.view_client"],
            "Masseur": ["clients.view_client"],
            "Manager": [
                "clients.add_client",
                "clients.change_client",
                "clients.view_client",
                "clients.delete_client",
                "clients.merge_client",
            ],
        },
    )


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Receptionist", "Masseur", "Manager"]):
        group.permissions.remove(*permission_model.objects.filter(content_type__app_label="clients"))


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_permissions_recent_index"),
        ("parlor", "0004_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
