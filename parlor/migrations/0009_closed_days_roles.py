from django.db import migrations

from parlor.roles import grant_permissions


def grant(apps, schema_editor):
    # Idempotent (get_or_create, add): seeded_db runs it again after flushes.
    grant_permissions(
        apps,
        {
            # The manager decides which days the parlor is closed and alone books on them.
            "Manager": [
                "parlor.view_closedday",
                "parlor.add_closedday",
                "parlor.change_closedday",
                "parlor.delete_closedday",
                "parlor.book_on_closed_day",
            ],
        },
    )


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    ours = permission_model.objects.filter(content_type__app_label="parlor", codename__contains="closed")
    for group in apps.get_model("auth", "Group").objects.filter(name="Manager"):
        group.permissions.remove(*ours)


class Migration(migrations.Migration):
    dependencies = [
        ("parlor", "0008_closed_days"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
