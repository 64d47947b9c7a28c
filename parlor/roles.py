"""The staff roles. Each role is a Django group; data migrations grant it
permissions, and views and the navigation check those permissions, never
the group names, so a manager can tune a role in the admin."""

from django.utils.translation import gettext_lazy as _

RECEPTIONIST = "Receptionist"
MASSEUR = "Masseur"
MANAGER = "Manager"

ROLE_LABELS = {RECEPTIONIST: _("Receptionist"), MASSEUR: _("Masseur"), MANAGER: _("Manager")}


def grant_permissions(apps, grants: dict[str, list[str]]) -> None:
    """Create the groups and add "app_label.codename" permissions to them.

    Meant for data migrations: on a fresh database Django creates permissions
    only after all migrations ran, so this creates the ones it needs first.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    if apps is not global_apps:  # the live registry already has its permissions
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, names in grants.items():
        group, _created = group_model.objects.get_or_create(name=group_name)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
