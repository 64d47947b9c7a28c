"""What people read, in a real browser: the pain chart draws in both languages without a console error,
and pages fit a 390 px wide phone."""

import datetime

import pytest
from django.utils import timezone

from parlor import roles
from sessions.models import Appointment, SessionLog
from tests.e2e.conftest import log_in
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]

PAINS = [(8, 6), (7, 5), (6, 3), (5, 2)]


def _course_with_signed_sessions(client):
    """A masseur "olena" with today's session 5 of a course whose sessions 1-4 are signed."""
    now = timezone.localtime()
    massage_type = MassageTypeFactory(code="lumbar-e2e", name_uk="Поперековий масаж", name_en="Lumbar massage")
    user = UserFactory(username="olena", role=roles.MASSEUR)
    masseur = MasseurFactory(user=user, display_name="Олена", qualifications=[massage_type])
    WorkingHoursFactory(masseur=masseur, weekday=now.weekday(), starts=datetime.time(0), ends=datetime.time(23, 59))
    room = RoomFactory()
    course = CourseFactory(client=client, massage_type=massage_type, planned_sessions=8)
    common = {"client": client, "massage_type": massage_type, "masseur": masseur, "room": room, "course": course}
    for days_ago, (before, after) in zip(range(len(PAINS), 0, -1), PAINS, strict=True):
        starts = now.replace(hour=9, minute=0, second=0, microsecond=0) - datetime.timedelta(days=days_ago)
        done = AppointmentFactory(starts_at=starts, status=Appointment.Status.COMPLETED, **common)
        SessionLog.objects.create(
            appointment=done,
            pain_before=before,
            pain_after=after,
            duration_minutes=40,
            status=SessionLog.Status.SIGNED,
            signed_by=user,
            signed_at=starts,
        )
    today = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return AppointmentFactory(starts_at=today, **common)


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _switch_language(page, code: str) -> None:
    page.locator(f"[data-testid=language-switcher] button[value={code}]").click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("language", "x_title", "summary"),
    [
        ("uk", "Сеанс", "Біль знизився з 8 до 2 за 4 сеанси."),
        ("en", "Session", "Pain fell from 8 to 2 over 4 sessions."),
    ],
)
def test_review_pain_chart_draws_in_both_languages_without_console_errors(page, language, x_title, summary):
    appointment = _course_with_signed_sessions(ClientFactory(full_name="Ірина Троянда"))
    log_in(page, "olena", "secret-pass")
    page.wait_for_url("**/")
    if language != "uk":
        _switch_language(page, language)
    errors = _console_errors(page)

    page.goto(f"/sessions/appointments/{appointment.pk}/review/")
    chart = page.get_by_test_id("pain-chart")
    chart.wait_for()

    assert errors == []
    # Axis labels (SVG text has no innerText: its text content): 0-10 on the y axis, the course's
    # session numbers on the x axis, and both titles.
    assert chart.locator(".pain-chart-grid text").all_text_contents() == ["0", "2", "4", "6", "8", "10"]
    assert chart.get_by_test_id("pain-chart-x-label").all_text_contents() == ["1", "2", "3", "4"]
    assert chart.get_by_test_id("pain-chart-x-title").text_content() == x_title
    assert page.get_by_test_id("pain-summary").inner_text() == summary
    # Every point is drawn inside the chart (a coordinate the browser refused would put it at 0,0).
    box = chart.bounding_box()
    points = chart.get_by_test_id("pain-point")
    assert points.count() == 2 * len(PAINS)
    for index in range(points.count()):
        point = points.nth(index).bounding_box()
        assert point is not None and point["width"] > 0
        assert box["x"] + 20 < point["x"] < box["x"] + box["width"]
        assert box["y"] < point["y"] < box["y"] + box["height"] - 20
    befores = [points.nth(i).bounding_box()["y"] for i in range(0, points.count(), 2)]
    # Pain before fell from 8 to 5: each point lower on the screen than the last.
    assert befores == sorted(befores)


def test_pages_fit_a_390_px_phone_even_with_a_very_long_name(browser, live_server, settings):
    settings.LANGUAGE_CODE = "uk"
    long_name = "Оксана " + "Довгопрізвищенко" * 12
    client = ClientFactory(full_name=long_name, allergens=["rose"])
    appointment = _course_with_signed_sessions(client)
    UserFactory(username="mgr", role=roles.MANAGER)
    context = browser.new_context(
        base_url=live_server.url, locale="uk-UA", timezone_id="Europe/Kyiv", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, "mgr", "secret-pass")
        page.wait_for_url("**/")
        for url in (
            "/clients/",
            f"/clients/{client.pk}/",
            f"/sessions/clients/{client.pk}/history/",
            f"/sessions/appointments/{appointment.pk}/review/",
            "/sessions/reminders/",
        ):
            page.goto(url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{url} is {width} px wide"
        # The chart shrinks to the card and still shows every point.
        page.goto(f"/sessions/appointments/{appointment.pk}/review/")
        assert page.get_by_test_id("pain-chart").bounding_box()["width"] <= 390
        assert page.get_by_test_id("pain-point").count() == 2 * len(PAINS)
    finally:
        context.close()
