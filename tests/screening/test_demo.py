import pytest
from django.utils import timezone

from clients.models import Client
from screening import demo, selectors
from screening.models import Clearance, Finding, Screening
from screening.rules import Status
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_clients():
    return [ClientFactory() for _ in range(30)]


def test_demo_gives_every_client_one_to_three_screenings(demo_clients):
    demo.seed()
    counts = [Screening.objects.filter(client=c).count() for c in demo_clients]
    assert min(counts) >= 1
    assert max(counts) <= 3
    assert Clearance.objects.filter(kind="referral").exists()


def test_demo_shows_every_verdict_status(demo_clients):
    demo.seed()
    verdicts = selectors.verdicts_for_many(demo_clients, None, timezone.localdate())
    assert {v.status for v in verdicts.values()} == set(Status)


def test_demo_has_valid_and_expired_referrals(demo_clients):
    demo.seed()
    today = timezone.localdate()
    referrals = Clearance.objects.filter(kind="referral")
    assert {r.is_valid_on(today) for r in referrals} == {True, False}


def test_demo_runs_again_without_adding_anything(demo_clients):
    demo.seed()
    before = (Screening.objects.count(), Finding.objects.count(), Clearance.objects.count())
    demo.seed()
    assert (Screening.objects.count(), Finding.objects.count(), Clearance.objects.count()) == before


def test_demo_without_clients_does_nothing():
    demo.seed()
    assert Screening.objects.count() == 0


def test_demo_records_pregnancy_only_for_women_of_an_age_to_carry_one():
    today = timezone.localdate()
    women = [ClientFactory(sex="female", birth_date=today.replace(year=today.year - 30)) for _ in range(12)]
    # The seeder's scenarios go round by position; some that would be a pregnancy land on these.
    others = [ClientFactory(sex="female", birth_date=today.replace(year=today.year - 78)) for _ in range(12)]
    others += [ClientFactory(sex="male", birth_date=today.replace(year=today.year - 30)) for _ in range(12)]
    demo.seed()
    pregnant = Client.objects.filter(screenings__findings__contraindication__code="pregnancy").distinct()
    assert pregnant.exists()
    assert all(c.sex == "female" and 20 <= c.age_on(today) <= 42 for c in pregnant)
    assert not set(pregnant) & set(others)
    assert set(pregnant) <= set(women)
