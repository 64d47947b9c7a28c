import pytest
from django.urls import reverse

from clients.models import Client
from tests.clients.helpers import make_client

pytestmark = pytest.mark.django_db


def test_admin_lists_clients(manager_client):
    make_client()
    response = manager_client.get(reverse("admin:clients_client_changelist"))
    assert response.status_code == 200
    assert "Оксана Шевченко" in response.content.decode()


def test_admin_shows_search_text_read_only(manager_client):
    client = make_client()
    page = manager_client.get(reverse("admin:clients_client_change", args=[client.pk])).content.decode()
    assert 'name="search_text"' not in page
    assert "oksana shevchenko" in page


def test_admin_save_keeps_search_text_current(admin_client):
    client = make_client()
    url = reverse("admin:clients_client_change", args=[client.pk])
    data = {
        "full_name": "Оксана Коваль",
        "phone": "+380671234567",
        "email": "oksana@example.com",
        "birth_date": "1985-05-17",
        "sex": "female",
        "language": "uk",
        "preferred_pressure": "",
        "allergens": "",
        "data_consent_at_0": "2026-01-10",
        "data_consent_at_1": "12:00:00",
        "guardian_name": "",
        "guardian_phone": "",
        "guardian_consent_at_0": "",
        "guardian_consent_at_1": "",
        "notes": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Client.objects.get().search_text.startswith("оксана коваль oksana koval ")
