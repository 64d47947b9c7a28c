import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from sessions.models import Appointment, Course
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db

TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=datetime.UTC)


def _violates(name, **kwargs):
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        AppointmentFactory(**kwargs)
    assert name in str(error.value)


def test_appointment_ending_before_it_starts_is_refused_by_the_database():
    _violates("treatments_appointment_ends_after_starts", starts_at=TEN, ends_at=TEN, blocks_until=TEN)


def test_two_live_appointments_of_one_room_cannot_overlap_in_the_database():
    first = AppointmentFactory(starts_at=TEN)
    _violates("treatments_appointment_room_no_overlap", room=first.room, starts_at=TEN + datetime.timedelta(minutes=54))


def test_appointment_starting_when_the_previous_rest_ends_fits_in_the_database():
    first = AppointmentFactory(starts_at=TEN)

    second = AppointmentFactory(room=first.room, masseur=first.masseur, starts_at=first.blocks_until)

    assert second.starts_at == datetime.datetime(2027, 3, 1, 8, 55, tzinfo=datetime.UTC)


def test_no_show_frees_the_masseur_in_the_database():
    first = AppointmentFactory(starts_at=TEN, status=Appointment.Status.NO_SHOW)

    assert AppointmentFactory(masseur=first.masseur, starts_at=TEN).pk


@pytest.mark.parametrize("planned", [0, 31])
def test_course_of_absurd_length_is_refused_by_the_database(planned):
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        CourseFactory(planned_sessions=planned)
    assert "treatments_course_planned_sessions_range" in str(error.value)


def test_course_on_chosen_weekdays_needs_a_weekday_in_the_database():
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        CourseFactory(cadence=Course.Cadence.WEEKDAYS, weekdays=[])
    assert "treatments_course_weekdays_when_chosen" in str(error.value)


def _perms(group_name):
    group = Group.objects.get(name=group_name)
    booking = group.permissions.filter(
        content_type__app_label="treatments", content_type__model__in=["course", "appointment"]
    )
    return {p.codename for p in booking}


def test_roles_get_their_booking_permissions_from_the_data_migration():
    assert _perms("Manager") == {
        f"{action}_{model}" for model in ("course", "appointment") for action in ("add", "change", "delete", "view")
    } | {"override_block"}
    assert _perms("Receptionist") == {
        f"{action}_{model}" for model in ("course", "appointment") for action in ("add", "change", "view")
    }
    assert _perms("Masseur") == {"view_course", "view_appointment"}
