"""Clients book online on a phone-sized screen (390 px), without a password: a new client books a single
visit and a course (the questionnaire filled online, the verdict allowed); a client whose screening blocks
is refused kindly and the front desk gets the call to make; a waiting client is offered a time freed by a
cancellation and takes it through the email's link."""

import datetime
import re
import uuid

import pytest
from django.core import mail
from django.utils import timezone

from clients.models import Client
from parlor import roles
from screening import services as screening_services
from screening.models import Contraindication, Screening
from sessions.booking import services as booking
from sessions.models import Appointment, CallRequest, Course, WaitlistOffer
from sessions.waitlist import matching
from sessions.waitlist import services as waitlist
from tests.e2e.conftest import log_in
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.factories import AppointmentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("seeded_db")]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(page, live_server, settings):
    """The browser as a phone; the emails' links lead to the live server."""
    settings.PARLOR_BASE_URL = live_server.url
    page.set_viewport_size(PHONE)
    return page


def parlor(*, course_sessions=3, hours=(8, 20)):
    massage_type = MassageTypeFactory(
        name_uk="Масаж спини (онлайн)",
        name_en="Back massage (online)",
        duration_minutes=40,
        buffer_minutes=15,
        course_sessions=course_sessions,
    )
    masseur = MasseurFactory(display_name="Олена Онлайн", qualifications=[massage_type])
    for weekday in range(7):
        WorkingHoursFactory(
            masseur=masseur, weekday=weekday, starts=datetime.time(hours[0]), ends=datetime.time(hours[1])
        )
    room = RoomFactory(name="Кабінет онлайн")
    return massage_type, masseur, room


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose(page, massage_type, *, kind="single"):
    page.goto("/book/")
    page.check(f"input[name=massage_type][value='{massage_type.pk}']")
    page.check(f"input[name=kind][value={kind}]")
    page.fill("input[name=day]", tomorrow().isoformat())
    if kind == "course":
        page.fill("input[name=time]", "10:00")
    page.get_by_test_id("show-times").click()
    page.wait_for_load_state()
    assert fits_the_phone(page)


def ask_for_email(page, email, phone="067 555 1234"):
    page.fill("input[name=email]", email)
    page.fill("input[name=phone]", phone)
    page.get_by_test_id("send-link").click()
    page.wait_for_url("**/book/sign-in/")
    assert page.get_by_test_id("check-email").is_visible()


def last_email_to(address):
    return [m for m in mail.outbox if m.to == [address]][-1]


def fill_profile(page, name):
    page.wait_for_url("**/book/profile/")
    page.fill("input[name=full_name]", name)
    page.fill("input[name=birth_date]", "1990-04-02")
    page.select_option("select[name=sex]", "female")
    page.check("input[name=data_consent]")
    page.get_by_test_id("profile-save").click()


def answer_no_to_everything(page):
    page.wait_for_url("**/book/hold/")
    page.get_by_test_id("to-questionnaire").click()
    page.wait_for_url("**/book/questionnaire/")
    # Nothing answered beforehand.
    assert page.locator("input[type=radio]:checked").count() == 0
    assert fits_the_phone(page)
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.get_by_test_id("self-screening-submit").click()
    page.wait_for_url("**/book/hold/")


def test_a_new_client_books_a_single_visit_on_a_phone(phone, mailoutbox):
    massage_type, masseur, _room = parlor()

    choose(phone, massage_type)
    first = phone.get_by_test_id("free-time").first
    starts = first.get_attribute("data-starts")
    first.click()
    ask_for_email(phone, "maria.online@example.com")
    # The link from the email; its page only shows a button (a mail scanner's visit spends nothing).
    link = re.search(r"http://\S+/book/sign-in/\S+/", last_email_to("maria.online@example.com").body).group(0)
    phone.goto(link)
    phone.get_by_test_id("link-continue").click()
    fill_profile(phone, "Марія Онлайн")
    answer_no_to_everything(phone)
    phone.get_by_test_id("confirm").click()
    phone.wait_for_url("**/book/my/")

    client = Client.objects.get(email="maria.online@example.com")
    appointment = Appointment.objects.get(client=client)
    assert (appointment.status, appointment.channel, appointment.masseur) == ("booked", "online", masseur)
    assert timezone.localtime(appointment.starts_at).strftime("%H:%M") == starts
    assert Screening.objects.get(client=client).source == Screening.Source.SELF_REPORTED
    assert phone.get_by_test_id("my-upcoming").locator("li").count() == 1
    assert fits_the_phone(phone)


def test_a_new_client_books_a_course_by_the_code_on_a_phone(phone, mailoutbox):
    massage_type, _masseur, _room = parlor(course_sessions=3)

    choose(phone, massage_type, kind="course")
    assert phone.get_by_test_id("course-proposal").locator("li").count() == 3
    phone.get_by_test_id("choose-course").click()
    ask_for_email(phone, "ivanna.course@example.com")
    code = re.search(r"\d{6}", last_email_to("ivanna.course@example.com").subject).group(0)
    phone.fill("input[name=code]", code)
    phone.get_by_test_id("code-submit").click()
    fill_profile(phone, "Іванна Курсова")
    assert phone.get_by_test_id("held").locator("li").count() == 3
    answer_no_to_everything(phone)
    phone.get_by_test_id("confirm").click()
    phone.wait_for_url("**/book/my/")

    course = Course.objects.get(client__email="ivanna.course@example.com")
    assert (course.planned_sessions, course.cadence) == (3, "daily")
    assert list(course.appointments.values_list("status", flat=True)) == ["booked"] * 3
    assert phone.get_by_test_id("my-upcoming").locator("li").count() == 3


def test_a_blocked_client_is_refused_kindly_and_the_front_desk_gets_the_call(phone, browser, live_server, mailoutbox):
    massage_type, _masseur, _room = parlor()
    UserFactory(username="desk", role=roles.RECEPTIONIST)
    client = ClientFactory(full_name="Олена Заблокована", email="blocked@example.com")
    screening_services.screening_record(
        client=client,
        answers={},
        findings=[screening_services.FindingInput(contraindication=Contraindication.objects.get(code="oncology"))],
        taken_by=None,
        submission_key=uuid.uuid4(),
    )
    condition = Contraindication.objects.get(code="oncology")

    choose(phone, massage_type)
    phone.get_by_test_id("free-time").first.click()
    ask_for_email(phone, "blocked@example.com")
    link = re.search(r"http://\S+/book/sign-in/\S+/", last_email_to("blocked@example.com").body).group(0)
    phone.goto(link)
    phone.get_by_test_id("link-continue").click()
    phone.wait_for_url("**/book/hold/")
    phone.get_by_test_id("confirm").click()
    phone.wait_for_url("**/book/call-back/")

    text = phone.get_by_test_id("call-back").inner_text()
    assert str(client.phone.as_international) in text
    assert condition.name_uk not in phone.content() and condition.name_en not in phone.content()
    assert not Appointment.objects.filter(client=client).exists()
    assert CallRequest.objects.filter(client=client).count() == 1
    notice = mail.outbox[-1]
    assert notice.subject == "Зателефонуйте: Олена Заблокована"
    assert condition.name_uk not in notice.body

    desk = browser.new_context(base_url=live_server.url, locale="uk-UA", timezone_id="Europe/Kyiv")
    reception = desk.new_page()
    log_in(reception, "desk", "secret-pass")
    reception.goto("/")
    panel = reception.get_by_test_id("calls-panel")
    assert "Олена Заблокована" in panel.inner_text()
    assert condition.name_uk not in reception.content()
    reception.get_by_test_id("call-done").click()
    reception.wait_for_load_state()
    assert reception.get_by_test_id("calls-panel").count() == 0
    desk.close()


def test_a_waiting_client_takes_a_time_freed_by_a_cancellation_through_the_email(phone, mailoutbox):
    massage_type, masseur, room = parlor(hours=(9, 13))
    desk = UserFactory(username="desk", role=roles.RECEPTIONIST)
    day = tomorrow()
    starts = [
        datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())
        for hour in range(9, 13)
    ]
    booked = [
        AppointmentFactory(massage_type=massage_type, masseur=masseur, room=room, starts_at=start) for start in starts
    ]
    client = ClientFactory(full_name="Тетяна Чекає", email="waiting@example.com")
    screening_services.screening_record(
        client=client, answers={}, findings=[], taken_by=None, submission_key=uuid.uuid4()
    )
    waitlist.entry_add(client=client, massage_type=massage_type, until=day, weekdays=[day.weekday()])
    assert matching.waitlist_scan()["offered"] == 0

    booking.appointment_cancel(appointment=booked[2], reason="захворіла", by=desk)
    # What beat runs every minute (and the cancellation queues at once).
    matching.waitlist_scan()

    offer_email = last_email_to("waiting@example.com")
    link = re.search(r"http://\S+/book/offer/\S+/", offer_email.body).group(0)
    phone.goto(link)
    assert fits_the_phone(phone)
    assert not Appointment.objects.filter(client=client).exists()  # the GET books nothing
    phone.get_by_test_id("offer-accept").click()
    phone.wait_for_load_state()

    assert phone.get_by_test_id("offer-accepted").is_visible()
    appointment = Appointment.objects.get(client=client)
    assert (appointment.starts_at, appointment.status, appointment.channel) == (starts[2], "booked", "waitlist")
    assert WaitlistOffer.objects.get().state == WaitlistOffer.State.ACCEPTED
