import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _perms(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_roles_exist_from_the_data_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Receptionist", "Masseur", "Manager"}


def test_manager_may_edit_every_resource():
    perms = _perms("Manager")
    for model in ("massagetype", "room", "masseur", "workinghours", "timeoff"):
        assert {f"parlor.add_{model}", f"parlor.change_{model}", f"parlor.delete_{model}"} <= perms


def test_receptionist_reads_resources_but_cannot_change_them():
    perms = _perms("Receptionist")
    assert "parlor.view_room" in perms
    assert not any(p.startswith(("parlor.add_", "parlor.change_", "parlor.delete_")) for p in perms)


def test_masseur_cannot_see_time_off_of_colleagues():
    assert "parlor.view_timeoff" not in _perms("Masseur")


@pytest.mark.parametrize("url", ["/manage/rooms/new/", "/manage/massage-types/new/", "/manage/masseurs/new/"])
def test_receptionist_cannot_open_manager_screens(reception_client, url):
    assert reception_client.get(url).status_code == 403


def test_masseur_cannot_list_time_off(masseur_client):
    assert masseur_client.get("/manage/time-off/").status_code == 403


def test_navigation_shows_each_role_what_it_may_use(manager_client, reception_client, masseur_client):
    manager_page = manager_client.get("/").content.decode()
    assert reverse("admin:index") in manager_page
    assert "/manage/time-off/" in manager_page

    reception_page = reception_client.get("/").content.decode()
    assert reverse("admin:index") not in reception_page
    assert "/manage/rooms/" in reception_page

    masseur_page = masseur_client.get("/").content.decode()
    assert "/manage/time-off/" not in masseur_page
    assert reverse("admin:index") not in masseur_page


def test_manager_reaches_the_admin(manager_client):
    assert manager_client.get(reverse("admin:parlor_room_changelist")).status_code == 200


def test_receptionist_is_kept_out_of_the_admin(reception_client):
    response = reception_client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
