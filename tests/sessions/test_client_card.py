"""The client's page as the front desk's hub (issue 12): bookings, courses with progress, past appointments a
page at a time, counts, flags and holds, emails; its actions; a new caller sent straight on to a course; and
"repeat this course". Need-to-know: what a flag says changed only for those who may see the record."""

import datetime
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from parlor import roles
from screening import services as screening_services
from sessions.models import Appointment, Course, Flag, Reminder
from sessions.reminders import desk
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2027, 3, 3, 10, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def place(db):
    massage_type = MassageTypeFactory(name_en="Classic back", duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(display_name="Олена", qualifications=[massage_type])
    for weekday in range(7):
        WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(18))
    return massage_type, masseur, RoomFactory(name="Room A")


def book(client, place, *, days: int, status=Appointment.Status.BOOKED, course=None, hour: int = 10):
    massage_type, masseur, room = place
    # 10:00 in Kyiv (winter, UTC+2).
    starts_at = datetime.datetime(2027, 3, 3, hour - 2, 0, tzinfo=UTC) + datetime.timedelta(days=days)
    return AppointmentFactory(
        client=client,
        massage_type=massage_type,
        masseur=masseur,
        room=room,
        course=course,
        starts_at=starts_at,
        status=status,
    )


def card(http, client, **params):
    response = http.get(reverse("clients:client-detail", args=[client.pk]), params)
    assert response.status_code == 200
    return response


def test_card_shows_upcoming_with_the_session_number_courses_with_progress_and_counts(reception_client, place):
    client = ClientFactory(full_name="Марія Карткова", phone="+380671234567")
    course = CourseFactory(client=client, massage_type=place[0], planned_sessions=10)
    for day in (-3, -2, -1):
        book(client, place, days=day, status=Appointment.Status.COMPLETED, course=course)
    book(client, place, days=1, course=course)
    book(client, place, days=-5, status=Appointment.Status.NO_SHOW)
    book(client, place, days=-6, status=Appointment.Status.CANCELLED)

    response = card(reception_client, client)
    data = response.context
    body = response.content.decode()

    assert [a.starts_at for a in data["card"].upcoming] == [datetime.datetime(2027, 3, 4, 8, 0, tzinfo=UTC)]
    assert "session 4 of 10" in body
    assert "3 of 10 done, 4 booked" in body
    assert "1 no-show" in body and "1 cancellation" in body
    assert 'href="tel:+380671234567"' in body
    assert len(data["card"].past.object_list) == 5


def test_past_appointments_come_a_page_at_a_time(reception_client, place):
    client = ClientFactory()
    for day in range(1, 13):
        book(client, place, days=-day, status=Appointment.Status.COMPLETED)

    first = card(reception_client, client)
    second = card(reception_client, client, past="2")

    assert len(first.context["card"].past.object_list) == 10
    assert 'data-testid="card-past-earlier"' in first.content.decode()
    assert [a.starts_at.date() for a in second.context["card"].past.object_list] == [
        datetime.date(2027, 2, 20),
        datetime.date(2027, 2, 19),
    ]


def test_card_actions_pre_fill_the_client(reception_client, place):
    client = ClientFactory()
    course = CourseFactory(client=client, massage_type=place[0], status=Course.Status.COMPLETED)

    body = card(reception_client, client).content.decode()

    assert f'href="{reverse("sessions:course-create")}?client={client.pk}"' in body
    assert f'href="{reverse("sessions:appointment-book")}?client={client.pk}"' in body
    assert f'href="{reverse("sessions:course-create")}?repeat={course.pk}"' in body
    assert f'action="{reverse("sessions:client-screening-link", args=[client.pk])}"' in body
    assert f'href="/screening/clients/{client.pk}/new/"' in body  # record a screening
    assert f'href="/screening/clients/{client.pk}/clearances/new/"' in body  # add a clearance


def test_a_masseur_sees_the_bookings_but_no_booking_actions(masseur_client, place):
    client = ClientFactory()
    book(client, place, days=1)

    body = card(masseur_client, client).content.decode()

    assert 'data-testid="card-upcoming"' in body
    assert 'data-testid="card-book-course"' not in body
    assert 'data-testid="card-send-link"' not in body


def _flagged(client, place):
    appointment = book(client, place, days=1)
    Flag.objects.create(
        appointment=appointment, kind=Flag.Kind.ADDED, what_changed="FLAG-DETAIL-SECRET", change_key="added:x"
    )
    return appointment


def test_reception_sees_that_a_flag_is_open_but_not_what_it_says(reception_client, place):
    client = ClientFactory()
    _flagged(client, place)

    body = card(reception_client, client).content.decode()

    assert "contraindication added" in body
    assert "FLAG-DETAIL-SECRET" not in body


def test_the_manager_sees_what_the_flag_says(manager_client, place):
    client = ClientFactory()
    _flagged(client, place)

    body = card(manager_client, client).content.decode()

    assert "FLAG-DETAIL-SECRET" in body


def test_card_lists_the_emails_sent(reception_client, place):
    client = ClientFactory()
    appointment = book(client, place, days=1)
    Reminder.objects.create(
        client=client,
        appointment=appointment,
        kind=Reminder.Kind.APPOINTMENT,
        key="test:1",
        due_at=NOW - datetime.timedelta(hours=1),
        state=Reminder.State.SENT,
        sent_at=NOW - datetime.timedelta(hours=1),
    )

    body = card(reception_client, client).content.decode()

    assert 'data-state="sent"' in body
    assert "Appointment reminder · sent · 3 March 2027, 11:00" in body


def _card_queries(http, client, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(40) as captured:
        card(http, client)
    return len(captured.captured_queries)


def test_card_query_count_does_not_grow_with_the_history(reception_client, place, django_assert_max_num_queries):
    client = ClientFactory()
    course = CourseFactory(client=client, massage_type=place[0])
    book(client, place, days=1, course=course)
    book(client, place, days=-1, status=Appointment.Status.COMPLETED, course=course)
    few = _card_queries(reception_client, client, django_assert_max_num_queries)

    for day in range(2, 40):
        other = CourseFactory(client=client, massage_type=place[0])
        book(client, place, days=-day, status=Appointment.Status.COMPLETED, course=other)
        upcoming = book(client, place, days=day, course=other)
        Flag.objects.create(appointment=upcoming, kind=Flag.Kind.ADDED, what_changed="x", change_key=f"k{day}")
        Reminder.objects.create(
            client=client, appointment=upcoming, kind=Reminder.Kind.APPOINTMENT, key=f"r{day}", due_at=NOW
        )
    many = _card_queries(reception_client, client, django_assert_max_num_queries)

    assert many == few
    print(f"client card queries: few={few} many={many}")


# --- the questionnaire's link by email ---------------------------------------------------------------


def test_sending_the_questionnaire_link_queues_an_outbox_row(reception_client, django_capture_on_commit_callbacks):
    client = ClientFactory(email="maria@example.com", reminder_consent=True)

    with django_capture_on_commit_callbacks() as callbacks:
        response = reception_client.post(reverse("sessions:client-screening-link", args=[client.pk]))

    assert response.status_code == 302
    reminder = Reminder.objects.get(client=client)
    assert (reminder.kind, reminder.state, reminder.due_at, reminder.appointment, reminder.course) == (
        Reminder.Kind.SCREENING_LINK,
        Reminder.State.DUE,
        NOW,
        None,
        None,
    )
    assert len(callbacks) == 1


def test_the_questionnaire_link_twice_in_a_minute_is_one_email(reception_client):
    client = ClientFactory(email="maria@example.com", reminder_consent=True)

    desk.screening_link_send(client=client)
    desk.screening_link_send(client=client)

    assert Reminder.objects.filter(client=client).count() == 1


def test_the_questionnaire_link_email_carries_the_link(settings):
    from sessions.reminders import outbox

    settings.PARLOR_BASE_URL = "https://parlor.example"
    client = ClientFactory(email="maria@example.com", reminder_consent=True, language="en")
    reminder = desk.screening_link_send(client=client)

    message = outbox.build_message(reminder)

    assert message.to == ["maria@example.com"]
    assert message.subject == "Your health questionnaire before the massage"
    assert "https://parlor.example/sessions/s/" in message.body


@pytest.mark.parametrize(
    ("email", "consent", "said"),
    [
        ("", True, "The client has no email address: add it on the client's page first."),
        ("x@example.com", False, "The client has not agreed to emails: ask, and tick it on the client's page first."),
    ],
)
def test_the_questionnaire_link_is_refused_without_an_address_or_consent(reception_client, email, consent, said):
    client = ClientFactory(email=email, reminder_consent=consent)

    response = reception_client.post(reverse("sessions:client-screening-link", args=[client.pk]), follow=True)

    assert Reminder.objects.count() == 0
    assert said in [str(m) for m in response.context["messages"]]


def test_a_masseur_may_not_send_the_questionnaire_link(masseur_client):
    client = ClientFactory()
    assert masseur_client.post(reverse("sessions:client-screening-link", args=[client.pk])).status_code == 403


# --- a new caller goes straight on to a course -------------------------------------------------------


def test_a_search_that_found_nobody_pre_fills_the_new_client(reception_client):
    response = reception_client.get(reverse("clients:client-create"), {"full_name": "Нова Клієнтка"})
    assert response.context["form"]["full_name"].value() == "Нова Клієнтка"
    phone = reception_client.get(reverse("clients:client-create"), {"phone": "067 555 1234"})
    assert phone.context["form"]["phone"].value() == "067 555 1234"


def test_register_and_book_a_course_goes_to_the_course_with_the_client_chosen(reception_client):
    response = reception_client.post(
        reverse("clients:client-create"),
        {
            "full_name": "Нова Клієнтка",
            "phone": "067 555 1234",
            "birth_date": "1990-04-02",
            "sex": "female",
            "language": "uk",
            "data_consent": "on",
            "then_course": "Register and book a course",
        },
    )

    client = Client.objects.get(full_name="Нова Клієнтка")
    assert response.status_code == 302
    assert response.url == f"{reverse('sessions:course-create')}?client={client.pk}"


def test_the_manager_gets_the_register_and_book_button(manager_client):
    assert 'name="then_course"' in manager_client.get(reverse("clients:client-create")).content.decode()


# --- repeat this course -------------------------------------------------------------------------


def test_repeat_this_course_proposes_the_same_masseur_time_and_cadence_from_the_next_free_day(reception_client, place):
    massage_type, masseur, room = place
    client = ClientFactory()
    screening_services.screening_record(
        client=client, answers={"questions": {}}, findings=[], taken_by=None, submission_key=uuid.uuid4()
    )
    course = CourseFactory(
        client=client,
        massage_type=massage_type,
        planned_sessions=4,
        cadence=Course.Cadence.EVERY_OTHER_DAY,
        status=Course.Status.COMPLETED,
    )
    for day in (-7, -5, -3, -1):
        book(client, place, days=day, status=Appointment.Status.COMPLETED, course=course, hour=17)
    # Today 17:00 is taken by someone else: the next free day at 17:00 is tomorrow.
    book(ClientFactory(), place, days=0, hour=17)

    response = reception_client.get(reverse("sessions:course-create"), {"repeat": course.pk})

    form = response.context["form"]
    assert form.cleaned_data["client"] == client
    assert form.cleaned_data["preferred_masseur"] == masseur
    assert form.cleaned_data["cadence"] == Course.Cadence.EVERY_OTHER_DAY
    assert form.cleaned_data["planned_sessions"] == 4
    rows = response.context["rows"]
    assert [timezone.localtime(s.starts_at).strftime("%d %H:%M") for _f, s, _v in rows] == [
        "04 17:00",
        "06 17:00",
        "08 17:00",
        "10 17:00",
    ]
    assert Course.objects.count() == 1  # nothing booked by looking


def test_repeat_of_a_course_that_does_not_exist_is_an_empty_form(reception_client):
    response = reception_client.get(reverse("sessions:course-create"), {"repeat": "999999"})
    assert response.status_code == 200
    assert not response.context["form"].is_bound


def test_the_register_and_book_step_is_registered_for_the_course_permission():
    from clients.panels import next_steps_for

    desk_user = UserFactory(username="desk-steps", role=roles.RECEPTIONIST)
    masseur_user = UserFactory(username="hands-steps", role=roles.MASSEUR)
    assert [s.key for s in next_steps_for(desk_user)] == ["course"]
    assert next_steps_for(masseur_user) == []
    url = next_steps_for(desk_user)[0].url(ClientFactory())
    assert urlsplit(url).path == reverse("sessions:course-create")
    assert list(parse_qs(urlsplit(url).query)) == ["client"]
