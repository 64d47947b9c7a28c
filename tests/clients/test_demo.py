import pytest

from clients import demo
from clients.models import Client

pytestmark = pytest.mark.django_db


def test_demo_seed_creates_two_hundred_clients_once():
    demo.seed()
    demo.seed()
    assert Client.objects.count() == 200
    assert Client.objects.filter(language="uk").count() == 150
    assert Client.objects.filter(language="en").count() == 50


def test_demo_seed_has_minors_with_guardians_and_foreign_phones():
    demo.seed()
    minors = [c for c in Client.objects.all() if c.is_minor]
    assert len(minors) == 10
    assert all(c.guardian_name and c.guardian_phone and c.guardian_consent_at for c in minors)
    assert {prefix for prefix in ("+44", "+48", "+49") if Client.objects.filter(phone__startswith=prefix).exists()} == {
        "+44",
        "+48",
        "+49",
    }
    assert Client.objects.exclude(allergens=[]).exists()
    assert not Client.objects.exclude(email="").exclude(email__regex=r"@example\.(com|org|net)$").exists()


def test_demo_clients_are_deterministic():
    first = demo.clients_to_create(demo.parlor_today())
    second = demo.clients_to_create(demo.parlor_today())
    assert first == second
    assert len({c["phone"] for c in first}) == 200
