"""The calendar and My day as loaded lean: a fixed, small number of queries whatever the days and
appointments shown, and the course progress, flags and overrides that now ride on the appointments query."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from screening.rules import Status
from sessions.booking import calendar
from sessions.care.myday import my_day
from sessions.models import Appointment, Override
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory
from tests.sessions.conftest import MONDAY
from tests.sessions.factories import AppointmentFactory
from tests.sessions.test_calendar import book, count_queries, local
from tests.sessions.test_masseur_support import (
    NOW,
    TODAY,
    at,
    logged_in,
    make_day,
    more_today,
    past_appointment,
    screen,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    # Before the logged-in clients: a session started now must not have expired by the frozen time.
    return frozen_now


# --- the week: verdicts for every day in the same three queries ----------------------------------------


def week_url(masseur) -> str:
    return reverse("sessions:calendar-week", args=[MONDAY.isoformat()]) + f"?masseur={masseur.pk}"


def test_week_view_queries_do_not_grow_with_the_days_booked(reception_client):
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(qualifications=[massage_type])
    book(masseur, at=local(MONDAY, 9), massage_type=massage_type)
    one_day = count_queries(reception_client, week_url(masseur))
    for offset in range(7):
        for hour in (11, 13, 15):
            book(masseur, at=local(MONDAY + datetime.timedelta(days=offset), hour), massage_type=massage_type)

    with CaptureQueriesContext(connection) as captured:
        response = reception_client.get(week_url(masseur))

    assert response.context["calendar"].count == 22
    assert len({c.day for c in response.context["calendar"].grid.columns if c.entries}) == 7
    assert len(captured) == one_day
    # Before: three queries a day for the verdicts (31 for a full week).
    assert len(captured) <= 13


def test_week_view_judges_each_day_as_that_day(reception_client):
    """A client screened on Wednesday is judged on the old screening before and on the new one after."""
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(qualifications=[massage_type])
    client = ClientFactory()
    screen(client, "oncology", taken_at=local(MONDAY, 7) - datetime.timedelta(days=3))
    screen(client, "high-blood-pressure", taken_at=local(MONDAY + datetime.timedelta(days=2), 7))
    for offset in (0, 2, 4):
        book(masseur, at=local(MONDAY + datetime.timedelta(days=offset), 9), client=client, massage_type=massage_type)

    response = reception_client.get(week_url(masseur))

    statuses = {c.day: [str(e.verdict.status) for e in c.entries] for c in response.context["calendar"].grid.columns}
    assert statuses[MONDAY] == [Status.BLOCKED]
    assert statuses[MONDAY + datetime.timedelta(days=2)] == [Status.ADAPTED]
    assert statuses[MONDAY + datetime.timedelta(days=4)] == [Status.ADAPTED]


# --- the day: entries described once ------------------------------------------------------------------


def test_day_entries_carry_their_display_strings(reception_client):
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15, name_en="Classic")
    masseur = MasseurFactory(display_name="Олена", qualifications=[massage_type])
    client = ClientFactory(full_name="Ірина Шевченко", phone="+380671234567")
    appointment = book(masseur, at=local(MONDAY, 9), client=client, room=RoomFactory(name="Кімната 2"),
                       massage_type=massage_type)  # fmt: skip

    response = reception_client.get(reverse("sessions:calendar-day", args=[MONDAY.isoformat()]))

    [entry] = response.context["calendar"].grid.columns[0].entries
    assert (entry.times, entry.client_name, entry.type_name, entry.room_name) == (
        "09:00–09:40",
        "Ірина Шевченко",
        "Classic",
        "Кімната 2",
    )
    assert entry.client_url == client.get_absolute_url()
    assert entry.url == appointment.get_absolute_url()
    assert entry.move_url == reverse("sessions:appointment-move", args=[appointment.pk])
    assert entry.client_phone == "+380 67 123 4567"
    assert entry.rest_until.endswith("09:55")
    html = response.content.decode()
    assert "+380 67 123 4567" in html  # the printed day sheet
    assert f'data-move-url="{entry.move_url}"' in html


def test_pk_url_maker_gives_what_reverse_gives():
    make = calendar.pk_url_maker("sessions:appointment-detail")
    assert [make(pk) for pk in (1, 42, 2147483646)] == [
        reverse("sessions:appointment-detail", args=[pk]) for pk in (1, 42, 2147483646)
    ]
    assert calendar.pk_url_maker("sessions:no-such-page") is None


def test_international_phone_formats_as_the_phone_field_does():
    assert calendar.international_phone("+380671234567") == "+380 67 123 4567"
    assert calendar.international_phone("") == ""


# --- My day: progress, course start and overrides from the appointments query ----------------------------


def test_my_day_numbers_sessions_among_the_courses_live_ones_only():
    day = make_day()
    past_appointment(day, days_ago=3, status=Appointment.Status.CANCELLED)
    past_appointment(day, days_ago=2, status=Appointment.Status.COMPLETED)

    [row] = my_day(masseur=day.masseur, day=TODAY)

    assert (row.session_number, row.planned) == (2, 10)


def test_my_day_lifts_only_the_blocks_an_override_covers():
    day = make_day()
    screen(day.client, "oncology", taken_at=at(0, 8))
    covered = day.appointment
    uncovered = AppointmentFactory(
        client=day.client, massage_type=day.massage_type, masseur=day.masseur, room=day.room, starts_at=at(0, 15)
    )
    Override.objects.create(appointment=covered, covers=["oncology"], reason="Дозвіл онколога", by=day.user)

    rows = {row.appointment.pk: row for row in my_day(masseur=day.masseur, day=TODAY)}

    assert rows[covered.pk].verdict.status != Status.BLOCKED
    assert [b.code for b in rows[covered.pk].verdict.overridden_blockers] == ["oncology"]
    assert rows[uncovered.pk].verdict.status == Status.BLOCKED


@pytest.mark.parametrize("count", [1, 8])
def test_my_day_selector_takes_four_queries_whatever_the_count(count, django_assert_num_queries):
    day = make_day()
    more_today(day, count)

    # The appointments (with flags, progress, course start, overrides), screenings, findings, clearances.
    with django_assert_num_queries(4):
        rows = my_day(masseur=day.masseur, day=TODAY)

    assert len(rows) == count + 1


def test_my_day_page_shows_the_rows_links():
    day = make_day()

    with time_machine.travel(NOW, tick=False):
        html = logged_in(day.user).get(reverse("sessions:my-day")).content.decode()

    assert f'href="{day.client.get_absolute_url()}"' in html
    assert f'href="{reverse("sessions:appointment-review", args=[day.appointment.pk])}"' in html
    assert "12:00–12:40" in html
