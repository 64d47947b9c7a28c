"""Passwords: everyone changes their own; a manager sends a one-time link, never types one for
someone else; in the admin, managers give access through groups only."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from parlor import roles
from parlor.models import SecurityEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
CHANGE = reverse("parlor:password-change")
USERS = reverse("admin:auth_user_changelist")


def test_every_user_reaches_their_account_page_from_the_menu(reception_client):
    page = reception_client.get("/").content.decode()
    assert f'href="{reverse("parlor:account")}"' in page
    assert reception_client.get(reverse("parlor:account")).status_code == 200


@pytest.mark.parametrize("client_fixture", ["reception_client", "masseur_client", "manager_client"])
def test_staff_change_their_own_password(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    response = client.post(
        CHANGE,
        {"old_password": "secret-pass", "new_password1": "a-new-long-one-42", "new_password2": "a-new-long-one-42"},
    )
    user = response.wsgi_request.user
    user.refresh_from_db()

    assert response.status_code == 302
    assert response["Location"] == reverse("parlor:account")
    assert user.check_password("a-new-long-one-42")
    assert SecurityEvent.objects.filter(kind="password-changed", user=user).count() == 1
    # The session that changed it stays logged in.
    assert client.get(reverse("parlor:account")).status_code == 200


def test_a_wrong_old_password_changes_nothing_and_says_so(reception_client, receptionist):
    response = reception_client.post(
        CHANGE, {"old_password": "nope", "new_password1": "a-new-long-one-42", "new_password2": "a-new-long-one-42"}
    )
    receptionist.refresh_from_db()
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["old_password"]
    assert receptionist.check_password("secret-pass")


# The one-time link


def _send_link(manager_client, user):
    return manager_client.post(USERS, {"action": "send_password_reset", "_selected_action": [user.pk]}, follow=True)


def _link(message) -> str:
    return re.search(r"http://testserver(/account/reset/[^\s]+/)", message.body).group(1)


def test_a_manager_sends_a_one_time_link_that_sets_a_new_password(manager_client, manager, settings):
    settings.PARLOR_BASE_URL = "http://testserver"
    desk = UserFactory(username="desk2", email="desk2@parlor.example", role=roles.RECEPTIONIST)

    response = _send_link(manager_client, desk)

    assert "A link to set a new password was emailed to: desk2." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["desk2@parlor.example"]]
    link = _link(mail.outbox[0])
    assert mail.outbox[0].alternatives[0][0].count(link) == 2  # the html part too

    visitor = Client()
    form_page = visitor.get(link, follow=True)
    assert form_page.context["validlink"] is True
    set_url = form_page.redirect_chain[-1][0]
    done = visitor.post(set_url, {"new_password1": "chosen-by-desk-77", "new_password2": "chosen-by-desk-77"})
    assert done["Location"] == reverse("parlor:password-reset-complete")
    desk.refresh_from_db()
    assert desk.check_password("chosen-by-desk-77")

    # Once used, the link is dead.
    again = Client().get(link, follow=True)
    assert again.context["validlink"] is False
    assert "This link does not work any more" in again.content.decode()
    kinds = list(SecurityEvent.objects.filter(user=desk).order_by("pk").values_list("kind", "detail"))
    assert kinds == [("password-reset-sent", "mgr"), ("password-changed", "reset link")]


def test_the_link_points_at_the_public_site(manager_client, settings):
    settings.PARLOR_BASE_URL = "https://parlor.example"
    desk = UserFactory(username="desk3", email="desk3@parlor.example")
    _send_link(manager_client, desk)
    assert "https://parlor.example/account/reset/" in mail.outbox[0].body


def test_no_link_for_a_user_without_an_email(manager_client):
    nobody = UserFactory(username="noemail", email="")
    response = _send_link(manager_client, nobody)
    assert "No email address for noemail: add one first." in response.content.decode()
    assert mail.outbox == []


# The admin: groups only


def test_a_manager_sees_no_superuser_or_permission_fields(manager_client):
    desk = UserFactory(username="desk4")
    page = manager_client.get(reverse("admin:auth_user_change", args=[desk.pk])).content.decode()
    assert 'name="groups"' in page
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page


def test_a_manager_cannot_grant_superuser_or_raw_permissions(manager_client):
    desk = UserFactory(username="desk5")
    permission = Permission.objects.get(codename="delete_user")
    response = manager_client.post(
        reverse("admin:auth_user_change", args=[desk.pk]),
        {
            "username": "desk5",
            "first_name": "Тарас",
            "last_name": "Петренко",
            "email": "",
            "is_active": "on",
            "is_staff": "",
            "is_superuser": "on",
            "user_permissions": [permission.pk],
            "groups": [Group.objects.get(name=roles.RECEPTIONIST).pk],
        },
    )
    desk.refresh_from_db()

    assert response.status_code == 302
    assert list(desk.groups.values_list("name", flat=True)) == [roles.RECEPTIONIST]
    assert (desk.is_superuser, desk.user_permissions.count()) == (False, 0)


def test_a_manager_cannot_touch_a_superuser(manager_client, admin_user):
    assert manager_client.get(reverse("admin:auth_user_change", args=[admin_user.pk])).status_code == 302
    assert "admin" not in [u.username for u in manager_client.get(USERS).context["cl"].result_list]
    response = manager_client.post(reverse("admin:auth_user_delete", args=[admin_user.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=admin_user.pk, is_superuser=True).exists()


def test_a_manager_cannot_type_a_password_for_someone_else(manager_client):
    desk = UserFactory(username="desk6")
    url = reverse("admin:auth_user_password_change", args=[desk.pk])
    response = manager_client.post(url, {"password1": "typed-by-boss-1", "password2": "typed-by-boss-1"})
    desk.refresh_from_db()
    assert response.status_code == 403
    assert desk.check_password("secret-pass")


def test_a_superuser_keeps_every_field(admin_client):
    desk = UserFactory(username="desk7")
    page = admin_client.get(reverse("admin:auth_user_change", args=[desk.pk])).content.decode()
    assert 'name="is_superuser"' in page and 'name="user_permissions"' in page
