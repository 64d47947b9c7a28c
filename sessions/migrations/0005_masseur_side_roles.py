from django.db import migrations

from parlor.roles import grant_permissions

_MODELS = ["flag", "dayofcheck", "sessionlog", "sessionlogaddendum"]


def grant(apps, schema_editor):
    # Idempotent (get_or_create, add): seeded_db runs it again after flushes.
    grant_permissions(
        apps,
        {
            "Manager": [
                f"treatments.{action}_{model}" for model in _MODELS for action in ("add", "change", "delete", "view")
            ]
            + ["treatments.review_any"],
            # Masseurs write their own logs and check their own clients in; the
            # views narrow every permission to the masseur's own appointments.
            "Masseur": [
                "treatments.add_sessionlog",
                "treatments.change_sessionlog",
                "treatments.view_sessionlog",
                "treatments.add_sessionlogaddendum",
                "treatments.view_sessionlogaddendum",
                "treatments.view_flag",
                "treatments.change_flag",
                "treatments.add_dayofcheck",
                "treatments.view_dayofcheck",
            ],
            # Reception sees appointments (0002) and the on-hold status, never
            # logs, flags' health text or day-of answers.
        },
    )


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    ours = permission_model.objects.filter(content_type__app_label="treatments", content_type__model__in=_MODELS)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Receptionist", "Masseur", "Manager"]):
        group.permissions.remove(*ours)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0004_sessionlog_immutable"),
        ("treatments", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
