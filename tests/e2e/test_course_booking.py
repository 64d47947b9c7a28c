import datetime
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from parlor import roles
from screening import services as screening_services
from sessions.models import Appointment, Course
from tests.e2e.conftest import log_in
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]

WORKDAYS = range(6)  # Monday to Saturday; the masseur rests on Sundays


def _next_workday(day: datetime.date) -> datetime.date:
    while day.weekday() not in WORKDAYS:
        day += datetime.timedelta(days=1)
    return day


def test_receptionist_books_a_course_moves_a_session_and_is_warned_about_the_gap(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    massage_type = MassageTypeFactory(name_uk="Класичний масаж спини (тест)", duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(display_name="Олена Тестова", qualifications=[massage_type])
    for weekday in WORKDAYS:
        WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(18))
    RoomFactory(name="Кабінет 1")
    client = ClientFactory(full_name="Марія Курсова")
    # A screening with nothing found, taken now: the verdict is bookable for the whole course.
    screening_services.screening_record(
        client=client, answers={"questions": {}}, findings=[], taken_by=None, submission_key=uuid.uuid4()
    )
    # Relative to today in Kyiv, never in the past: from tomorrow, on a day the masseur works.
    start = _next_workday(timezone.localdate() + datetime.timedelta(days=1))

    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.get_by_test_id("nav-new-course").click()
    page.wait_for_url("**/sessions/courses/new/")
    page.goto(f"/sessions/courses/new/?client={client.pk}")
    page.select_option("select[name=massage_type]", str(massage_type.pk))
    page.fill("input[name=planned_sessions]", "10")
    page.check("input[name=cadence][value=daily]")
    page.select_option("select[name=preferred_masseur]", str(masseur.pk))
    page.fill("input[name=preferred_time]", "10:00")
    page.fill("input[name=start_date]", start.isoformat())
    page.get_by_test_id("propose").click()

    rows = page.get_by_test_id("session-row")
    rows.first.wait_for()
    assert rows.count() == 10
    assert page.get_by_test_id("booking-verdict").get_attribute("data-status") == "allowed"
    assert page.get_by_test_id("row-conflict").count() == 0
    page.get_by_test_id("book-all").click()
    page.wait_for_url(re.compile(r"/sessions/courses/\d+/$"))

    course = Course.objects.get(client=client)
    sessions = list(course.appointments.order_by("starts_at"))
    assert len(sessions) == 10
    assert {s.status for s in sessions} == {Appointment.Status.BOOKED}
    assert {timezone.localtime(s.starts_at).time() for s in sessions} == {datetime.time(10)}
    assert page.get_by_test_id("course-appointment").count() == 10

    # The course's first day on the calendar shows the session, as session 1 of 10.
    first_day = timezone.localtime(sessions[0].starts_at).date()
    page.goto(reverse("sessions:calendar-day", args=[first_day.isoformat()]))
    entry = page.locator(f"[data-testid=calendar-entry][data-appointment='{sessions[0].pk}']")
    entry.wait_for()
    assert "Марія Курсова" in entry.inner_text()
    assert "1/10" in entry.get_by_test_id("progress").inner_text()

    # Move the last session four days past the one before it: a gap over 2 days.
    last = sessions[-1]
    target = _next_workday(timezone.localtime(sessions[-2].starts_at).date() + datetime.timedelta(days=4))
    gap = (target - timezone.localtime(sessions[-2].starts_at).date()).days
    page.goto(reverse("sessions:course-detail", args=[course.pk]))
    page.locator(f"[data-testid=course-appointment][data-pk='{last.pk}'] [data-testid=move-link]").click()
    page.wait_for_url(f"**/sessions/appointments/{last.pk}/move/")
    page.fill("input[name=starts_at]", f"{target.isoformat()}T10:00")
    page.get_by_test_id("check").click()
    warning = page.get_by_test_id("gap-warnings")
    warning.wait_for()
    assert str(gap) in warning.inner_text()

    page.get_by_test_id("move").click()
    page.wait_for_url(f"**/sessions/appointments/{last.pk}/")
    alert = page.locator(".alert-warning")
    alert.first.wait_for()
    assert str(gap) in alert.first.inner_text()
    last.refresh_from_db()
    assert timezone.localtime(last.starts_at) == datetime.datetime.combine(
        target, datetime.time(10), tzinfo=timezone.get_current_timezone()
    )
