"""The day view: columns, entries and their marks, booking from an empty cell, bad input, permissions, queries."""

import datetime
import uuid

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

import parlor.urls
from clients.models import Client
from parlor.models import Room, WorkingHours
from screening import services as screening_services
from screening.models import Contraindication
from sessions import urls as sessions_urls
from sessions.booking import calendar
from sessions.models import Appointment, Course
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    TimeOffFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.conftest import MONDAY, UTC
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen(frozen_now):
    # Before the logged-in clients: a session started now must not have expired by the frozen time.
    return frozen_now


# --- A URL configuration with the booking pages, for while they are built elsewhere -----------------


def _stand_in(request, *args, **kwargs):
    return HttpResponse("stand-in")


_sessions = (
    [
        *sessions_urls.urlpatterns,
        path("stand-in/book/", _stand_in, name="appointment-book"),
        path("stand-in/appointments/<int:pk>/", _stand_in, name="appointment-detail"),
        path("stand-in/courses/<int:pk>/", _stand_in, name="course-detail"),
    ],
    "sessions",
)
urlpatterns = [
    path("sessions/", include(_sessions)) if getattr(p, "pattern", None) and str(p.pattern) == "sessions/" else p
    for p in parlor.urls.urlpatterns
]


@pytest.fixture
def booking_pages(settings):
    """The real URLs plus stand-ins for the booking pages' names, so the links can be checked."""
    settings.ROOT_URLCONF = __name__


# --- Helpers --------------------------------------------------------------------------------------


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A Kyiv wall-clock time on a winter day (UTC+2) as a UTC instant."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - datetime.timedelta(hours=2)


def day_url(day: datetime.date = MONDAY, **params) -> str:
    url = reverse("sessions:calendar-day", args=[day.isoformat()])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def book(masseur, *, at, client=None, room=None, massage_type=None, **extra) -> Appointment:
    massage_type = massage_type or MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    return AppointmentFactory(
        masseur=masseur,
        client=client or ClientFactory(),
        room=room or RoomFactory(),
        massage_type=massage_type,
        starts_at=at,
        **extra,
    )


def record_screening(client, *codes, taken_at):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[screening_services.FindingInput(contraindication=catalogue[code]) for code in codes],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=taken_at,
    )


@pytest.fixture
def staff(db, frozen_now):
    """Two masseurs working Mondays 09:00-13:00, one working only on Tuesdays, one no longer working."""
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15, name_en="Classic back")
    olena = MasseurFactory(display_name="Олена", qualifications=[massage_type])
    petro = MasseurFactory(display_name="Петро", qualifications=[massage_type])
    tuesday = MasseurFactory(display_name="Вівторок")
    gone = MasseurFactory(display_name="Звільнений", is_active=False)
    for masseur in (olena, petro, gone):
        WorkingHoursFactory(masseur=masseur, weekday=0, starts=datetime.time(9), ends=datetime.time(13))
    WorkingHoursFactory(masseur=tuesday, weekday=1)
    room_a, room_b = RoomFactory(name="Room A"), RoomFactory(name="Room B")
    return {"type": massage_type, "olena": olena, "petro": petro, "rooms": [room_a, room_b]}


def columns(response) -> list[str]:
    return [column.key for column in response.context["calendar"].grid.columns]


def cells(response):
    return [cell for _time, row in response.context["calendar"].grid.rows for cell in row]


# --- Columns and entries --------------------------------------------------------------------------


def test_day_view_has_a_column_per_active_masseur_working_that_day(reception_client, staff):
    response = reception_client.get(day_url())
    assert response.status_code == 200
    assert columns(response) == [f"masseur-{staff['olena'].pk}", f"masseur-{staff['petro'].pk}"]
    grid = response.context["calendar"].grid
    assert [time for time, _cells in grid.rows][0] == datetime.time(9, 0)
    assert [time for time, _cells in grid.rows][-1] == datetime.time(12, 45)
    assert len(grid.rows) == 16


def test_day_view_entry_shows_client_type_course_progress_and_status(reception_client, staff):
    client = ClientFactory(full_name="Марія Курсова")
    course = CourseFactory(client=client, massage_type=staff["type"], planned_sessions=10)
    room = staff["rooms"][0]
    for days_before in (4, 3, 2):
        book(
            staff["olena"], at=local(MONDAY - datetime.timedelta(days=days_before), 9), client=client, room=room,
            massage_type=staff["type"], course=course, status=Appointment.Status.COMPLETED,
        )  # fmt: skip
    book(
        staff["olena"], at=local(MONDAY - datetime.timedelta(days=1), 9), client=client, room=room,
        massage_type=staff["type"], course=course, status=Appointment.Status.CANCELLED,
    )  # fmt: skip
    appointment = book(
        staff["olena"], at=local(MONDAY, 10), client=client, room=room, massage_type=staff["type"], course=course,
        status=Appointment.Status.CONFIRMED,
    )  # fmt: skip

    response = reception_client.get(day_url())

    [entry_cell] = [cell for cell in cells(response) if cell.kind == "appointment"]
    assert entry_cell.entry.appointment == appointment
    assert entry_cell.entry.progress == "4/10"
    # 10:00 to the end of the rest at 10:55: four rows of 15 minutes.
    assert entry_cell.rowspan == 4
    page = response.content.decode()
    assert "Марія Курсова" in page
    assert "Classic back" in page
    assert 'data-testid="progress" title="Session of the course">4/10<' in page
    assert 'data-status="confirmed"' in page
    assert ">confirmed<" in page


def test_day_view_puts_each_entry_in_its_masseurs_column(reception_client, staff):
    first = book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0])
    second = book(staff["petro"], at=local(MONDAY, 9), room=staff["rooms"][1])
    response = reception_client.get(day_url())
    by_column = {c.key: [e.appointment for e in c.entries] for c in response.context["calendar"].grid.columns}
    assert by_column == {f"masseur-{staff['olena'].pk}": [first], f"masseur-{staff['petro'].pk}": [second]}


def test_day_view_shows_a_masseur_off_all_day_only_with_bookings(reception_client, staff):
    TimeOffFactory(masseur=staff["petro"], starts_at=local(MONDAY, 0), ends_at=local(MONDAY, 23))
    response = reception_client.get(day_url())
    assert columns(response) == [f"masseur-{staff['olena'].pk}"]


def test_day_view_closes_cells_in_partial_time_off(reception_client, staff):
    TimeOffFactory(masseur=staff["olena"], starts_at=local(MONDAY, 11), ends_at=local(MONDAY, 12))
    response = reception_client.get(day_url())
    grid = response.context["calendar"].grid
    olena = [row[0] for _time, row in grid.rows]
    kinds = {cell.starts_at: cell.kind for cell in olena}
    assert kinds[local(MONDAY, 10, 45)] == "free"
    assert kinds[local(MONDAY, 11)] == "closed"
    assert kinds[local(MONDAY, 11, 45)] == "closed"
    assert kinds[local(MONDAY, 12)] == "free"


def test_day_view_marks_an_adapted_verdict(reception_client, staff, frozen_now):
    client = ClientFactory(full_name="Тиск Високий")
    record_screening(client, "high-blood-pressure", taken_at=frozen_now)
    book(staff["olena"], at=local(MONDAY, 9), client=client, room=staff["rooms"][0])
    response = reception_client.get(day_url())
    [entry] = response.context["calendar"].grid.columns[0].entries
    assert str(entry.verdict.status) == "adapted"
    assert entry.verdict_marked
    assert 'data-testid="verdict-badge" data-status="adapted"' in response.content.decode()


def test_day_view_marks_a_blocked_verdict(reception_client, staff, frozen_now):
    client = ClientFactory()
    record_screening(client, "thrombosis", taken_at=frozen_now)
    book(staff["olena"], at=local(MONDAY, 9), client=client, room=staff["rooms"][0])
    page = reception_client.get(day_url()).content.decode()
    assert 'data-status="blocked"' in page


def test_day_view_leaves_an_allowed_client_unmarked(reception_client, staff, frozen_now):
    client = ClientFactory()
    record_screening(client, taken_at=frozen_now)
    book(staff["olena"], at=local(MONDAY, 9), client=client, room=staff["rooms"][0])
    response = reception_client.get(day_url())
    [entry] = response.context["calendar"].grid.columns[0].entries
    assert str(entry.verdict.status) == "allowed"
    assert "verdict-badge" not in response.content.decode()


def test_day_view_marks_an_open_flag_and_not_an_acknowledged_one(reception_client, staff, frozen_now):
    try:
        flag_model = apps.get_model("treatments", "Flag")
    except LookupError:
        pytest.skip("no flags yet")
    flagged = book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0])
    calm = book(staff["petro"], at=local(MONDAY, 9), room=staff["rooms"][1])
    flag_model.objects.create(appointment=flagged, kind="added", what_changed="-", change_key="a")
    flag_model.objects.create(appointment=flagged, kind="changed", what_changed="-", change_key="b")
    flag_model.objects.create(
        appointment=calm, kind="added", what_changed="-", change_key="c", acknowledged_at=frozen_now
    )
    response = reception_client.get(day_url())
    flags = {e.appointment: e.open_flags for c in response.context["calendar"].grid.columns for e in c.entries}
    assert flags == {flagged: 2, calm: 0}
    assert response.content.decode().count('data-testid="flag-mark"') == 1


def test_day_view_lists_cancelled_and_no_shows_struck_through_below_the_grid(reception_client, staff):
    live = book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0])
    cancelled = book(
        staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][1], status=Appointment.Status.CANCELLED,
        cancellation_reason="Захворіла",
    )  # fmt: skip
    response = reception_client.get(day_url())
    assert [e.appointment for e in response.context["calendar"].grid.columns[0].entries] == [live]
    assert [e.appointment for e in response.context["calendar"].not_live] == [cancelled]
    page = response.content.decode()
    assert f'<li class="text-muted" data-appointment="{cancelled.pk}"><del>' in page
    assert "Захворіла" in page
    assert response.context["calendar"].count == 1


def test_day_view_keeps_rows_apart_for_appointments_off_the_grid(reception_client, staff):
    # 09:00-09:40 + 15 rest ends 09:55; the next starts at 09:55: rounded rows must not overlap.
    first = book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0])
    second = book(staff["olena"], at=local(MONDAY, 9, 55), room=staff["rooms"][0], massage_type=first.massage_type)
    response = reception_client.get(day_url())
    placed = [(c.entry.appointment, c.starts_at, c.rowspan) for c in cells(response) if c.kind == "appointment"]
    assert placed == [(first, local(MONDAY, 9), 4), (second, local(MONDAY, 10), 3)]
    # Every row has one cell per column once the taller cells are counted.
    grid = response.context["calendar"].grid
    covered = [0] * len(grid.rows)
    for index, (_time, row) in enumerate(grid.rows):
        for cell in row:
            for r in range(index, index + cell.rowspan):
                covered[r] += 1
    assert covered == [2] * len(grid.rows)


# --- Booking from an empty cell -------------------------------------------------------------------


def test_day_view_empty_cell_links_to_booking_with_masseur_room_and_start(reception_client, staff, booking_pages):
    room_a, room_b = staff["rooms"]
    book(staff["petro"], at=local(MONDAY, 10), room=room_a)
    response = reception_client.get(day_url())
    olena = staff["olena"]
    by_start = {
        cell.starts_at: cell.book_url for _time, row in response.context["calendar"].grid.rows for cell in row[:1]
    }
    base = reverse("sessions:appointment-book")
    # Room A is busy 10:00-10:55, so a session from 09:30 (an hour with rest) gets room B.
    assert (
        by_start[local(MONDAY, 9)]
        == f"{base}?masseur={olena.pk}&room={room_a.pk}&starts_at=2027-03-01T09%3A00%3A00%2B02%3A00"
    )
    assert (
        by_start[local(MONDAY, 9, 30)]
        == f"{base}?masseur={olena.pk}&room={room_b.pk}&starts_at=2027-03-01T09%3A30%3A00%2B02%3A00"
    )
    assert 'data-testid="book-link"' in response.content.decode()


def test_day_view_empty_cell_without_a_free_room_links_without_a_room(reception_client, staff, booking_pages):
    room_a, room_b = staff["rooms"]
    book(staff["petro"], at=local(MONDAY, 10), room=room_a)
    other = MasseurFactory()
    book(other, at=local(MONDAY, 10), room=room_b)
    response = reception_client.get(day_url())
    cell = next(c for c in cells(response) if c.starts_at == local(MONDAY, 10) and c.kind == "free")
    assert "room=" not in cell.book_url
    assert f"masseur={staff['olena'].pk}" in cell.book_url


def test_day_view_offers_no_booking_in_the_past(reception_client, staff, booking_pages, frozen_now):
    past_monday = datetime.date(2027, 1, 25)
    response = reception_client.get(day_url(past_monday))
    assert {c.kind for c in cells(response)} == {"past"}
    assert "book-link" not in response.content.decode()


def test_day_view_room_view_has_a_column_per_room_and_links_with_a_free_masseur(reception_client, staff, booking_pages):
    room_a, room_b = staff["rooms"]
    entry = book(staff["olena"], at=local(MONDAY, 9), room=room_a)
    Room.objects.create(name="Closed room", is_active=False)
    response = reception_client.get(day_url(by="rooms"))
    assert columns(response) == [f"room-{room_a.pk}", f"room-{room_b.pk}"]
    assert [e.appointment for e in response.context["calendar"].grid.columns[0].entries] == [entry]
    cell = next(c for c in cells(response) if c.starts_at == local(MONDAY, 9) and c.kind == "free")
    # Олена is busy at 09:00; Петро is free.
    assert f"masseur={staff['petro'].pk}&room={room_b.pk}&" in cell.book_url
    assert 'data-testid="by-rooms"' in response.content.decode()


def test_url_maker_gives_none_for_a_page_that_does_not_exist():
    assert calendar.url_maker("sessions:no-such-page")(1) is None
    assert calendar.url_maker("sessions:calendar-day")("2027-03-01") == "/sessions/calendar/2027-03-01/"


def test_day_view_entry_links_to_the_appointment_page(reception_client, staff, booking_pages):
    appointment = book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0])
    page = reception_client.get(day_url()).content.decode()
    assert f'href="{reverse("sessions:appointment-detail", args=[appointment.pk])}"' in page


# --- Navigation between days ----------------------------------------------------------------------


def test_day_view_links_the_previous_and_next_day(reception_client, staff):
    page = reception_client.get(day_url()).content.decode()
    assert 'href="/sessions/calendar/2027-02-28/" data-testid="previous-day"' in page
    assert 'href="/sessions/calendar/2027-03-02/" data-testid="next-day"' in page


def test_day_view_without_a_date_shows_today(reception_client, frozen_now):
    response = reception_client.get(reverse("sessions:calendar-day"))
    assert response.status_code == 200
    assert response.context["day"] == datetime.date(2027, 2, 1)


def test_date_picker_goes_to_the_chosen_day(reception_client, frozen_now):
    response = reception_client.get(reverse("sessions:calendar-day") + "?date=2027-03-01&by=rooms")
    assert response.status_code == 302
    assert response.url == "/sessions/calendar/2027-03-01/"


def test_date_picker_with_a_bad_date_shows_today_with_a_message(reception_client, frozen_now):
    response = reception_client.get(reverse("sessions:calendar-day") + "?date=2027-02-30", follow=True)
    assert response.status_code == 200
    assert response.context["day"] == datetime.date(2027, 2, 1)
    assert "“2027-02-30” is not a date; showing today." in response.content.decode()


@pytest.mark.parametrize("value", ["2026-13-45", "2027-02-29", "tomorrow", "0001-01-01", "9999-12-31"])
def test_day_view_with_an_invalid_date_is_404(reception_client, value):
    assert reception_client.get(f"/sessions/calendar/{value}/").status_code == 404


# --- Permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["reception_client", "manager_client"])
def test_day_view_lets_bookers_book(request, who, staff, booking_pages):
    response = request.getfixturevalue(who).get(day_url())
    assert response.status_code == 200
    assert response.context["can_book"] is True
    assert 'data-testid="book-link"' in response.content.decode()


def test_day_view_is_read_only_for_a_masseur(masseur_client, staff, booking_pages):
    book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0])
    response = masseur_client.get(day_url())
    assert response.status_code == 200
    assert response.context["can_book"] is False
    page = response.content.decode()
    assert "book-link" not in page
    assert "Read-only: you cannot book." in page
    assert 'data-testid="calendar-entry"' in page


def test_day_view_refuses_a_user_without_the_permission(client, db):
    client.force_login(UserFactory(username="nobody"))
    assert client.get(day_url()).status_code == 403
    assert client.get(reverse("sessions:calendar-day")).status_code == 403


def test_day_view_sends_an_anonymous_visitor_to_log_in(client, db):
    response = client.get(day_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_navigation_shows_the_calendar_to_those_who_may_see_it(reception_client, masseur_client, client, db):
    assert 'data-testid="nav-calendar"' in reception_client.get(reverse("parlor:dashboard")).content.decode()
    assert 'data-testid="nav-calendar"' in masseur_client.get(reverse("parlor:dashboard")).content.decode()
    client.force_login(UserFactory(username="nobody"))
    assert 'data-testid="nav-calendar"' not in client.get(reverse("parlor:dashboard")).content.decode()


# --- Queries --------------------------------------------------------------------------------------


def many_appointments(day: datetime.date, *, masseurs: int = 30, per_masseur: int = 10) -> None:
    """30 masseurs working 08:00-20:00, a room each, ten hourly sessions each, half of them in courses."""
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    staff = [MasseurFactory(qualifications=[massage_type]) for _ in range(masseurs)]
    WorkingHours.objects.bulk_create(
        WorkingHours(masseur=m, weekday=day.weekday(), starts=datetime.time(8), ends=datetime.time(20)) for m in staff
    )
    rooms = Room.objects.bulk_create(Room(name=f"Bulk room {day} {n}") for n in range(masseurs))
    clients = Client.objects.bulk_create(
        Client(
            full_name=f"Bulk client {day} {n}",
            phone=f"+380{day.day:02d}{n:07d}",
            birth_date=datetime.date(1980, 1, 1),
            sex=Client.Sex.FEMALE,
            data_consent_at=local(day, 0),
        )
        for n in range(masseurs * per_masseur)
    )
    booker = get_user_model().objects.first()
    courses = Course.objects.bulk_create(
        Course(client=c, massage_type=massage_type, indication="back_pain", planned_sessions=10) for c in clients[::2]
    )
    course_of = {course.client_id: course for course in courses}
    rows = []
    for m_index, masseur in enumerate(staff):
        for slot in range(per_masseur):
            client = clients[m_index * per_masseur + slot]
            starts_at = local(day, 8 + slot)
            rows.append(
                Appointment(
                    client=client, masseur=masseur, room=rooms[m_index], massage_type=massage_type,
                    starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=40),
                    blocks_until=starts_at + datetime.timedelta(minutes=55), course=course_of.get(client.pk),
                    booked_by=booker,
                    status=Appointment.Status.CANCELLED if slot == 9 else Appointment.Status.BOOKED,
                )
            )  # fmt: skip
    Appointment.objects.bulk_create(rows)


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("by", ["masseurs", "rooms"])
def test_day_view_queries_do_not_grow_with_appointments(reception_client, staff, booking_pages, by):
    book(staff["olena"], at=local(MONDAY, 9), room=staff["rooms"][0], course=None)
    few = count_queries(reception_client, day_url(by=by))
    many_appointments(MONDAY)
    assert Appointment.objects.count() == 301
    many = count_queries(reception_client, day_url(by=by))
    response = reception_client.get(day_url(by=by))
    assert response.context["calendar"].count == 271
    assert many == few
    # Lean entries: the flags, the course's planned count and the findings need no query of their own.
    assert many <= 11
