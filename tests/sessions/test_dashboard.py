"""The reception panel on the dashboard."""

import datetime

import pytest
from django.urls import reverse

from sessions.models import Appointment, Course
from tests.factories import MasseurFactory, RoomFactory, UserFactory
from tests.sessions import test_calendar
from tests.sessions.factories import CourseFactory
from tests.sessions.test_calendar import (
    book,
    count_queries,
    local,
    many_appointments,
)

pytestmark = pytest.mark.django_db

booking_pages = test_calendar.booking_pages

# frozen_now is 2027-02-01 10:00Z, 12:00 in Kyiv.
TODAY = datetime.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    return frozen_now


@pytest.fixture
def masseur():
    return MasseurFactory(display_name="Олена")


def panel(response):
    [(template_name, context)] = [p for p in response.context["panels"] if p[0] == "sessions/_dashboard_reception.html"]
    return context["data"]


def test_panel_lists_todays_appointments_without_the_cancelled(reception_client, masseur):
    course = CourseFactory(planned_sessions=10)
    morning = book(masseur, at=local(TODAY, 9), status=Appointment.Status.COMPLETED, client=course.client,
                   massage_type=course.massage_type, course=course)  # fmt: skip
    evening = book(masseur, at=local(TODAY, 18), room=RoomFactory(name="Кабінет 7"))
    book(masseur, at=local(TODAY, 15), status=Appointment.Status.CANCELLED)
    book(masseur, at=local(TODAY + datetime.timedelta(days=1), 9))
    response = reception_client.get(reverse("parlor:dashboard"))
    data = panel(response)
    assert [(e.appointment, e.progress) for e in data.today] == [(morning, "1/10"), (evening, "")]
    page = response.content.decode()
    assert 'data-testid="reception-panel"' in page
    assert "Кабінет 7" in page
    assert ">completed<" in page


def test_panel_lists_appointments_on_hold_from_today_on(reception_client, masseur):
    book(masseur, at=local(TODAY - datetime.timedelta(days=1), 9), status=Appointment.Status.ON_HOLD)
    today = book(masseur, at=local(TODAY, 9), status=Appointment.Status.ON_HOLD)
    later = book(masseur, at=local(TODAY + datetime.timedelta(days=5), 9), status=Appointment.Status.ON_HOLD)
    book(masseur, at=local(TODAY + datetime.timedelta(days=6), 9), status=Appointment.Status.BOOKED)
    data = panel(reception_client.get(reverse("parlor:dashboard")))
    assert [e.appointment for e in data.on_hold] == [today, later]


def test_panel_lists_courses_with_sessions_still_to_book(reception_client, masseur):
    short = CourseFactory(planned_sessions=3)
    room = RoomFactory()
    for day, status in ((1, Appointment.Status.BOOKED), (2, Appointment.Status.CANCELLED),
                        (3, Appointment.Status.NO_SHOW)):  # fmt: skip
        book(masseur, at=local(TODAY + datetime.timedelta(days=day), 9), client=short.client, room=room,
             massage_type=short.massage_type, course=short, status=status)  # fmt: skip
    full = CourseFactory(planned_sessions=1)
    book(masseur, at=local(TODAY + datetime.timedelta(days=4), 9), client=full.client, room=room,
         massage_type=full.massage_type, course=full)  # fmt: skip
    CourseFactory(planned_sessions=5, status=Course.Status.CANCELLED)
    CourseFactory(planned_sessions=5, status=Course.Status.COMPLETED)
    empty_active = CourseFactory(planned_sessions=5, status=Course.Status.ACTIVE)
    data = panel(reception_client.get(reverse("parlor:dashboard")))
    assert [(row.course, row.booked, row.to_book) for row in data.courses] == [(short, 1, 2), (empty_active, 0, 5)]


def test_panel_links_courses_and_appointments_once_their_pages_exist(reception_client, masseur, booking_pages):
    course = CourseFactory(planned_sessions=3)
    appointment = book(masseur, at=local(TODAY, 14), client=course.client, massage_type=course.massage_type,
                       course=course)  # fmt: skip
    page = reception_client.get(reverse("parlor:dashboard")).content.decode()
    assert f'href="{reverse("sessions:course-detail", args=[course.pk])}"' in page
    assert f'href="{reverse("sessions:appointment-detail", args=[appointment.pk])}"' in page


def test_panel_renders_without_links_while_those_pages_do_not_exist(reception_client, masseur, monkeypatch):
    monkeypatch.setattr("sessions.booking.calendar.reverse", _no_reverse)
    course = CourseFactory(planned_sessions=3)
    book(masseur, at=local(TODAY, 14), client=course.client, massage_type=course.massage_type, course=course)
    response = reception_client.get(reverse("parlor:dashboard"))
    assert response.status_code == 200
    data = panel(response)
    assert data.today[0].url is None
    assert data.courses[0].url is None


def _no_reverse(name, args=None, **kwargs):
    from django.urls import NoReverseMatch

    raise NoReverseMatch(name)


def test_panel_is_for_the_manager_too(manager_client):
    assert 'data-testid="reception-panel"' in manager_client.get(reverse("parlor:dashboard")).content.decode()


def test_panel_is_not_for_a_masseur_or_a_user_without_permissions(masseur_client, client):
    assert 'data-testid="reception-panel"' not in masseur_client.get(reverse("parlor:dashboard")).content.decode()
    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("parlor:dashboard"))
    assert response.status_code == 200
    assert 'data-testid="reception-panel"' not in response.content.decode()


def test_panel_queries_do_not_grow_with_appointments(reception_client, masseur, booking_pages):
    course = CourseFactory(planned_sessions=3)
    book(masseur, at=local(TODAY, 14), client=course.client, massage_type=course.massage_type, course=course)
    book(masseur, at=local(TODAY, 16), status=Appointment.Status.ON_HOLD)
    few = count_queries(reception_client, reverse("parlor:dashboard"))
    many_appointments(TODAY)
    Appointment.objects.filter(starts_at__gte=local(TODAY, 17)).update(status=Appointment.Status.ON_HOLD)
    many = count_queries(reception_client, reverse("parlor:dashboard"))
    data = panel(reception_client.get(reverse("parlor:dashboard")))
    assert len(data.today) == 302
    assert len(data.on_hold) == 31
    assert len(data.courses) == 151
    assert many == few
