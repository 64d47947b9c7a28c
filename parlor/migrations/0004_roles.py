from django.db import migrations

from parlor.roles import grant_permissions

_RESOURCES = ["massagetype", "room", "masseur", "workinghours", "timeoff"]


def create_roles(apps, schema_editor):
    grant_permissions(
        apps,
        {
            "Manager": [
                f"parlor.{action}_{model}" for model in _RESOURCES for action in ("add", "change", "delete", "view")
            ]
            + ["auth.add_user", "auth.change_user", "auth.view_user", "auth.view_group"],
            # Reception books against the resources, so it reads all of them.
            "Receptionist": [f"parlor.view_{model}" for model in _RESOURCES],
            "Masseur": [
                "parlor.view_massagetype",
                "parlor.view_room",
                "parlor.view_masseur",
                "parlor.view_workinghours",
            ],
        },
    )


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Manager", "Receptionist", "Masseur"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("parlor", "0003_seed_massage_types"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
