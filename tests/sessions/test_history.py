import datetime
from pathlib import Path

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse

from screening.models import Clearance
from sessions.care.history import PAGE_SESSIONS, client_history
from sessions.flags.services import flag_acknowledge, flags_raise_for
from sessions.models import Appointment, Course, SessionLog, SessionLogAddendum
from tests.sessions.factories import AppointmentFactory, CourseFactory
from tests.sessions.test_masseur_support import NOW, TODAY, at, logged_in, make_day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _signed_sessions(day, count: int, *, course=None, start_days_ago: int = 1):
    """`count` completed past sessions, each with a signed log and an addendum, written straight to the tables."""
    course = course or day.course
    for number in range(count):
        starts = at(-start_days_ago - number, 8) + datetime.timedelta(minutes=0)
        appointment = AppointmentFactory(
            client=day.client,
            massage_type=day.massage_type,
            masseur=day.masseur,
            room=day.room,
            course=course,
            starts_at=starts,
            status=Appointment.Status.COMPLETED,
        )
        log = SessionLog.objects.create(
            appointment=appointment,
            pain_before=7,
            pain_after=4,
            duration_minutes=40,
            status=SessionLog.Status.SIGNED,
            signed_by=day.user,
            signed_at=starts,
            products=["almond oil"],
        )
        SessionLogAddendum.objects.create(log=log, author=day.user, text=f"note {number}")


def test_client_history_is_chronological_with_diffs_logs_and_flags():
    day = make_day()
    for flag in flags_raise_for(appointment=day.appointment):
        flag_acknowledge(flag=flag, by=day.user)
    _signed_sessions(day, 2, start_days_ago=3)
    Course.objects.filter(pk=day.course.pk).update(created_at=at(-6, 9))

    history = client_history(client=day.client)

    assert [e.kind for e in history.entries] == ["screening", "course", "session", "session", "screening", "session"]
    assert [e.at for e in history.entries] == sorted(e.at for e in history.entries)
    assert [f.code for f in history.entries[4].extra["diff"].added] == ["kidney-disease"]
    assert len(history.entries[-1].extra["flags"]) == 2
    assert history.entries[2].extra["log"].pain_after == 4


def test_client_history_view_filters_by_course():
    day = make_day(second_finding=None)
    _signed_sessions(day, 2)
    other_course = CourseFactory(client=day.client, massage_type=day.massage_type)
    _signed_sessions(day, 1, course=other_course, start_days_ago=5)

    response = logged_in(day.user).get(
        reverse("sessions:client-history", args=[day.client.pk]), {"course": other_course.pk}
    )

    sessions = [e for e in response.context["history"].entries if e.kind == "session"]
    assert [e.obj.course_id for e in sessions] == [other_course.pk]
    assert response.context["history"].course == other_course


def test_client_history_view_is_printable_and_shows_clearances_and_addenda():
    day = make_day()
    _signed_sessions(day, 1)
    Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.REFERRAL,
        doctor_name="Д-р Гнатюк",
        issued_on=TODAY - datetime.timedelta(days=3),
        valid_until=TODAY + datetime.timedelta(days=30),
        covers_massage_type=day.massage_type,
    )

    page = logged_in(day.user).get(reverse("sessions:client-history", args=[day.client.pk])).content.decode()

    assert "Д-р Гнатюк" in page
    assert "note 0" in page
    assert "+ Kidney disease" in page
    assert 'class="row g-2 align-items-end mb-3 d-print-none"' in page
    # The print rules and the print button's script are static files (the CSP allows no inline code).
    assert 'href="/static/parlor/parlor.css"' in page and "data-print" in page
    assert ".history-entry { break-inside: avoid; }" in Path(finders.find("parlor/parlor.css")).read_text()


def test_client_history_view_by_reception_is_forbidden(reception_client):
    day = make_day(second_finding=None)

    assert reception_client.get(reverse("sessions:client-history", args=[day.client.pk])).status_code == 403


def test_client_history_view_by_a_masseur_without_the_client_is_forbidden():
    day = make_day(second_finding=None)
    other = make_day(username="petro", second_finding=None)

    response = logged_in(other.user).get(reverse("sessions:client-history", args=[day.client.pk]))

    assert response.status_code == 403


def test_client_history_view_bad_course_filter_shows_everything():
    day = make_day(second_finding=None)

    response = logged_in(day.user).get(reverse("sessions:client-history", args=[day.client.pk]), {"course": "abc"})

    assert response.status_code == 200
    assert response.context["history"].course is None


@pytest.mark.parametrize("count", [3, 200])
def test_client_history_view_query_count_does_not_grow(count, django_assert_max_num_queries):
    day = make_day()
    for flag in flags_raise_for(appointment=day.appointment):
        flag_acknowledge(flag=flag, by=day.user)
    _signed_sessions(day, count)
    web = logged_in(day.user)

    # The history's 10 reads; the user, the client and the masseur's own-client check (the session and
    # the permissions come from the cache); the access trail's entry.
    with django_assert_max_num_queries(14) as captured:
        response = web.get(reverse("sessions:client-history", args=[day.client.pk]))

    assert response.status_code == 200
    # The newest sessions; the earlier ones are a page of their own (tests/sessions/test_history_pages.py).
    assert len([e for e in response.context["history"].entries if e.kind == "session"]) == min(count + 1, PAGE_SESSIONS)
    print(f"history with {count} sessions: {len(captured)} queries")
