"""The admin shows appointments, courses and clearances and never changes them: every change goes through
the services, which judge the screening and keep the history."""

import datetime

import pytest
from django.urls import reverse

from screening.models import Clearance
from sessions.models import Appointment, Course
from tests.screening.conftest import make_clearance
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db

TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=datetime.UTC)


def _form(world, **overrides):
    data = {
        "client": world.client.pk,
        "massage_type": world.massage_type.pk,
        "masseur": world.masseur.pk,
        "room": world.room.pk,
        "starts_at_0": "2027-03-01",
        "starts_at_1": "10:00:00",  # local, 08:00Z
        "status": "booked",
        "cancellation_reason": "",
    }
    return data | overrides


def test_admin_cannot_add_an_appointment_past_the_screening(world, manager_client):
    # No screening at all: the booking services would refuse; the admin must not be a way round them.
    response = manager_client.post(reverse("admin:treatments_appointment_add"), _form(world))

    assert response.status_code == 403
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("status", ["booked", "confirmed", "checked_in", "completed"])
def test_admin_cannot_set_the_status_of_an_appointment_on_hold(world, manager_client, status):
    appointment = AppointmentFactory(
        client=world.client, masseur=world.masseur, massage_type=world.massage_type, room=world.room, starts_at=TEN
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.ON_HOLD)
    url = reverse("admin:treatments_appointment_change", args=[appointment.pk])

    response = manager_client.post(url, _form(world, status=status))

    assert response.status_code == 403
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.ON_HOLD


def test_admin_shows_an_appointment_read_only(world, manager_client):
    appointment = AppointmentFactory(
        client=world.client, masseur=world.masseur, massage_type=world.massage_type, room=world.room, starts_at=TEN
    )

    response = manager_client.get(reverse("admin:treatments_appointment_change", args=[appointment.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="status"' not in page
    assert 'name="_save"' not in page
    assert manager_client.get(reverse("admin:treatments_appointment_add")).status_code == 403


def test_admin_cannot_delete_an_appointment(world, manager_client):
    appointment = AppointmentFactory(client=world.client, starts_at=TEN)

    response = manager_client.post(
        reverse("admin:treatments_appointment_delete", args=[appointment.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_admin_cannot_change_a_course(manager_client):
    course = CourseFactory()

    response = manager_client.post(
        reverse("admin:treatments_course_change", args=[course.pk]), {"status": "completed", "planned_sessions": 1}
    )

    assert response.status_code == 403
    assert Course.objects.get(pk=course.pk).status == Course.Status.PLANNED


def test_admin_cannot_change_a_clearance(world, manager_client):
    # Changed outside screening.services, no appointment would be held or released by it.
    clearance = make_clearance(world.client, kind="referral", covers_massage_type=world.massage_type)

    response = manager_client.post(
        reverse("admin:screening_clearance_change", args=[clearance.pk]), {"valid_until": "2030-01-01"}
    )

    assert response.status_code == 403
    assert Clearance.objects.get(pk=clearance.pk).valid_until == datetime.date(2026, 12, 31)


@pytest.mark.parametrize(
    "name", ["treatments_appointment", "treatments_course", "screening_clearance", "screening_contraindication"]
)
def test_admin_lists_what_it_shows(manager_client, name):
    assert manager_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_admin_has_no_screenings_session_logs_or_reminders_to_edit(manager_client):
    for name in ["screening_screening", "treatments_sessionlog", "treatments_reminder", "treatments_hold"]:
        with pytest.raises(Exception, match="NoReverseMatch|not a valid view"):
            reverse(f"admin:{name}_change", args=[1])
