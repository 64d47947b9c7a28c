import datetime
import uuid

import pytest
from django.utils import timezone

from screening import services
from screening.models import Clearance, Contraindication
from tests.factories import ClientFactory, MasseurFactory
from tests.sessions.factories import AppointmentFactory

KYIV = timezone.get_fixed_timezone(120)


@pytest.fixture
def catalogue(db):
    return {c.code: c for c in Contraindication.objects.all()}


@pytest.fixture
def record(catalogue):
    """record(client, "high-blood-pressure", ..., taken_at=..., details={code: {...}}, notes={code: "..."})."""

    def _record(client, *codes, taken_at=None, details=None, notes=None, taken_by=None, source="staff"):
        details, notes = details or {}, notes or {}
        return services.screening_record(
            source=source,
            client=client,
            answers={"questions": {code: {"answer": True} for code in codes}},
            findings=[
                services.FindingInput(
                    contraindication=catalogue[code], note=notes.get(code, ""), details=details.get(code, {})
                )
                for code in codes
            ],
            taken_by=taken_by,
            submission_key=uuid.uuid4(),
            taken_at=taken_at or timezone.now(),
        )

    return _record


@pytest.fixture
def client_record(db):
    return ClientFactory(full_name="Марія Тестова")


@pytest.fixture
def masseur_profile(masseur_user):
    """masseur_user's parlor.Masseur: a masseur sees the health records of the clients booked with them."""
    return MasseurFactory(user=masseur_user, display_name="Андрій Масажист")


def book(client, masseur, status="booked", starts_at=None):
    """An appointment of the client with the masseur, straight to the table; distinct times keep
    several of one client clear of the no-overlap constraints."""
    values = {"starts_at": starts_at} if starts_at else {}
    return AppointmentFactory(client=client, masseur=masseur, status=status, **values)


@pytest.fixture
def booked(masseur_profile, client_record):
    """client_record has an appointment with masseur_user, so the masseur may see the record."""
    return book(client_record, masseur_profile)


def make_clearance(client, **overrides) -> Clearance:
    values = {
        "kind": Clearance.Kind.PERMISSION,
        "doctor_name": "Д-р Савченко",
        "issued_on": datetime.date(2026, 11, 1),
        "valid_until": datetime.date(2026, 12, 31),
    }
    values.update(overrides)
    return Clearance.objects.create(client=client, **values)
