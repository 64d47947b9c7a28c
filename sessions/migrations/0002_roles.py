from django.db import migrations

from parlor.roles import grant_permissions

_MODELS = ["course", "appointment"]


def grant(apps, schema_editor):
    # Idempotent (get_or_create, add): seeded_db runs it again after flushes.
    grant_permissions(
        apps,
        {
            "Manager": [
                f"treatments.{action}_{model}" for model in _MODELS for action in ("add", "change", "delete", "view")
            ]
            + ["treatments.override_block"],
            "Receptionist": [
                f"treatments.{action}_{model}" for model in _MODELS for action in ("add", "change", "view")
            ],
            "Masseur": [f"treatments.view_{model}" for model in _MODELS],
        },
    )


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Receptionist", "Masseur", "Manager"]):
        group.permissions.remove(*permission_model.objects.filter(content_type__app_label="treatments"))


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0001_initial"),
        ("parlor", "0004_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
