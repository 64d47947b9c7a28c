from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    # Idempotent (get_or_create, add): seeded_db runs it again after flushes.
    grant_permissions(
        apps,
        {"Manager": ["screening.view_questionnairesettings", "screening.change_questionnairesettings"]},
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    permissions = Permission.objects.filter(
        content_type__app_label="screening",
        codename__in=["view_questionnairesettings", "change_questionnairesettings"],
    )
    for group in Group.objects.filter(name="Manager"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("screening", "0007_questionnaire_settings")]

    operations = [migrations.RunPython(grant, revoke)]
