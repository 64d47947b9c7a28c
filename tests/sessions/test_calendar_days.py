"""The calendars and the parlor's days (issue 12): public holidays marked, closed days closed to booking but
for the manager, and the day view's printed sheets per masseur with health detail only on the masseur's own."""

import datetime
import uuid

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import AccessEntry
from parlor import roles
from parlor.models import ClosedDay
from screening import services as screening_services
from screening.models import Contraindication
from tests.conftest import login_as
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2027, 8, 1, 8, 0, tzinfo=UTC)
INDEPENDENCE_DAY = datetime.date(2027, 8, 24)  # a Tuesday
WEDNESDAY = datetime.date(2027, 8, 25)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def parlor_week(db):
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15, name_en="Classic back")
    olena_user = UserFactory(username="olena-hands", role=roles.MASSEUR)
    olena = MasseurFactory(user=olena_user, display_name="Олена", qualifications=[massage_type])
    petro = MasseurFactory(display_name="Петро", qualifications=[massage_type])
    for masseur in (olena, petro):
        for weekday in range(7):
            WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
    return {"type": massage_type, "olena": olena, "petro": petro, "room": RoomFactory(name="Room A")}


def day_url(day) -> str:
    return reverse("sessions:calendar-day", args=[day.isoformat()])


def at(day: datetime.date, hour: int) -> datetime.datetime:
    # August: Kyiv is UTC+3.
    return datetime.datetime(day.year, day.month, day.day, hour - 3, 0, tzinfo=UTC)


def test_the_day_view_marks_a_public_holiday_that_is_open(reception_client, parlor_week):
    body = reception_client.get(day_url(INDEPENDENCE_DAY)).content.decode()

    assert 'data-testid="holiday"' in body
    assert "Public holiday: Independence Day. The parlor is open." in body
    assert 'data-testid="book-link"' in body


def test_a_closed_day_offers_reception_no_booking_and_says_why(reception_client, parlor_week):
    ClosedDay.objects.create(day=INDEPENDENCE_DAY)

    body = reception_client.get(day_url(INDEPENDENCE_DAY)).content.decode()

    assert "The parlor is closed this day. Independence Day. Only a manager may book." in body
    assert 'data-testid="book-link"' not in body


def test_a_manager_may_still_book_on_a_closed_day(manager_client, parlor_week):
    ClosedDay.objects.create(day=INDEPENDENCE_DAY, reason="inventory")

    body = manager_client.get(day_url(INDEPENDENCE_DAY)).content.decode()

    assert "inventory" in body
    assert 'data-testid="book-link"' in body


def test_the_week_view_marks_holidays_and_closed_days(reception_client, parlor_week):
    ClosedDay.objects.create(day=WEDNESDAY, reason="inventory")

    response = reception_client.get(
        reverse("sessions:calendar-week", args=[INDEPENDENCE_DAY.isoformat()]), {"masseur": parlor_week["olena"].pk}
    )

    columns = {c.day: c for c in response.context["calendar"].grid.columns}
    assert (columns[INDEPENDENCE_DAY].holiday, columns[INDEPENDENCE_DAY].closed) == ("Independence Day", False)
    assert (columns[WEDNESDAY].holiday, columns[WEDNESDAY].closed) == ("", True)
    body = response.content.decode()
    assert body.count('data-testid="column-closed"') == 1
    wednesday_cells = [
        cell for _time, row in response.context["calendar"].grid.rows for cell in row if cell.column.day == WEDNESDAY
    ]
    assert all(cell.book_url is None for cell in wednesday_cells)


def test_holiday_names_follow_the_page_language(reception_client, parlor_week, settings):
    settings.LANGUAGE_CODE = "uk"
    body = reception_client.get(day_url(INDEPENDENCE_DAY)).content.decode()
    assert "День незалежності України" in body


# --- the printed day ------------------------------------------------------------------------------


def _day_with_health(parlor_week):
    olena_client = ClientFactory(full_name="Ірина Олениної")
    petro_client = ClientFactory(full_name="Марта Петрової")
    kidneys = Contraindication.objects.get(code="kidney-disease")
    for client in (olena_client, petro_client):
        screening_services.screening_record(
            client=client,
            answers={},
            findings=[screening_services.FindingInput(contraindication=kidneys)],
            taken_by=None,
            submission_key=uuid.uuid4(),
        )
    mine = AppointmentFactory(
        client=olena_client,
        massage_type=parlor_week["type"],
        masseur=parlor_week["olena"],
        room=parlor_week["room"],
        starts_at=at(WEDNESDAY, 10),
    )
    AppointmentFactory(
        client=petro_client,
        massage_type=parlor_week["type"],
        masseur=parlor_week["petro"],
        room=RoomFactory(name="Room B"),
        starts_at=at(WEDNESDAY, 10),
    )
    return mine


def sheets(body: str) -> dict[str, str]:
    parts = body.split('data-testid="day-sheet"')[1:]
    return {part.split("<h1", 1)[1].split(">", 1)[1].split("<", 1)[0]: part for part in parts}


def test_the_day_prints_a_sheet_per_masseur_with_times_clients_rooms_and_types(reception_client, parlor_week):
    _day_with_health(parlor_week)

    body = reception_client.get(day_url(WEDNESDAY)).content.decode()

    printed = sheets(body)
    assert list(printed) == ["Олена", "Петро"]
    assert "Ірина Олениної" in printed["Олена"] and "Room A" in printed["Олена"] and "10:00–10:40" in printed["Олена"]
    assert "Марта Петрової" in printed["Петро"] and "Room B" in printed["Петро"]
    assert "Classic back" in printed["Петро"]
    # Reception's sheets carry no health detail.
    assert 'data-testid="sheet-health"' not in body


def test_a_masseurs_own_sheet_carries_the_health_detail_and_leaves_a_trail(parlor_week):
    mine = _day_with_health(parlor_week)
    olena = login_as(HttpClient(), parlor_week["olena"].user)

    body = olena.get(day_url(WEDNESDAY)).content.decode()

    printed = sheets(body)
    assert 'data-testid="sheet-health"' in printed["Олена"]
    assert "no percussion over the kidneys" in printed["Олена"].lower()
    assert 'data-testid="sheet-health"' not in printed["Петро"]
    assert list(AccessEntry.objects.values_list("client_id", "object_id", "page")) == [
        (mine.client_id, str(mine.pk), "sessions:calendar-day")
    ]


def test_the_day_view_prints_without_navigation(reception_client, parlor_week):
    body = reception_client.get(day_url(WEDNESDAY)).content.decode()
    assert 'class="navbar navbar-expand-lg navbar-dark bg-dark mb-4 d-print-none"' in body
    assert 'class="day-sheets d-none d-print-block"' in body


# --- My day ---------------------------------------------------------------------------------------


def test_my_day_shows_the_room_and_links_each_client_to_their_page(parlor_week, time_machine):
    time_machine.move_to(at(WEDNESDAY, 8), tick=False)
    mine = _day_with_health(parlor_week)
    olena = login_as(HttpClient(), parlor_week["olena"].user)

    body = olena.get(reverse("sessions:my-day")).content.decode()

    assert '<td data-label="Room" data-testid="myday-room">Room A</td>' in body
    assert f'href="{mine.client.get_absolute_url()}" data-testid="myday-client"' in body
    assert 'data-print data-testid="print-myday"' in body
