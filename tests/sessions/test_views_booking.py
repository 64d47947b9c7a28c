import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import AccessEntry
from screening import services as screening_services
from screening.models import Contraindication
from sessions.booking import page_selectors as booking_support
from sessions.models import Appointment, Course, Override
from tests.clients.helpers import make_client
from tests.factories import ClientFactory, MasseurFactory, RoomFactory, UserFactory, WorkingHoursFactory
from tests.sessions.conftest import MONDAY, make_world
from tests.sessions.factories import AppointmentFactory, CourseFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
CREATE = reverse("sessions:course-create")
BOOK = reverse("sessions:appointment-book")
# Monday 2027-03-01 10:00 in Kyiv (UTC+2).
TEN = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def verdict():
    """The real screening rules here (the sessions conftest fakes them): these pages show the verdict."""
    return None


def screen(client, *codes, taken_at=None):
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
def world(db, frozen_now):
    """make_world() with the masseur working every day 09:00-18:00 and a screening with nothing found."""
    world = make_world()
    world.masseur.working_hours.all().delete()
    for weekday in range(7):
        WorkingHoursFactory(masseur=world.masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(18))
    screen(world.client)
    return world


def course_data(world, **overrides) -> dict:
    data = {
        "client": world.client.pk,
        "massage_type": world.massage_type.pk,
        "indication": Course.Indication.BACK_PAIN,
        "planned_sessions": 10,
        "cadence": Course.Cadence.DAILY,
        "preferred_masseur": world.masseur.pk,
        "preferred_time": "10:00",
        "start_date": MONDAY.isoformat(),
        "request_key": str(uuid.uuid4()),
        "action": "propose",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def rows_data(response) -> dict:
    """The schedule rows as the page proposed them, ready to post back."""
    formset = response.context["formset"]
    data = {"s-TOTAL_FORMS": str(len(formset.forms)), "s-INITIAL_FORMS": "0"}
    for index, form in enumerate(formset.forms):
        data[f"s-{index}-starts_at"] = timezone.localtime(form.initial["starts_at"]).strftime("%Y-%m-%dT%H:%M")
        data[f"s-{index}-masseur"] = str(form.initial["masseur"])
        data[f"s-{index}-room"] = str(form.initial["room"])
    return data


def propose(http, world, **overrides):
    return http.post(CREATE, course_data(world, **overrides))


def book_course(http, world, **overrides):
    proposed = propose(http, world, **overrides)
    data = course_data(world, **overrides) | rows_data(proposed) | {"action": "book"}
    data["request_key"] = proposed.context["form"]["request_key"].value()
    return http.post(CREATE, data), data


# --- course-create ----------------------------------------------------------------------------


def test_course_create_get_prefills_the_client_from_the_link(world, reception_client):
    response = reception_client.get(CREATE, {"client": world.client.pk})
    assert response.status_code == 200
    assert response.context["form"]["client"].value() == world.client.pk
    assert f'<option value="{world.client.pk}" selected>' in response.content.decode()


def test_course_create_a_client_number_that_does_not_exist_is_said_beside_the_field(world, reception_client):
    response = reception_client.get(CREATE, {"client": "999999"})
    assert response.status_code == 200
    assert response.context["form"].errors["client"] == ["There is no client with this number."]


def test_course_create_search_lists_the_matching_clients(world, reception_client):
    make_client(full_name="Ірина Бондаренко", phone="+380501112233", email="iryna@example.com")
    response = reception_client.get(CREATE, {"q": "Бондаренко"})
    labels = [label for _value, label in response.context["form"].fields["client"].widget.choices]
    assert any("Ірина Бондаренко" in str(label) for label in labels)
    assert not any(world.client.full_name in str(label) for label in labels)


def test_course_create_propose_shows_ten_daily_sessions_and_only_the_status_to_reception(world, reception_client):
    screen(world.client, "high-blood-pressure")
    response = propose(reception_client, world)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [timezone.localtime(session.starts_at).date() for _f, session, _v in rows] == [
        MONDAY + datetime.timedelta(days=n) for n in range(10)
    ]
    assert {timezone.localtime(session.starts_at).time() for _f, session, _v in rows} == {datetime.time(10)}
    assert all(session.is_bookable and not session.warnings for _f, session, _v in rows)
    assert response.context["verdict"].status == "adapted"
    body = response.content.decode()
    # Issue 11 (need-to-know): reception sees the status, never the adaptation itself.
    assert 'data-status="adapted"' in body
    assert "High blood pressure" not in body
    assert Course.objects.count() == 0


def test_course_create_propose_shows_the_adaptation_to_the_manager_and_leaves_a_trail(world, manager_client):
    screen(world.client, "high-blood-pressure")
    body = propose(manager_client, world).content.decode()
    assert "High blood pressure: work from the neck down, not bottom-up." in body
    assert list(AccessEntry.objects.values_list("client_id", "page")) == [(world.client.pk, "sessions:course-create")]


def test_course_create_book_all_redirects_to_the_course(world, reception_client):
    response, _data = book_course(reception_client, world)
    course = Course.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("sessions:course-detail", args=[course.pk])
    assert course.appointments.filter(status=Appointment.Status.BOOKED).count() == 10
    assert course.created_by.username == "desk"


def test_course_create_submitted_twice_books_once(world, reception_client):
    first, data = book_course(reception_client, world)
    second = reception_client.post(CREATE, data)
    assert first.url == second.url
    assert Course.objects.count() == 1
    assert Appointment.objects.count() == 10


def test_course_create_with_one_row_taken_books_nothing_and_names_the_row(world, reception_client):
    proposed = propose(reception_client, world)
    data = course_data(world) | rows_data(proposed) | {"action": "book"}
    # Meanwhile somebody books the masseur on the third day at 10:00.
    AppointmentFactory(
        massage_type=world.massage_type,
        masseur=world.masseur,
        starts_at=datetime.datetime(2027, 3, 3, 8, 0, tzinfo=UTC),
    )
    response = reception_client.post(CREATE, data)
    assert response.status_code == 200
    assert Course.objects.count() == 0
    assert Appointment.objects.count() == 1
    (number, failure), *_rest = response.context["failures"]
    assert number == 3
    assert failure.messages == ["Олена already has an appointment at this time."]
    formset = response.context["formset"]
    assert formset.forms[2].non_field_errors() == ["Олена already has an appointment at this time."]
    # What was typed is kept.
    assert response.context["form"]["preferred_time"].value() == "10:00"
    assert formset.forms[2]["starts_at"].value() == "2027-03-03T10:00"


def test_course_create_recheck_of_a_changed_row_shows_its_gap_and_conflicts(world, reception_client):
    proposed = propose(reception_client, world, planned_sessions=3)
    data = course_data(world, planned_sessions=3) | rows_data(proposed) | {"action": "check"}
    data["s-2-starts_at"] = "2027-03-08T10:00"  # 6 days after the second session
    data["s-1-starts_at"] = "2027-03-02T07:00"  # before the masseur starts
    response = reception_client.post(CREATE, data)
    rows = response.context["rows"]
    assert rows[1][1].conflicts == ["Олена does not work at this time."]
    assert rows[2][1].warnings == [
        "6 days since the previous session: a course works best with gaps of at most 2 days."
    ]
    assert Course.objects.count() == 0


@pytest.mark.parametrize("planned", [0, 500])
def test_course_create_an_absurd_length_is_said_beside_the_field(world, reception_client, planned):
    response = propose(reception_client, world, planned_sessions=planned)
    assert response.context["form"].errors == {"planned_sessions": ["A course has from 1 to 30 sessions."]}
    assert "formset" not in response.context
    assert Course.objects.count() == 0


def test_course_create_a_start_in_the_past_is_said_beside_the_field(world, reception_client):
    response = propose(reception_client, world, start_date="2027-01-20")
    assert response.context["form"].errors == {"start_date": ["The course cannot start in the past."]}


def test_course_create_a_row_in_the_past_is_refused_on_booking(world, reception_client):
    proposed = propose(reception_client, world, planned_sessions=2)
    data = course_data(world, planned_sessions=2) | rows_data(proposed) | {"action": "book"}
    data["s-0-starts_at"] = "2027-01-25T10:00"
    response = reception_client.post(CREATE, data)
    assert Course.objects.count() == 0
    assert response.context["failures"][0][0] == 1
    assert "This time has already passed." in response.context["failures"][0][1].messages


def test_course_create_an_unqualified_masseur_is_said_beside_the_field(world, reception_client):
    other = MasseurFactory(display_name="Петро")
    response = propose(reception_client, world, preferred_masseur=other.pk)
    assert response.context["form"].errors == {
        "preferred_masseur": [f"Петро is not qualified for {world.massage_type}."]
    }


def test_course_create_masseur_list_offers_only_the_qualified(world, reception_client):
    MasseurFactory(display_name="Петро")
    response = reception_client.get(CREATE, {"massage_type": world.massage_type.pk})
    labels = [label for _value, label in response.context["form"].fields["preferred_masseur"].choices]
    assert labels == ["---------", "Олена"]


def test_course_create_chosen_weekdays_without_any_is_said_beside_the_field(world, reception_client):
    response = propose(reception_client, world, cadence=Course.Cadence.WEEKDAYS)
    assert response.context["form"].errors == {"weekdays": ["Choose at least one weekday."]}


def test_course_create_without_a_screening_says_a_fresh_one_is_needed(world, reception_client):
    client = ClientFactory()
    response = propose(reception_client, world, client=client.pk, planned_sessions=1)
    assert response.context["verdict"].status == "needs-screening"
    assert "Needs a fresh screening: record one before booking." in response.content.decode()
    data = course_data(world, client=client.pk, planned_sessions=1) | rows_data(response) | {"action": "book"}
    booked = reception_client.post(CREATE, data)
    assert Course.objects.count() == 0
    assert "The client needs an up-to-date screening first" in booked.context["failures"][0][1].messages[0]


def test_course_create_blocked_shows_the_override_field_to_a_manager_only(world, reception_client, manager_client):
    screen(world.client, "oncology")
    for http, shown in ((reception_client, False), (manager_client, True)):
        response = propose(http, world, planned_sessions=1)
        assert response.context["any_blocked"] is True
        body = response.content.decode()
        assert "Blocked: massage is contraindicated" in body
        assert ('name="override_reason"' in body) is shown


def test_course_create_blocked_booked_by_a_manager_with_a_reason(world, manager_client):
    screen(world.client, "oncology")
    response, _data = book_course(manager_client, world, planned_sessions=2, override_reason="Oncologist allows it")
    assert response.status_code == 302
    assert list(Override.objects.values_list("reason", "covers")) == [("Oncologist allows it", ["oncology"])] * 2


# --- course-detail and its actions ---------------------------------------------------------------


def _book_course_directly(world, sessions=10, *, start=TEN):
    from sessions.booking.services import course_book

    return course_book(
        client=world.client,
        massage_type=world.massage_type,
        indication=Course.Indication.BACK_PAIN,
        planned_sessions=sessions,
        cadence=Course.Cadence.DAILY,
        sessions=[(start + datetime.timedelta(days=n), world.masseur, world.room) for n in range(sessions)],
        booked_by=world.user,
    )


def test_course_detail_shows_progress_and_the_adaptation_on_every_appointment(world, manager_client):
    screen(world.client, "high-blood-pressure")
    course = _book_course_directly(world, sessions=4)
    response = manager_client.get(reverse("sessions:course-detail", args=[course.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-testid="course-appointment"') == 4
    assert body.count("High blood pressure: work from the neck down, not bottom-up.") == 4
    assert "0/4 done · 4 booked" in body
    assert reverse("sessions:appointment-move", args=[course.appointments.first().pk]) in body


def test_course_detail_shows_reception_progress_but_no_adaptation(world, reception_client):
    # Issue 11 (need-to-know): the adaptation is health data; reception sees the schedule.
    screen(world.client, "high-blood-pressure")
    course = _book_course_directly(world, sessions=4)
    body = reception_client.get(reverse("sessions:course-detail", args=[course.pk])).content.decode()
    assert body.count('data-testid="course-appointment"') == 4
    assert "High blood pressure" not in body
    assert "0/4 done · 4 booked" in body
    assert not AccessEntry.objects.exists()


def test_course_detail_adaptation_follows_the_screening_of_each_day(world, reception_client, frozen_now):
    course = _book_course_directly(world, sessions=3)
    # A screening taken on the second day (after the first session) finds high blood pressure.
    screen(world.client, "high-blood-pressure", taken_at=datetime.datetime(2027, 3, 2, 6, 0, tzinfo=UTC))
    page = booking_support.course_page(pk=course.pk)
    statuses = [page.verdicts[a.pk].status for a in page.appointments]
    assert statuses == ["allowed", "adapted", "adapted"]


def test_verdicts_by_day_match_verdict_for_day_by_day(world):
    from screening.selectors import verdict_for

    screen(world.client, "high-blood-pressure", taken_at=datetime.datetime(2027, 1, 1, 9, tzinfo=UTC))
    screen(world.client, "oncology", taken_at=datetime.datetime(2027, 3, 5, 9, tzinfo=UTC))
    days = [MONDAY + datetime.timedelta(days=n) for n in range(0, 120, 7)]
    bulk = booking_support.verdicts_by_day(client=world.client, massage_type=world.massage_type, days=days)
    assert bulk == {day: verdict_for(client=world.client, massage_type=world.massage_type, day=day) for day in days}


@pytest.mark.parametrize("role", ["reception_client", "masseur_client", "manager_client"])
def test_course_detail_query_count_does_not_grow_with_the_course(request, world, role, django_assert_max_num_queries):
    http = request.getfixturevalue(role)
    short = _book_course_directly(world, sessions=10)
    world.client = ClientFactory()
    screen(world.client, "high-blood-pressure")
    long = _book_course_directly(world, sessions=30, start=TEN + datetime.timedelta(hours=3))
    http.get(reverse("sessions:course-detail", args=[short.pk]))  # warm the session and permissions
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert http.get(reverse("sessions:course-detail", args=[short.pk])).status_code == 200
    with django_assert_max_num_queries(len(few)):
        assert http.get(reverse("sessions:course-detail", args=[long.pk])).status_code == 200


def test_course_cancel_rest_needs_a_reason(world, reception_client):
    course = _book_course_directly(world, sessions=3)
    url = reverse("sessions:course-cancel-rest", args=[course.pk])
    response = reception_client.post(url, {"rest-reason": ""})
    assert response.status_code == 400
    assert response.context["cancel_form"].errors == {"reason": ["Say why it is cancelled."]}
    assert course.appointments.filter(status=Appointment.Status.CANCELLED).count() == 0


def test_course_cancel_rest_cancels_every_upcoming_session(world, reception_client):
    course = _book_course_directly(world, sessions=3)
    url = reverse("sessions:course-cancel-rest", args=[course.pk])
    response = reception_client.post(url, {"rest-reason": "moved abroad"}, follow=True)
    assert "The course is cancelled; 3 upcoming sessions cancelled." in response.content.decode()
    course.refresh_from_db()
    assert course.status == Course.Status.CANCELLED
    assert set(course.appointments.values_list("cancellation_reason", flat=True)) == {"moved abroad"}


def test_course_shorten_cancels_the_last_sessions_once(world, reception_client):
    course = _book_course_directly(world, sessions=5)
    last = course.appointments.order_by("-starts_at").first()
    url = reverse("sessions:course-shorten", args=[course.pk])
    data = {"shorten-count": "2", "shorten-reason": "doctor's advice", "shorten-expect_last": str(last.pk)}
    assert reception_client.post(url, data).status_code == 302
    again = reception_client.post(url, data)
    assert again.status_code == 400
    assert again.context["shorten_form"].non_field_errors() == [
        "The course changed meanwhile; check its sessions and try again."
    ]
    statuses = list(course.appointments.order_by("starts_at").values_list("status", flat=True))
    assert statuses == ["booked"] * 3 + ["cancelled"] * 2
    course.refresh_from_db()
    assert course.planned_sessions == 3  # lowered by the two cancelled, once


def test_course_shorten_more_than_upcoming_is_said_beside_the_field(world, reception_client):
    course = _book_course_directly(world, sessions=2)
    last = course.appointments.order_by("-starts_at").first()
    url = reverse("sessions:course-shorten", args=[course.pk])
    response = reception_client.post(
        url, {"shorten-count": "5", "shorten-reason": "x", "shorten-expect_last": str(last.pk)}
    )
    assert response.context["shorten_form"].errors == {"count": ["Upcoming sessions that can be cancelled: 2."]}


def test_course_extend_proposes_after_the_last_session_and_books_all(world, reception_client):
    course = _book_course_directly(world, sessions=3)
    url = reverse("sessions:course-extend", args=[course.pk])
    key = str(uuid.uuid4())
    proposed = reception_client.post(url, {"count": "2", "action": "propose", "request_key": key})
    starts = [timezone.localtime(session.starts_at) for _f, session, _v in proposed.context["rows"]]
    assert [s.date() for s in starts] == [datetime.date(2027, 3, 4), datetime.date(2027, 3, 5)]
    assert {s.time() for s in starts} == {datetime.time(10)}
    data = rows_data(proposed) | {"count": "2", "action": "book", "request_key": key}
    assert reception_client.post(url, data).status_code == 302
    assert reception_client.post(url, data).status_code == 302  # the same form again books nothing more
    assert course.appointments.count() == 5
    course.refresh_from_db()
    assert course.planned_sessions == 5  # raised by the two added, once


def test_course_detail_offers_no_extension_once_the_plan_is_full(world, reception_client):
    course = _book_course_directly(world, sessions=3)
    Course.objects.filter(pk=course.pk).update(planned_sessions=30)
    response = reception_client.get(reverse("sessions:course-detail", args=[course.pk]))
    assert response.context["can_extend"] is False
    assert 'data-testid="extend-link"' not in response.content.decode()


def test_course_extend_with_a_long_gap_warns(world, reception_client):
    course = _book_course_directly(world, sessions=2)
    url = reverse("sessions:course-extend", args=[course.pk])
    proposed = reception_client.post(url, {"count": "1", "action": "propose", "request_key": str(uuid.uuid4())})
    data = rows_data(proposed) | {"count": "1", "action": "check", "request_key": str(uuid.uuid4())}
    data["s-0-starts_at"] = "2027-03-09T10:00"
    response = reception_client.post(url, data)
    assert response.context["rows"][0][1].warnings == [
        "7 days since the previous session: a course works best with gaps of at most 2 days."
    ]


# --- appointment-book -----------------------------------------------------------------------------


def slot_params(world, **overrides) -> dict:
    params = {
        "masseur": world.masseur.pk,
        "room": world.room.pk,
        "starts_at": "2027-03-01T10:00:00+02:00",
        "massage_type": world.massage_type.pk,
        "client": world.client.pk,
    }
    params.update(overrides)
    return params


def book_data(world, **overrides) -> dict:
    data = {
        "client": world.client.pk,
        "massage_type": world.massage_type.pk,
        "masseur": world.masseur.pk,
        "room": world.room.pk,
        "starts_at": "2027-03-01T10:00",
        "request_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def test_appointment_book_from_a_calendar_slot_prefills_everything(world, reception_client):
    response = reception_client.get(BOOK, slot_params(world))
    form = response.context["form"]
    assert not form.errors
    assert form["masseur"].value() == world.masseur.pk
    assert form["room"].value() == world.room.pk
    assert form["client"].value() == world.client.pk
    assert 'value="2027-03-01T10:00"' in response.content.decode()
    assert response.context["verdict"].status == "allowed"


def test_appointment_book_the_slot_link_with_a_plus_turned_space_still_reads(world, reception_client):
    response = reception_client.get(BOOK + "?starts_at=2027-03-01T10:00:00 02:00")
    assert not response.context["form"].errors
    assert 'value="2027-03-01T10:00"' in response.content.decode()


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("starts_at", "yesterday-ish", "The start in the link is not a date and time; choose it here."),
        ("client", "999999", "There is no client with this number."),
        ("client", "abc", "There is no client with this number."),
        ("masseur", "999999", "There is no such masseur."),
        ("room", "999999", "There is no such room."),
        ("massage_type", "x", "There is no such massage type."),
    ],
)
def test_appointment_book_a_bad_link_parameter_is_said_beside_its_field(world, reception_client, param, value, message):
    response = reception_client.get(BOOK, slot_params(world, **{param: value}))
    assert response.status_code == 200
    assert response.context["form"].errors == {param: [message]}
    assert message in response.content.decode()


def test_appointment_book_books_and_redirects(world, reception_client):
    response = reception_client.post(BOOK, book_data(world))
    appointment = Appointment.objects.get()
    assert response.url == reverse("sessions:appointment-detail", args=[appointment.pk])
    assert appointment.starts_at == TEN
    assert appointment.booked_by.username == "desk"


def test_appointment_book_twice_with_the_same_key_books_once(world, reception_client):
    data = book_data(world)
    reception_client.post(BOOK, data)
    reception_client.post(BOOK, data)
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"starts_at": "2027-03-01T07:00"}, "starts_at", "Олена does not work at this time."),
        ({"starts_at": "2027-01-25T10:00"}, "starts_at", "This time has already passed."),
        ({"starts_at": "not a date"}, "starts_at", "Enter a valid date/time."),
    ],
)
def test_appointment_book_bad_start_is_said_beside_the_start(world, reception_client, overrides, field, message):
    response = reception_client.post(BOOK, book_data(world, **overrides))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert response.context["form"]["starts_at"].value() == overrides["starts_at"]
    assert Appointment.objects.count() == 0


def test_appointment_book_an_unqualified_masseur_is_said_beside_the_masseur(world, reception_client):
    other = MasseurFactory(display_name="Петро")
    response = reception_client.post(BOOK, book_data(world, masseur=other.pk))
    assert response.context["form"].errors == {"masseur": [f"Петро is not qualified for {world.massage_type}."]}


def test_appointment_book_a_taken_room_is_said_beside_the_room(world, reception_client):
    AppointmentFactory(room=world.room, massage_type=world.massage_type, starts_at=TEN)
    response = reception_client.post(BOOK, book_data(world))
    assert response.context["form"].errors == {"room": ["Room A is taken at this time."]}
    assert Appointment.objects.count() == 1


def test_appointment_book_blocked_refuses_reception_and_shows_no_override(world, reception_client):
    screen(world.client, "oncology")
    response = reception_client.post(BOOK, book_data(world, override_reason="please"))
    assert Appointment.objects.count() == 0
    assert "only a manager may override" in response.context["form"].non_field_errors()[0]
    assert 'name="override_reason"' not in response.content.decode()


def test_appointment_book_blocked_booked_by_a_manager_with_a_reason(world, manager_client):
    screen(world.client, "oncology")
    shown = manager_client.get(BOOK, slot_params(world))
    assert 'name="override_reason"' in shown.content.decode()
    response = manager_client.post(BOOK, book_data(world, override_reason="Oncologist's letter"))
    assert response.status_code == 302
    assert Appointment.objects.get().overrides.get().reason == "Oncologist's letter"


# --- appointment pages ------------------------------------------------------------------------------


def test_appointment_detail_shows_reception_the_status_and_actions_but_no_adaptation(world, reception_client):
    screen(world.client, "high-blood-pressure")
    course = _book_course_directly(world, sessions=2)
    appointment = course.appointments.first()
    response = reception_client.get(reverse("sessions:appointment-detail", args=[appointment.pk]))
    body = response.content.decode()
    # Issue 11 (need-to-know): reception saw the adaptation here before.
    assert "High blood pressure" not in body
    assert 'data-status="adapted"' in body
    assert reverse("sessions:appointment-move", args=[appointment.pk]) in body
    assert "0/2 done" in body


def test_appointment_detail_shows_the_manager_the_adaptation(world, manager_client):
    screen(world.client, "high-blood-pressure")
    appointment = _book_course_directly(world, sessions=2).appointments.first()
    body = manager_client.get(reverse("sessions:appointment-detail", args=[appointment.pk])).content.decode()
    assert "High blood pressure: work from the neck down, not bottom-up." in body
    entry = AccessEntry.objects.get()
    assert (entry.page, entry.object_type, entry.object_id) == (
        "sessions:appointment-detail",
        "treatments.appointment",
        str(appointment.pk),
    )


def test_appointment_move_check_shows_the_gap_warning_before_confirming(world, reception_client):
    course = _book_course_directly(world, sessions=3)
    last = course.appointments.order_by("-starts_at").first()
    url = reverse("sessions:appointment-move", args=[last.pk])
    data = {"starts_at": "2027-03-07T10:00", "masseur": world.masseur.pk, "room": world.room.pk, "action": "check"}
    response = reception_client.post(url, data)
    assert response.context["warnings"] == [
        "5 days since the previous session: a course works best with gaps of at most 2 days."
    ]
    last.refresh_from_db()
    assert last.starts_at == datetime.datetime(2027, 3, 3, 8, 0, tzinfo=UTC)


def test_appointment_move_moves_and_warns_about_the_gap(world, reception_client):
    course = _book_course_directly(world, sessions=3)
    last = course.appointments.order_by("-starts_at").first()
    url = reverse("sessions:appointment-move", args=[last.pk])
    data = {"starts_at": "2027-03-07T10:00", "masseur": world.masseur.pk, "room": world.room.pk, "action": "move"}
    response = reception_client.post(url, data, follow=True)
    body = response.content.decode()
    assert "Moved to 7 March 2027, 10:00." in body
    assert "5 days since the previous session: a course works best with gaps of at most 2 days." in body
    last.refresh_from_db()
    assert last.starts_at == datetime.datetime(2027, 3, 7, 8, 0, tzinfo=UTC)


def test_appointment_move_onto_a_busy_room_is_said_beside_the_room(world, reception_client):
    appointment = _book_course_directly(world, sessions=1).appointments.get()
    AppointmentFactory(room=world.room, massage_type=world.massage_type, starts_at=TEN + datetime.timedelta(hours=2))
    url = reverse("sessions:appointment-move", args=[appointment.pk])
    data = {"starts_at": "2027-03-01T12:00", "masseur": world.masseur.pk, "room": world.room.pk, "action": "move"}
    response = reception_client.post(url, data)
    assert response.context["form"].errors == {"room": ["Room A is taken at this time."]}


def test_appointment_cancel_get_shows_the_form_and_cancels_nothing(world, reception_client):
    appointment = _book_course_directly(world, sessions=1).appointments.get()
    url = reverse("sessions:appointment-cancel", args=[appointment.pk])
    assert reception_client.get(url).status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_appointment_cancel_needs_a_reason(world, reception_client):
    appointment = _book_course_directly(world, sessions=1).appointments.get()
    url = reverse("sessions:appointment-cancel", args=[appointment.pk])
    response = reception_client.post(url, {"reason": "  "})
    assert response.context["form"].errors == {"reason": ["Say why it is cancelled."]}
    response = reception_client.post(url, {"reason": "ill"})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (Appointment.Status.CANCELLED, "ill")


def test_appointment_no_show_before_the_start_is_refused_with_a_message(world, reception_client):
    appointment = _book_course_directly(world, sessions=1).appointments.get()
    url = reverse("sessions:appointment-no-show", args=[appointment.pk])
    assert reception_client.get(url).status_code == 405
    response = reception_client.post(url, follow=True)
    assert "The appointment has not started yet." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_appointment_no_show_after_the_start(world, reception_client, receptionist, time_machine):
    appointment = _book_course_directly(world, sessions=1).appointments.get()
    time_machine.move_to(TEN + datetime.timedelta(minutes=20))
    reception_client.force_login(receptionist)  # a month later the first login's session has expired
    reception_client.post(reverse("sessions:appointment-no-show", args=[appointment.pk]))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW


# --- permissions and navigation ---------------------------------------------------------------------


@pytest.fixture
def nobody_client(db):
    from django.test import Client as HttpClient

    http = HttpClient()
    http.force_login(UserFactory(username="nobody"))
    return http


def _pages(world):
    course = CourseFactory(client=world.client, massage_type=world.massage_type)
    appointment = AppointmentFactory(
        course=course, client=world.client, massage_type=world.massage_type, masseur=world.masseur, room=world.room
    )
    return {
        "course-create": ("get", reverse("sessions:course-create")),
        "course-detail": ("get", reverse("sessions:course-detail", args=[course.pk])),
        "course-extend": ("get", reverse("sessions:course-extend", args=[course.pk])),
        "course-cancel-rest": ("post", reverse("sessions:course-cancel-rest", args=[course.pk])),
        "course-shorten": ("post", reverse("sessions:course-shorten", args=[course.pk])),
        "appointment-book": ("get", reverse("sessions:appointment-book")),
        "appointment-detail": ("get", reverse("sessions:appointment-detail", args=[appointment.pk])),
        "appointment-move": ("get", reverse("sessions:appointment-move", args=[appointment.pk])),
        "appointment-cancel": ("get", reverse("sessions:appointment-cancel", args=[appointment.pk])),
        "appointment-no-show": ("post", reverse("sessions:appointment-no-show", args=[appointment.pk])),
    }


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("reception_client", "all"),
        ("manager_client", "all"),
        ("masseur_client", {"course-detail", "appointment-detail"}),
        ("nobody_client", set()),
    ],
)
def test_booking_pages_by_role(request, world, role, allowed):
    http = request.getfixturevalue(role)
    for name, (method, url) in _pages(world).items():
        status = getattr(http, method)(url).status_code
        if allowed == "all" or name in allowed:
            assert status != 403, (role, name)
        else:
            assert status == 403, (role, name)
    assert Appointment.objects.exclude(status=Appointment.Status.BOOKED).count() == 0


def test_booking_pages_send_anonymous_visitors_to_log_in(world, client):
    response = client.get(CREATE)
    assert response.status_code == 302
    assert "/login/" in response.url


def test_nav_new_course_link_for_reception_not_for_a_masseur(world, reception_client, masseur_client):
    dashboard = reverse("parlor:dashboard")
    assert 'data-testid="nav-new-course"' in reception_client.get(dashboard).content.decode()
    assert 'data-testid="nav-new-course"' not in masseur_client.get(dashboard).content.decode()


def test_masseur_sees_no_action_buttons_on_the_course_page(world, masseur_client):
    course = _book_course_directly(world, sessions=2)
    body = masseur_client.get(reverse("sessions:course-detail", args=[course.pk])).content.decode()
    assert 'data-testid="move-link"' not in body
    assert 'data-testid="cancel-rest-form"' not in body


def test_room_and_masseur_lists_leave_out_the_inactive(world, reception_client):
    RoomFactory(name="Old room", is_active=False)
    response = reception_client.get(BOOK)
    labels = [label for _value, label in response.context["form"].fields["room"].choices]
    assert labels == ["---------", "Room A"]


@pytest.mark.parametrize(
    ("language", "shown"),
    [("uk", "Скасовано клієнтом за посиланням з листа."), ("en", "Cancelled by the client by the email link.")],
)
def test_a_cancellation_by_the_clients_link_reads_in_the_staffs_language(
    world, reception_client, settings, language, shown
):
    from sessions.reminders.client_actions import appointment_cancel_by_client

    settings.LANGUAGE_CODE = language
    appointment = _book_course_directly(world, sessions=1).appointments.get()
    appointment_cancel_by_client(appointment=appointment)

    page = reception_client.get(reverse("sessions:appointment-detail", args=[appointment.pk])).content.decode()
    assert page.split('data-testid="appointment-cancellation-reason">')[1].split("<")[0] == shown
