import datetime

import pytest
from django.urls import reverse

from sessions.models import Appointment
from tests.sessions.factories import AppointmentFactory

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
        "override_reason": "",
        "override_by": "",
    }
    return data | overrides


def test_admin_saving_an_overlapping_appointment_shows_a_form_error(world, manager_client):
    AppointmentFactory(masseur=world.masseur, massage_type=world.massage_type, starts_at=TEN)

    response = manager_client.post(reverse("admin:treatments_appointment_add"), _form(world))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["masseur"] == ["Олена already has an appointment at this time."]
    assert Appointment.objects.count() == 1


def test_admin_adds_a_free_appointment_with_its_rest(world, manager_client):
    response = manager_client.post(reverse("admin:treatments_appointment_add"), _form(world))

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.blocks_until == datetime.datetime(2027, 3, 1, 8, 55, tzinfo=datetime.UTC)


def test_admin_lists_courses(manager_client):
    assert manager_client.get(reverse("admin:treatments_course_changelist")).status_code == 200
