"""The front desk's day in a real browser (issue 12): a new caller booked for a course from the navigation
bar's search, a finished course repeated from the client's page, the drag move on the day view and its
form without JavaScript, the printed day, and the pages people use on a phone (390 x 844)."""

import datetime
import io
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from parlor import roles
from screening import services as screening_services
from sessions.care.logs import LogInput, sessionlog_save
from sessions.models import Appointment, Course, Reminder
from tests.clients.helpers import make_client
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

PHONE = {"width": 390, "height": 844}
# The bar for the new caller's course, and for repeating a course from the card.
NEW_CALLER_CLICKS, NEW_CALLER_LOADS = 12, 6
REPEAT_CLICKS = 4


class Journey:
    """Counts what a person does: each click (a select's choice counts as one) and each page the browser
    loads (a redirect and the page it leads to are one)."""

    def __init__(self, page):
        self.page = page
        self.clicks = 0
        self.loads = 0
        page.on("load", self._loaded)

    def _loaded(self, _page):
        self.loads += 1

    def start(self):
        self.clicks = self.loads = 0

    def click(self, locator):
        self.clicks += 1
        locator.click()

    def check(self, locator):
        self.clicks += 1
        locator.check()

    def choose(self, locator, value):
        self.clicks += 1
        locator.select_option(value)


def kyiv(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


def screened(client):
    screening_services.screening_record(
        client=client, answers={"questions": {}}, findings=[], taken_by=None, submission_key=uuid.uuid4()
    )
    return client


def parlor(*, hours=(datetime.time(8), datetime.time(20))):
    massage_type = MassageTypeFactory(name_uk="Класичний масаж спини (тест)", duration_minutes=40, buffer_minutes=15)
    masseur_user = UserFactory(username="olena", role=roles.MASSEUR)
    olena = MasseurFactory(user=masseur_user, display_name="Олена Тестова", qualifications=[massage_type])
    petro = MasseurFactory(display_name="Петро Тестовий", qualifications=[massage_type])
    for masseur in (olena, petro):
        for weekday in range(7):
            WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=hours[0], ends=hours[1])
    return massage_type, olena, petro, RoomFactory(name="Кабінет 1")


def test_a_new_caller_is_booked_for_a_ten_session_course_from_the_navbar_search(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    massage_type, _olena, _petro, _room = parlor()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    journey = Journey(page)
    journey.start()

    journey.click(page.get_by_test_id("nav-search-input"))
    page.keyboard.type("Нова Абонентка")
    page.get_by_test_id("nav-search-none").wait_for()
    journey.click(page.get_by_test_id("nav-search-new"))
    page.wait_for_url("**/clients/new/**")
    assert page.input_value("input[name=full_name]") == "Нова Абонентка"
    page.fill("input[name=phone]", "067 321 45 67")
    page.fill("input[name=email]", "nova@example.com")
    page.fill("input[name=birth_date]", "1988-05-12")
    journey.choose(page.locator("select[name=sex]"), "female")
    journey.check(page.locator("input[name=data_consent]"))
    journey.check(page.locator("input[name=reminder_consent]"))
    journey.click(page.locator("input[name=then_course]"))
    page.wait_for_url(re.compile(r"/sessions/courses/new/\?client=\d+$"))

    client = Client.objects.get(full_name="Нова Абонентка")
    assert page.locator("select[name=client]").input_value() == str(client.pk)
    journey.choose(page.locator("select[name=massage_type]"), str(massage_type.pk))
    page.fill("input[name=preferred_time]", "10:00")
    page.fill("input[name=start_date]", tomorrow.isoformat())
    journey.click(page.get_by_test_id("propose"))
    page.get_by_test_id("session-row").first.wait_for()
    assert page.get_by_test_id("session-row").count() == 10
    # A new caller has no screening yet: the sessions are kept for them until they answer it.
    assert page.get_by_test_id("booking-verdict").get_attribute("data-status") == "needs-screening"
    journey.check(page.locator("input[name=await_clearance]"))
    journey.click(page.get_by_test_id("book-all"))
    page.wait_for_url(re.compile(r"/sessions/courses/\d+/$"))

    course = Course.objects.get(client=client)
    sessions = list(course.appointments.order_by("starts_at"))
    assert len(sessions) == 10
    assert {s.status for s in sessions} == {Appointment.Status.AWAITING_CLEARANCE}
    assert {timezone.localtime(s.starts_at).time() for s in sessions} == {datetime.time(10)}
    print(f"new caller's course: {journey.clicks} clicks, {journey.loads} page loads")
    assert journey.clicks <= NEW_CALLER_CLICKS
    assert journey.loads <= NEW_CALLER_LOADS
    # The schedule email asks for the questionnaire by its link.
    assert Reminder.objects.filter(course=course, kind=Reminder.Kind.COURSE_BOOKED).exists()


def test_a_finished_course_is_repeated_from_the_client_page(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    massage_type, olena, _petro, room = parlor()
    client = screened(ClientFactory(full_name="Марія Повторна"))
    course = CourseFactory(
        client=client,
        massage_type=massage_type,
        planned_sessions=4,
        cadence=Course.Cadence.EVERY_OTHER_DAY,
        status=Course.Status.COMPLETED,
    )
    today = timezone.localdate()
    for days in (8, 6, 4, 2):
        AppointmentFactory(
            client=client,
            massage_type=massage_type,
            masseur=olena,
            room=room,
            course=course,
            starts_at=kyiv(today - datetime.timedelta(days=days), 17),
            status=Appointment.Status.COMPLETED,
        )
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.goto(reverse("clients:client-detail", args=[client.pk]))
    journey = Journey(page)
    journey.start()

    journey.click(page.locator(f"[data-course='{course.pk}'] [data-testid=card-repeat-course]"))
    page.get_by_test_id("session-row").first.wait_for()
    assert page.get_by_test_id("session-row").count() == 4
    journey.click(page.get_by_test_id("book-all"))
    page.wait_for_url(re.compile(r"/sessions/courses/\d+/$"))

    again = Course.objects.exclude(pk=course.pk).get(client=client)
    sessions = list(again.appointments.order_by("starts_at"))
    assert (again.cadence, again.planned_sessions) == (Course.Cadence.EVERY_OTHER_DAY, 4)
    assert {s.masseur_id for s in sessions} == {olena.pk}
    assert {timezone.localtime(s.starts_at).time() for s in sessions} == {datetime.time(17)}
    days = [timezone.localtime(s.starts_at).date() for s in sessions]
    assert [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [2, 2, 2]
    print(f"repeat a course: {journey.clicks} clicks, {journey.loads} page loads")
    assert journey.clicks <= REPEAT_CLICKS


def _booked_tomorrow():
    massage_type, olena, petro, room = parlor(hours=(datetime.time(9), datetime.time(13)))
    client = screened(ClientFactory(full_name="Ірина Переносна"))
    day = timezone.localdate() + datetime.timedelta(days=1)
    appointment = AppointmentFactory(
        client=client, massage_type=massage_type, masseur=olena, room=room, starts_at=kyiv(day, 10)
    )
    return appointment, petro, day


def test_an_appointment_is_dragged_to_another_time_and_masseur_on_the_day_view(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    appointment, petro, day = _booked_tomorrow()
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.goto(reverse("sessions:calendar-day", args=[day.isoformat()]))

    entry = page.locator(f"[data-testid=calendar-entry][data-appointment='{appointment.pk}']")
    target = page.locator(f"td[data-drop-masseur='{petro.pk}'][data-drop-starts='{day.isoformat()}T12:00']")
    # The move service answers; the day view reloads with the appointment in its new place.
    with page.expect_navigation():
        entry.drag_to(target)

    appointment.refresh_from_db()
    assert (appointment.masseur_id, timezone.localtime(appointment.starts_at)) == (petro.pk, kyiv(day, 12))
    assert Reminder.objects.filter(appointment=appointment, kind=Reminder.Kind.MOVED).count() == 1
    assert "Перенесено" in page.locator(".alert-success").first.inner_text()


def test_a_drag_that_breaks_a_rule_moves_nothing_and_says_why(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    appointment, petro, day = _booked_tomorrow()
    # Петро is off at noon tomorrow.
    from parlor.models import TimeOff

    TimeOff.objects.create(masseur=petro, starts_at=kyiv(day, 11, 30), ends_at=kyiv(day, 13))
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.goto(reverse("sessions:calendar-day", args=[day.isoformat()]))

    entry = page.locator(f"[data-testid=calendar-entry][data-appointment='{appointment.pk}']")
    target = page.locator(f"td[data-drop-masseur='{petro.pk}'][data-drop-starts='{day.isoformat()}T11:00']")
    entry.drag_to(target)
    feedback = page.get_by_test_id("drag-feedback").get_by_test_id("form-errors")
    feedback.wait_for()

    assert "Петро Тестовий" in feedback.inner_text()
    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at) == kyiv(day, 10)


def test_without_javascript_the_move_form_still_moves_it(browser, live_server, settings):
    settings.LANGUAGE_CODE = "uk"
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    appointment, _petro, day = _booked_tomorrow()
    context = browser.new_context(
        base_url=live_server.url, locale="uk-UA", timezone_id="Europe/Kyiv", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, "desk", "secret-pass")
        page.goto(reverse("sessions:calendar-day", args=[day.isoformat()]))
        entry = page.locator(f"[data-testid=calendar-entry][data-appointment='{appointment.pk}']")
        entry.locator("a").first.click()
        page.wait_for_url(f"**/sessions/appointments/{appointment.pk}/")
        page.get_by_test_id("move-link").click()
        page.wait_for_url(f"**/sessions/appointments/{appointment.pk}/move/")
        page.locator(f"[data-testid=move-slot][data-starts='{day.isoformat()}T11:30']").first.click()
        page.get_by_test_id("move-free").wait_for()
        page.get_by_test_id("move").click()
        page.wait_for_url(f"**/sessions/appointments/{appointment.pk}/")
    finally:
        context.close()

    appointment.refresh_from_db()
    assert timezone.localtime(appointment.starts_at) == kyiv(day, 11, 30)


def test_the_day_prints_a_sheet_per_masseur_and_my_day_prints_without_navigation(page, browser, live_server):
    from pypdf import PdfReader

    UserFactory(username="desk", role=roles.RECEPTIONIST)
    appointment, petro, day = _booked_tomorrow()
    AppointmentFactory(
        client=screened(ClientFactory(full_name="Марта Друга")),
        massage_type=appointment.massage_type,
        masseur=petro,
        room=RoomFactory(name="Кабінет 2"),
        starts_at=kyiv(day, 11),
    )
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.emulate_media(media="print")
    page.goto(reverse("sessions:calendar-day", args=[day.isoformat()]))

    assert page.locator("nav.navbar").is_hidden()
    assert page.get_by_test_id("calendar-grid").is_hidden()
    assert page.get_by_test_id("day-sheet").count() == 2
    assert page.get_by_test_id("day-sheet").first.is_visible()
    assert "Ірина Переносна" in page.get_by_test_id("day-sheet").first.inner_text()
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4")))
    assert len(pdf.pages) == 2
    # A4 is 595 x 842 points (Chromium rounds its pixels up).
    width, height = (float(v) for v in pdf.pages[0].mediabox.upper_right)
    assert abs(width - 595) <= 2 and abs(height - 842) <= 2

    # My day, the masseur's own page, prints too.
    context = browser.new_context(base_url=live_server.url, locale="uk-UA", timezone_id="Europe/Kyiv")
    masseur_page = context.new_page()
    try:
        log_in(masseur_page, "olena", "secret-pass")
        masseur_page.emulate_media(media="print")
        masseur_page.goto(reverse("sessions:my-day"))
        assert masseur_page.locator("nav.navbar").is_hidden()
        assert masseur_page.get_by_test_id("myday-heading").is_visible()
        assert masseur_page.get_by_test_id("print-myday").is_hidden()
    finally:
        context.close()


# --- a phone's screen ---------------------------------------------------------------------------

TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width > width + 0.5 || box.right > width + 0.5) {
      wide.push(`${element.tagName.toLowerCase()}.${element.className} ${Math.round(box.right)}`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


def _fits(page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state()
    found = page.evaluate(TOO_WIDE)
    assert found["wide"] == [], (url, found)
    assert found["scroll"] <= found["width"], (url, found)


def _phone(browser, live_server, username: str):
    context = browser.new_context(
        base_url=live_server.url, locale="uk-UA", timezone_id="Europe/Kyiv", viewport=PHONE, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, username, "secret-pass")
    return context, page


def test_the_front_desk_pages_fit_a_phone(browser, live_server, settings):
    settings.LANGUAGE_CODE = "uk"
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    massage_type, olena, _petro, room = parlor()
    client = screened(ClientFactory(full_name="Оксана Вузькоекранна-Довгопрізвищна"))
    course = CourseFactory(client=client, massage_type=massage_type, planned_sessions=10)
    today = timezone.localdate()
    for days in (-2, -1, 1):
        AppointmentFactory(
            client=client,
            massage_type=massage_type,
            masseur=olena,
            room=room,
            course=course,
            starts_at=kyiv(today + datetime.timedelta(days=days), 10),
            status=Appointment.Status.COMPLETED if days < 0 else Appointment.Status.BOOKED,
        )
    AppointmentFactory(client=client, massage_type=massage_type, masseur=olena, room=room, starts_at=kyiv(today, 19))
    context, page = _phone(browser, live_server, "desk")
    try:
        _fits(page, reverse("parlor:dashboard"))
        # The navigation collapses behind its button; the search stays on screen.
        assert page.locator("#mainnav").is_hidden()
        assert page.get_by_test_id("nav-search-input").is_visible()
        _fits(page, reverse("clients:client-detail", args=[client.pk]))
        _fits(page, f"{reverse('sessions:course-create')}?client={client.pk}")
        page.select_option("select[name=massage_type]", str(massage_type.pk))
        page.fill("input[name=start_date]", (today + datetime.timedelta(days=2)).isoformat())
        page.get_by_test_id("propose").click()
        page.get_by_test_id("session-row").first.wait_for()
        found = page.evaluate(TOO_WIDE)
        assert found["wide"] == [] and found["scroll"] <= found["width"], found
        # The main action stays on screen: within the page's width.
        box = page.get_by_test_id("book-all").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    finally:
        context.close()


def test_the_masseur_pages_fit_a_phone(browser, live_server, settings):
    settings.LANGUAGE_CODE = "uk"
    massage_type, olena, _petro, room = parlor(hours=(datetime.time(0), datetime.time(23, 59)))
    client = screened(ClientFactory(full_name="Ірина Телефонна"))
    now = timezone.localtime()
    appointment = AppointmentFactory(
        client=client,
        massage_type=massage_type,
        masseur=olena,
        room=room,
        starts_at=kyiv(now.date(), 12),
        status=Appointment.Status.CHECKED_IN,
    )
    sessionlog_save(appointment=appointment, data=LogInput(pain_before=6), by=olena.user, log_id=None)
    context, page = _phone(browser, live_server, "olena")
    try:
        _fits(page, reverse("sessions:my-day"))
        _fits(page, reverse("sessions:appointment-review", args=[appointment.pk]))
        _fits(page, reverse("sessions:sessionlog-edit", args=[appointment.pk]))
    finally:
        context.close()


SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_staff_pages_never_scroll_sideways_on_a_phone(browser, live_server, settings):
    """Beyond the six pages measured element by element above: the other staff pages at 390 px. The week's
    grid may scroll inside its own box (seven days do not fit a phone); the page itself never does."""
    settings.LANGUAGE_CODE = "uk"
    manager = UserFactory(username="boss", role=roles.MANAGER)
    manager.is_staff = True
    manager.save()
    appointment, _petro, day = _booked_tomorrow()
    client = appointment.client
    urls = [
        "/clients/",
        f"/clients/{client.pk}/edit/",
        "/clients/new/",
        f"/clients/{client.pk}/trail/",
        f"/screening/clients/{client.pk}/new/",
        f"/screening/clients/{client.pk}/clearances/new/",
        f"/screening/clients/{client.pk}/",
        "/screening/catalogue/",
        reverse("sessions:calendar-day", args=[day.isoformat()]),
        reverse("sessions:calendar-day", args=[day.isoformat()]) + "?by=rooms",
        reverse("sessions:calendar-week"),
        reverse("sessions:reminder-list"),
        reverse("sessions:appointment-book"),
        reverse("sessions:appointment-detail", args=[appointment.pk]),
        reverse("sessions:appointment-move", args=[appointment.pk]),
        reverse("sessions:appointment-cancel", args=[appointment.pk]),
        reverse("sessions:client-history", args=[client.pk]),
        reverse("sessions:outcomes"),
        "/manage/rooms/",
        "/manage/masseurs/",
        "/manage/working-hours/",
        "/manage/time-off/new/",
        "/closed-days/",
        "/security/events/",
        "/account/",
    ]
    context, page = _phone(browser, live_server, "boss")
    try:
        sideways = {}
        for url in urls:
            page.goto(url)
            extra = page.evaluate(SIDEWAYS)
            if extra > 0:
                sideways[url] = extra
    finally:
        context.close()
    assert sideways == {}


def test_the_navbar_search_finds_a_phone_typed_any_way_and_opens_the_card_from_the_keyboard(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    wanted = make_client(full_name="Ганна Клавіатурна", phone="+380671234567", email="")
    make_client(full_name="Ганна Інша", phone="+380501112233", email="")
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.goto(reverse("sessions:calendar-day"))

    page.get_by_test_id("nav-search-input").fill("8 (067) 123-45-67")
    results = page.get_by_test_id("nav-search-result")
    results.first.wait_for()
    assert results.count() == 1
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.testid") == "nav-search-result"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/clients/{wanted.pk}/")
    assert page.get_by_test_id("client-name").inner_text().startswith("Ганна Клавіатурна")

    # Escape closes the list; Enter in the box opens the best match.
    page.get_by_test_id("nav-search-input").fill("Ганна")
    page.get_by_test_id("nav-search-result").first.wait_for()
    page.keyboard.press("Escape")
    assert page.get_by_test_id("nav-search-suggestions").count() == 0


def test_the_move_form_shows_a_room_conflict_before_it_is_submitted(page):
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    appointment, petro, day = _booked_tomorrow()
    taken = RoomFactory(name="Кабінет зайнятий")
    AppointmentFactory(
        client=ClientFactory(),
        massage_type=appointment.massage_type,
        masseur=petro,
        room=taken,
        starts_at=kyiv(day, 10),
    )
    log_in(page, "desk", "secret-pass")
    page.wait_for_url("**/")
    page.goto(reverse("sessions:appointment-move", args=[appointment.pk]))

    page.select_option("select[name=room]", str(taken.pk))
    problem = page.get_by_test_id("move-check").get_by_test_id("form-errors")
    problem.wait_for()

    assert "Кабінет зайнятий" in problem.inner_text()
    assert "Кабінет 1" in page.get_by_test_id("free-rooms").inner_text()
    assert page.url.endswith(f"/sessions/appointments/{appointment.pk}/move/")
    appointment.refresh_from_db()
    assert appointment.room.name == "Кабінет 1"
