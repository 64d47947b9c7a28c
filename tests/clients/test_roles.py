import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def _client_perms(group_name):
    group = Group.objects.get(name=group_name)
    return set(group.permissions.filter(content_type__app_label="clients").values_list("codename", flat=True))


def test_receptionist_adds_changes_and_views_clients():
    assert _client_perms("Receptionist") == {"add_client", "change_client", "view_client"}


def test_masseur_only_views_clients():
    assert _client_perms("Masseur") == {"view_client"}


def test_manager_may_also_delete_merge_export_erase_clients_and_read_the_trail():
    assert _client_perms("Manager") == {
        "add_client",
        "change_client",
        "view_client",
        "delete_client",
        "merge_client",
        "export_client",
        "erase_client",
        "view_accessentry",
    }


def test_role_migration_runs_again_with_the_live_registry():
    # tests/conftest.py's seeded_db re-runs data migrations after a flush.
    import importlib

    from django.apps import apps

    migration = importlib.import_module("clients.migrations.0003_roles")
    migration.grant(apps, None)
    migration.grant(apps, None)
    assert _client_perms("Masseur") == {"view_client"}
