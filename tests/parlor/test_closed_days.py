"""The manager's closed days (issue 12): Ukraine's public holidays from the `holidays` package, none closed by
default (under martial law they are working days), the manager closing and opening days."""

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from parlor import closures, services
from parlor.models import ClosedDay

pytestmark = pytest.mark.django_db

PAGE = reverse("parlor:closed-days")
TODAY = datetime.date(2027, 8, 1)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(datetime.datetime(2027, 8, 1, 9, 0, tzinfo=datetime.UTC), tick=False)


def test_ukraines_public_holidays_are_listed_under_martial_law_too():
    names = closures.public_holidays(datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    assert names[datetime.date(2026, 8, 24)] == "Independence Day"
    assert names[datetime.date(2026, 1, 1)] == "New Year's Day"


def test_public_holidays_speak_the_page_language(settings):
    settings.LANGUAGE_CODE = "uk"
    assert closures.public_holidays(datetime.date(2027, 8, 24), datetime.date(2027, 8, 24)) == {
        datetime.date(2027, 8, 24): "День незалежності України"
    }


def test_public_holidays_follow_the_language_of_each_call_though_a_year_is_kept():
    day = datetime.date(2027, 8, 24)
    names = []
    for language in ("uk", "en", "uk"):
        with translation.override(language):
            names.append(closures.public_holidays(day, day)[day])
    assert names == ["День незалежності України", "Independence Day", "День незалежності України"]
    # Across a new year, each year's holidays.
    span = closures.public_holidays(datetime.date(2027, 12, 20), datetime.date(2028, 1, 2))
    assert list(span) == [datetime.date(2027, 12, 25), datetime.date(2028, 1, 1)]


def test_no_day_is_closed_by_default():
    assert closures.closed_days(datetime.date(2027, 1, 1), datetime.date(2027, 12, 31)) == {}


def test_closing_a_day_twice_keeps_one_row(manager):
    first = services.closed_day_add(day=TODAY, reason="inventory", by=manager)
    second = services.closed_day_add(day=TODAY, reason="again", by=manager)
    assert first.pk == second.pk
    assert ClosedDay.objects.get().reason == "inventory"


def test_the_manager_sees_the_holidays_ahead_all_open(manager_client):
    response = manager_client.get(PAGE)

    holidays = response.context["holidays"]
    assert holidays[0][:2] == (datetime.date(2027, 8, 24), "Independence Day")
    assert all(closed is None for _day, _name, closed in holidays)
    assert 'data-testid="no-closed-days"' in response.content.decode()


def test_the_manager_closes_a_holiday_and_opens_it_again(manager_client):
    response = manager_client.post(PAGE, {"day": "2027-08-24", "reason": ""}, follow=True)

    closed = ClosedDay.objects.get()
    assert closed.day == datetime.date(2027, 8, 24)
    assert "The parlor is closed on 24 August 2027." in [str(m) for m in response.context["messages"]]
    assert response.context["closed"] == [(closed, "Independence Day")]

    manager_client.post(reverse("parlor:closed-day-delete", args=[closed.pk]))
    assert not ClosedDay.objects.exists()


def test_a_bad_date_is_said_beside_the_field_and_kept(manager_client):
    response = manager_client.post(PAGE, {"day": "9999-99-99", "reason": "x"})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["day"]
    assert 'value="x"' in response.content.decode()
    assert not ClosedDay.objects.exists()


def test_reception_may_not_see_or_close_days(reception_client):
    assert reception_client.get(PAGE).status_code == 403
    assert reception_client.post(PAGE, {"day": "2027-08-24"}).status_code == 403
    assert not ClosedDay.objects.exists()


def test_the_page_query_count_does_not_grow_with_closed_days(manager_client, manager, django_assert_max_num_queries):
    def queries() -> int:
        with django_assert_max_num_queries(12) as captured:
            assert manager_client.get(PAGE).status_code == 200
        return len(captured.captured_queries)

    few = queries()
    for n in range(30):
        services.closed_day_add(day=TODAY + datetime.timedelta(days=n), by=manager)
    assert queries() == few
