"""The week view of one masseur, and the grid's layout rules."""

import datetime

import pytest
from django.urls import reverse

from sessions.booking import calendar
from sessions.models import Appointment
from tests.factories import MassageTypeFactory, MasseurFactory, RoomFactory, UserFactory, WorkingHoursFactory
from tests.sessions import test_calendar
from tests.sessions.conftest import MONDAY
from tests.sessions.factories import CourseFactory
from tests.sessions.test_calendar import (
    book,
    count_queries,
    local,
    many_appointments,
)

pytestmark = pytest.mark.django_db

booking_pages = test_calendar.booking_pages


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    return frozen_now


@pytest.fixture
def olena(db):
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(display_name="Олена", qualifications=[massage_type])
    WorkingHoursFactory(masseur=masseur, weekday=0, starts=datetime.time(9), ends=datetime.time(13))
    WorkingHoursFactory(masseur=masseur, weekday=2, starts=datetime.time(14), ends=datetime.time(18))
    return masseur


def week_url(masseur=None, day=MONDAY + datetime.timedelta(days=2)) -> str:
    url = reverse("sessions:calendar-week", args=[day.isoformat()])
    return f"{url}?masseur={masseur.pk}" if masseur is not None else url


def test_week_view_has_seven_day_columns_from_monday(reception_client, olena):
    response = reception_client.get(week_url(olena))
    assert response.status_code == 200
    data = response.context["calendar"]
    assert data.monday == MONDAY
    assert [c.day for c in data.grid.columns] == [MONDAY + datetime.timedelta(days=n) for n in range(7)]
    # From the earliest start (Monday 09:00) to the latest end (Wednesday 18:00).
    assert data.grid.rows[0][0] == datetime.time(9)
    assert data.grid.rows[-1][0] == datetime.time(17, 45)


def test_week_view_shows_the_masseurs_appointments_on_their_days_with_marks(reception_client, olena):
    room = RoomFactory()
    course = CourseFactory(planned_sessions=8)
    monday = book(olena, at=local(MONDAY, 9), room=room, client=course.client, massage_type=course.massage_type,
                  course=course)  # fmt: skip
    wednesday = book(
        olena, at=local(MONDAY + datetime.timedelta(days=2), 15), room=room, client=course.client,
        massage_type=course.massage_type, course=course,
    )  # fmt: skip
    other = MasseurFactory()
    book(other, at=local(MONDAY, 11), room=RoomFactory())
    response = reception_client.get(week_url(olena))
    by_day = {
        c.day: [(e.appointment, e.progress) for e in c.entries] for c in response.context["calendar"].grid.columns
    }
    assert by_day[MONDAY] == [(monday, "1/8")]
    assert by_day[MONDAY + datetime.timedelta(days=2)] == [(wednesday, "2/8")]
    assert sum(len(v) for v in by_day.values()) == 2
    page = response.content.decode()
    assert 'data-testid="progress" title="Session of the course">2/8<' in page
    assert response.context["calendar"].count == 2


def test_week_view_lists_cancelled_below(reception_client, olena):
    cancelled = book(olena, at=local(MONDAY, 9), status=Appointment.Status.CANCELLED)
    response = reception_client.get(week_url(olena))
    assert [e.appointment for e in response.context["calendar"].not_live] == [cancelled]


def test_week_view_links_booking_from_empty_cells_of_working_days_only(reception_client, olena, booking_pages):
    response = reception_client.get(week_url(olena))
    grid = response.context["calendar"].grid
    kinds_by_day: dict[datetime.date, set[str]] = {}
    for _time, row in grid.rows:
        for column, cell in zip(grid.columns, row, strict=True):
            kinds_by_day.setdefault(column.day, set()).add(cell.kind)
            if cell.book_url:
                assert f"masseur={olena.pk}&" in cell.book_url
    assert kinds_by_day[MONDAY] == {"free", "closed"}
    assert kinds_by_day[MONDAY + datetime.timedelta(days=1)] == {"closed"}
    assert 'data-testid="book-link"' in response.content.decode()


def test_week_view_links_the_previous_and_next_week_and_each_day(reception_client, olena):
    page = reception_client.get(week_url(olena)).content.decode()
    assert f'href="/sessions/calendar/week/2027-02-22/?masseur={olena.pk}" data-testid="previous-week"' in page
    assert f'href="/sessions/calendar/week/2027-03-08/?masseur={olena.pk}" data-testid="next-week"' in page
    assert 'href="/sessions/calendar/2027-03-03/"' in page


def test_week_view_of_a_masseur_user_defaults_to_their_own_week(client, olena):
    client.force_login(olena.user)
    MasseurFactory(display_name="Аліна")  # first by name, yet not the one shown
    response = client.get(week_url())
    assert response.context["masseur"] == olena
    assert response.context["can_book"] is False


def test_week_view_without_a_date_shows_this_week(reception_client, olena):
    response = reception_client.get(reverse("sessions:calendar-week") + f"?masseur={olena.pk}")
    assert response.status_code == 200
    assert response.context["calendar"].monday == datetime.date(2027, 2, 1)


def test_week_view_without_masseurs_says_so(reception_client):
    response = reception_client.get(week_url())
    assert response.status_code == 200
    assert "No masseurs yet." in response.content.decode()


@pytest.mark.parametrize("masseur", ["999999", "abc", "-1"])
def test_week_view_with_an_unknown_masseur_is_404(reception_client, olena, masseur):
    url = reverse("sessions:calendar-week", args=[MONDAY.isoformat()]) + f"?masseur={masseur}"
    assert reception_client.get(url).status_code == 404


@pytest.mark.parametrize("value", ["2026-13-45", "2027-02-30", "week"])
def test_week_view_with_an_invalid_date_is_404(reception_client, olena, value):
    assert reception_client.get(f"/sessions/calendar/week/{value}/?masseur={olena.pk}").status_code == 404


def test_week_view_is_read_only_for_a_masseur(masseur_client, olena, booking_pages):
    response = masseur_client.get(week_url(olena))
    assert response.status_code == 200
    assert "book-link" not in response.content.decode()


def test_week_view_refuses_a_user_without_the_permission(client, olena):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(week_url(olena)).status_code == 403


def test_week_view_queries_do_not_grow_with_appointments(reception_client, olena, booking_pages):
    book(olena, at=local(MONDAY, 9))
    few = count_queries(reception_client, week_url(olena))
    many_appointments(MONDAY)
    many_appointments(MONDAY + datetime.timedelta(days=2), masseurs=1, per_masseur=3)
    # Twelve more of Олена's, one in every quarter hour from 10:00 to the end of her Monday.
    massage_type = MassageTypeFactory(duration_minutes=10, buffer_minutes=0)
    room = RoomFactory()
    for n in range(12):
        book(olena, at=local(MONDAY, 10) + datetime.timedelta(minutes=15 * n), room=room, massage_type=massage_type)
    many = count_queries(reception_client, week_url(olena))
    assert reception_client.get(week_url(olena)).context["calendar"].count == 13
    assert Appointment.objects.count() > 300
    assert many == few
    assert many <= 13


def test_week_start_is_monday():
    assert calendar.week_start(datetime.date(2027, 3, 7)) == MONDAY
    assert calendar.week_start(MONDAY) == MONDAY
