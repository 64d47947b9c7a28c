"""Error pages in the user's language, styled like the rest, with a way back; a navigation that never
links a role to a page it may not open."""

import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from parlor import roles
from tests.conftest import login_as
from tests.factories import MasseurFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "heading"), [("uk", "Такої сторінки немає"), ("en", "There is no such page")])
def test_404_page_is_styled_in_the_users_language_with_a_way_back(reception_client, settings, language, heading):
    settings.LANGUAGE_CODE = language
    response = reception_client.get("/clients/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert f'lang="{language}"' in page
    assert heading in page
    assert "/static/bootstrap/css/bootstrap.min.css" in page
    assert f'href="{reverse("parlor:dashboard")}"' in page.split('data-testid="error-way-back"')[1]


def test_403_page_is_styled_in_ukrainian_with_a_way_back(reception_client, settings):
    settings.LANGUAGE_CODE = "uk"
    response = reception_client.get(reverse("sessions:my-day"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "Ця сторінка вам недоступна" in page
    assert "Forbidden" not in page
    assert 'data-testid="error-way-back"' in page


def _role_client(role: str) -> HttpClient:
    user = UserFactory(username=f"nav-{role.lower()}", role=role)
    if role == roles.MANAGER:
        user.is_staff = True
        user.save()
    if role == roles.MASSEUR:
        MasseurFactory(user=user)
    client = HttpClient()
    login_as(client, user)
    return client


@pytest.mark.parametrize("role", [roles.RECEPTIONIST, roles.MASSEUR, roles.MANAGER])
def test_navigation_links_only_to_pages_the_role_may_open(role):
    client = _role_client(role)
    page = client.get(reverse("parlor:dashboard")).content.decode()
    nav = page.split('<nav class="navbar')[1].split("</nav>")[0]
    links = sorted(set(re.findall(r'href="(/[^"#]*)"', nav)))
    assert links
    refused = {link: client.get(link).status_code for link in links if client.get(link).status_code != 200}
    assert refused == {}


def test_manager_without_a_masseur_profile_has_no_my_day_link(manager_client):
    page = manager_client.get(reverse("parlor:dashboard")).content.decode()
    assert 'data-testid="nav-my-day"' not in page
    assert 'data-testid="nav-outcomes"' in page
