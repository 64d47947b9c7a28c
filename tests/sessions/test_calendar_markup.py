"""The day grid's rows drawn in Python (Grid.lines): escaped, drag targets only for who may move, and the
free-room search once a row rather than once a cell."""

import pytest
from django.db.models import Q

from sessions.booking import calendar
from sessions.models import Appointment
from tests.factories import ClientFactory
from tests.sessions.conftest import MONDAY
from tests.sessions.test_calendar import _frozen, book, booking_pages, day_url, local, staff  # noqa: F401

pytestmark = pytest.mark.django_db


def test_grid_escapes_what_it_draws(reception_client, staff):  # noqa: F811
    client = ClientFactory(full_name='<b>O\'Neil & "Co"</b>')
    book(staff["olena"], at=local(MONDAY, 10), client=client, room=staff["rooms"][0], massage_type=staff["type"])

    page = reception_client.get(day_url()).content.decode()

    assert "&lt;b&gt;O&#x27;Neil &amp; &quot;Co&quot;&lt;/b&gt;" in page
    assert "<b>O'Neil" not in page


def test_grid_lines_give_drag_and_drop_attributes_only_to_who_may_move(staff, booking_pages):  # noqa: F811
    book(staff["olena"], at=local(MONDAY, 10), room=staff["rooms"][0], massage_type=staff["type"])
    grid = calendar.day_calendar(day=MONDAY, can_book=True).grid

    movable = "".join(grid.lines(can_move=True, show_room=True))
    fixed = "".join(grid.lines(can_move=False, show_room=True))

    assert 'draggable="true"' in movable
    assert f'data-drop-masseur="{staff["petro"].pk}"' in movable
    assert "data-drop-starts=" in movable
    assert "draggable" not in fixed
    assert "data-drop-" not in fixed
    assert fixed.count('data-testid="book-link"') == movable.count('data-testid="book-link"') > 0


def test_day_view_looks_for_a_free_room_once_a_row(staff, booking_pages, monkeypatch):  # noqa: F811
    book(staff["olena"], at=local(MONDAY, 10), room=staff["rooms"][0], massage_type=staff["type"])
    searched = []
    real = calendar.free_room

    def counting(rooms, room_busy, at):
        searched.append(at)
        return real(rooms, room_busy, at)

    monkeypatch.setattr(calendar, "free_room", counting)
    grid = calendar.day_calendar(day=MONDAY, can_book=True).grid

    free = [cell for _time, row in grid.rows for cell in row if cell.kind == "free"]
    assert len(free) > len({cell.starts_at for cell in free})  # both masseurs free at some times
    assert sorted(searched) == sorted({cell.starts_at for cell in free})
    assert all(cell.book_url and f"masseur={cell.column.masseur.pk}&" in cell.book_url for cell in free)


def test_day_view_draws_a_not_live_entry_only_below_the_grid(reception_client, staff):  # noqa: F811
    cancelled = book(
        staff["olena"], at=local(MONDAY, 10), room=staff["rooms"][0], massage_type=staff["type"],
        status=Appointment.Status.CANCELLED,
    )  # fmt: skip

    page = reception_client.get(day_url()).content.decode()

    assert f'data-appointment="{cancelled.pk}"' in page
    assert 'data-testid="calendar-entry"' not in page


def test_day_view_makes_each_masseur_room_and_type_once_with_what_an_entry_shows(
    staff,  # noqa: F811
    django_assert_num_queries,
):
    room = staff["rooms"][0]
    first = book(staff["olena"], at=local(MONDAY, 9), room=room, massage_type=staff["type"])
    second = book(staff["olena"], at=local(MONDAY, 11), room=room, massage_type=staff["type"])

    loaded = {a.pk: a for a in calendar._appointments(Q(masseur=staff["olena"]))}

    one, two = loaded[first.pk], loaded[second.pk]
    with django_assert_num_queries(0):
        assert one.masseur is two.masseur and one.room is two.room and one.massage_type is two.massage_type
        assert (one.masseur.display_name, one.masseur.user_id, one.masseur.is_active) == (
            "Олена",
            staff["olena"].user_id,
            True,
        )
        assert (one.room.name, one.room.is_active) == ("Room A", True)
        assert one.massage_type.name == staff["type"].name
    assert one.masseur == staff["olena"]
