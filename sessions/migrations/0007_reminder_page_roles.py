from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    # Idempotent (get_or_create, add): seeded_db runs it again after flushes.
    grant_permissions(
        apps,
        {
            # The reception's reminders page; the manager also edits the settings.
            "Receptionist": ["treatments.view_reminder"],
            "Manager": [
                "treatments.view_reminder",
                "treatments.view_reminderpolicy",
                "treatments.change_reminderpolicy",
            ],
        },
    )


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    ours = permission_model.objects.filter(
        content_type__app_label="treatments",
        codename__in=["view_reminder", "view_reminderpolicy", "change_reminderpolicy"],
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Receptionist", "Manager"]):
        group.permissions.remove(*ours)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0006_reminders"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
