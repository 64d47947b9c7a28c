from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    grant_permissions(
        apps,
        {
            # Health details (findings, answers, history, diffs, scans): masseurs and the manager.
            "Manager": [
                "screening.view_health_record",
                "screening.add_screening",
                "screening.view_screening",
                "screening.view_finding",
                "screening.add_clearance",
                "screening.change_clearance",
                "screening.delete_clearance",
                "screening.view_clearance",
                "screening.add_contraindication",
                "screening.change_contraindication",
                "screening.view_contraindication",
            ],
            "Masseur": [
                "screening.view_health_record",
                "screening.add_screening",
                "screening.view_screening",
                "screening.view_finding",
                "screening.add_clearance",
                "screening.view_clearance",
                "screening.view_contraindication",
            ],
            # Reception takes screenings and files clearances, sees the verdict's
            # status and the clearances' metadata, never the health details.
            "Receptionist": [
                "screening.add_screening",
                "screening.add_clearance",
                "screening.view_clearance",
            ],
        },
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=["Manager", "Masseur", "Receptionist"]):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="screening"))


class Migration(migrations.Migration):
    dependencies = [("screening", "0003_seed_contraindications"), ("parlor", "0004_roles")]

    operations = [migrations.RunPython(grant, revoke)]
