import datetime
import uuid

import pytest
from django.utils import timezone

from screening import services
from screening.models import Clearance, Contraindication
from tests.factories import ClientFactory

KYIV = timezone.get_fixed_timezone(120)


@pytest.fixture
def catalogue(db):
    return {c.code: c for c in Contraindication.objects.all()}


@pytest.fixture
def record(catalogue):
    """record(client, "high-blood-pressure", ..., taken_at=..., details={code: {...}}, notes={code: "..."})."""

    def _record(client, *codes, taken_at=None, details=None, notes=None, taken_by=None):
        details, notes = details or {}, notes or {}
        return services.screening_record(
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


def make_clearance(client, **overrides) -> Clearance:
    values = {
        "kind": Clearance.Kind.PERMISSION,
        "doctor_name": "Д-р Савченко",
        "issued_on": datetime.date(2026, 11, 1),
        "valid_until": datetime.date(2026, 12, 31),
    }
    values.update(overrides)
    return Clearance.objects.create(client=client, **values)
