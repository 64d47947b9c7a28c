"""Booking against the real screening rules (screening.selectors.verdict_for), not the fake verdict."""

import datetime
import uuid

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from screening import services as screening_services
from screening.models import Contraindication
from sessions.booking.services import appointment_book
from sessions.models import Appointment

pytestmark = pytest.mark.django_db

TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=datetime.UTC)


@pytest.fixture
def real_verdict(monkeypatch):
    # Undo the suite's fake verdict: these tests ask screening itself.
    monkeypatch.undo()


def _screen(client, *codes):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[
            screening_services.FindingInput(contraindication=catalogue[code], note="", details={}) for code in codes
        ],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=timezone.now(),
    )


def _book(world, **overrides):
    arguments = {
        "client": world.client,
        "massage_type": world.massage_type,
        "masseur": world.masseur,
        "room": world.room,
        "starts_at": TEN,
        "booked_by": world.user,
    }
    return appointment_book(**(arguments | overrides))


def test_booking_without_any_screening_is_refused(world, real_verdict):
    with pytest.raises(ValidationError) as error:
        _book(world)

    assert error.value.message_dict[NON_FIELD_ERRORS][0].startswith("The client needs an up-to-date screening first")
    assert not Appointment.objects.exists()


def test_booking_after_a_clean_screening_is_allowed(world, real_verdict):
    _screen(world.client)

    assert _book(world).status == Appointment.Status.BOOKED


def test_booking_with_an_absolute_contraindication_is_refused_to_a_receptionist(world, real_verdict):
    _screen(world.client, "oncology")

    with pytest.raises(ValidationError) as error:
        _book(world, override_reason="she insists")

    assert error.value.message_dict[NON_FIELD_ERRORS][0].startswith("Massage is contraindicated")
    assert error.value.message_dict[NON_FIELD_ERRORS][0].endswith("only a manager may override.")


def test_booking_with_an_absolute_contraindication_is_overridden_by_a_manager_with_a_reason(
    world, real_verdict, manager
):
    _screen(world.client, "oncology")

    appointment = _book(world, booked_by=manager, override_reason="Oncologist's letter of 2027-02-01 allows it")

    override = appointment.overrides.get()
    # What blocked, who, when, why.
    assert (override.covers, override.covers_names, override.by, override.reason) == (
        ["oncology"],
        ["Oncological disease"],
        manager,
        "Oncologist's letter of 2027-02-01 allows it",
    )
    assert override.at <= timezone.now()
