"""The pain chart on the review and history pages, and the manager's outcome view."""

import itertools
import re

import pytest
import time_machine
from django.urls import reverse

from sessions.care import outcomes
from sessions.care.review import PainSample, pain_chart, pain_summary
from sessions.models import Appointment, Course, SessionLog
from tests.factories import ClientFactory, MassageTypeFactory
from tests.sessions.factories import AppointmentFactory, CourseFactory
from tests.sessions.test_masseur_support import NOW, at, logged_in, make_day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


DAY_COURSE = object()
# A coordinate written with a decimal comma (x="132,0"), which a browser refuses.
NUMBER_WITH_COMMA = r'\b(?:x|y|x1|x2|y1|y2|cx|cy|dx|dy|r|width|height)="[^"]*,'
# A polyline's points: "x.x,y.y x.x,y.y".
POINTS = r"\d+\.\d,\d+\.\d( \d+\.\d,\d+\.\d)*"
_hours = itertools.count()


def _session(
    day, *, days_ago: int, before: int, after: int, course=DAY_COURSE, signed=True, status=None, client=None, hour=8
):
    """A past session (of the day's course unless told) with a signed log of this pain."""
    course = day.course if course is DAY_COURSE else course
    appointment = AppointmentFactory(
        client=client or day.client,
        massage_type=course.massage_type if course else day.massage_type,
        masseur=day.masseur,
        room=day.room,
        course=course,
        starts_at=at(-days_ago, hour),
        status=status or Appointment.Status.COMPLETED,
    )
    if signed:
        SessionLog.objects.create(
            appointment=appointment,
            pain_before=before,
            pain_after=after,
            duration_minutes=40,
            status=SessionLog.Status.SIGNED,
            signed_by=day.user,
            signed_at=appointment.starts_at,
        )
    return appointment


def _svg(page: str) -> str:
    return page.split('data-testid="pain-chart"')[1].split("</svg>")[0]


# --- the chart itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pains", "summary"),
    [
        ([(7, 5), (5, 3)], "Pain fell from 7 to 3 over 2 sessions."),
        ([(2, 3)], "Pain rose from 2 to 3 over 1 session."),
        ([(4, 2), (3, 4)], "Pain stayed at 4 over 2 sessions."),
    ],
)
def test_pain_summary_says_from_the_first_before_to_the_last_after(pains, summary):
    samples = [PainSample(str(n), f"Session {n}", b, a) for n, (b, a) in enumerate(pains, start=1)]
    assert pain_summary(samples) == summary


def test_pain_summary_in_ukrainian_counts_sessions_in_ukrainian(settings):
    from django.utils import translation

    samples = [PainSample(str(n), "", 7 if n == 1 else 5, 3) for n in range(1, 9)]
    with translation.override("uk"):
        assert pain_summary(samples) == "Біль знизився з 7 до 3 за 8 сеансів."


def test_pain_chart_with_many_sessions_labels_every_other_and_the_last():
    chart = pain_chart([PainSample(str(n), "", 5, 3) for n in range(1, 16)])
    assert [p.label for p in chart.points if p.show_label] == ["1", "3", "5", "7", "9", "11", "13", "15"]


# --- the review page ----------------------------------------------------------------------------


def test_review_pain_chart_in_ukrainian_writes_coordinates_with_a_dot(settings):
    settings.LANGUAGE_CODE = "uk"
    day = make_day(second_finding=None)
    _session(day, days_ago=2, before=7, after=4)
    _session(day, days_ago=1, before=5, after=3)

    page = logged_in(day.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk])).content.decode()

    svg = _svg(page)
    # No localised decimal comma in a coordinate: y1="132,0" draws nothing.
    assert re.findall(NUMBER_WITH_COMMA, svg) == []
    assert all(re.fullmatch(POINTS, points) for points in re.findall(r'points="([^"]*)"', svg))
    assert 'y1="166.0"' in svg
    assert svg.count('data-testid="pain-point"') == 4
    # The x axis counts the course's sessions; the y axis says what it measures.
    assert re.findall(r'data-testid="pain-chart-x-label">(\w+)<', svg) == ["1", "2"]
    assert 'data-testid="pain-chart-x-title">Сеанс<' in svg
    assert 'data-testid="pain-chart-y-title">Біль, 0–10<' in svg
    assert "Біль знизився з 7 до 3 за 2 сеанси." in page


def test_review_pain_chart_without_a_course_labels_sessions_by_date():
    day = make_day(second_finding=None)
    Appointment.objects.filter(pk=day.appointment.pk).update(course=None)
    _session(day, days_ago=3, before=6, after=2, course=None)

    response = logged_in(day.user).get(reverse("sessions:appointment-review", args=[day.appointment.pk]))

    chart = response.context["chart"]
    assert [p.label for p in chart.points] == ["26.02"]
    assert chart.x_title == "Date"


# --- the history page ---------------------------------------------------------------------------


def test_history_shows_the_pain_trend_of_the_chosen_course_by_session_number():
    day = make_day(second_finding=None)
    # Sessions 1 and 2 signed, session 3 cancelled (not counted), session 4 signed.
    _session(day, days_ago=6, before=8, after=6)
    _session(day, days_ago=5, before=6, after=5)
    _session(day, days_ago=4, before=6, after=6, signed=False, status=Appointment.Status.CANCELLED)
    _session(day, days_ago=3, before=5, after=3)
    other = CourseFactory(client=day.client, massage_type=day.massage_type)
    _session(day, days_ago=9, before=9, after=9, course=other)

    response = logged_in(day.user).get(
        reverse("sessions:client-history", args=[day.client.pk]), {"course": day.course.pk}
    )

    chart = response.context["history"].chart
    assert [(p.label, p.before, p.after) for p in chart.points] == [("1", 8, 6), ("2", 6, 5), ("3", 5, 3)]
    assert chart.summary == "Pain fell from 8 to 3 over 3 sessions."
    page = response.content.decode()
    assert 'data-testid="pain-summary">Pain fell from 8 to 3 over 3 sessions.<' in page


def test_history_without_a_filter_shows_every_signed_session_by_date():
    day = make_day(second_finding=None)
    other = CourseFactory(client=day.client, massage_type=day.massage_type)
    _session(day, days_ago=9, before=9, after=7, course=other)
    _session(day, days_ago=3, before=5, after=3)

    response = logged_in(day.user).get(reverse("sessions:client-history", args=[day.client.pk]))

    chart = response.context["history"].chart
    assert [(p.label, p.before, p.after) for p in chart.points] == [("20.02", 9, 7), ("26.02", 5, 3)]


def test_history_course_filter_names_courses_by_massage_type_and_start_date():
    day = make_day(second_finding=None)
    _session(day, days_ago=6, before=8, after=6)

    page = logged_in(day.user).get(reverse("sessions:client-history", args=[day.client.pk])).content.decode()

    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', page)
    assert options == [(str(day.course.pk), f"{day.massage_type.name_en} from 23 February 2027")]


# --- the manager's outcome view -----------------------------------------------------------------


def _completed_course(day, *, indication, pains, massage_type=None):
    course = CourseFactory(
        client=ClientFactory(),
        massage_type=massage_type or day.massage_type,
        indication=indication,
        status=Course.Status.COMPLETED,
    )
    # Each course's sessions an hour apart from every other's: the masseur is one person.
    hour = next(_hours)
    for offset, (before, after) in enumerate(pains):
        _session(
            day,
            days_ago=20 + 5 * (hour // 10) - offset,
            before=before,
            after=after,
            course=course,
            client=course.client,
            hour=8 + hour % 10,
        )
    return course


def test_course_outcomes_average_the_drop_per_type_and_indication_over_completed_courses():
    day = make_day(second_finding=None)
    lumbar = MassageTypeFactory(name_en="Lumbar", name_uk="Поперековий")
    # Back pain, day's type: drops 8-3 = 5 and 6-4 = 2 -> 3.5.
    _completed_course(day, indication=Course.Indication.BACK_PAIN, pains=[(8, 6), (6, 4), (5, 3)])
    _completed_course(day, indication=Course.Indication.BACK_PAIN, pains=[(6, 5), (5, 4)])
    # Lumbar, stiffness: pain rose 3 -> 4.
    _completed_course(day, indication=Course.Indication.STIFFNESS, pains=[(3, 4)], massage_type=lumbar)
    # Not completed: left out, whatever its pain.
    active = _completed_course(day, indication=Course.Indication.BACK_PAIN, pains=[(10, 0)])
    Course.objects.filter(pk=active.pk).update(status=Course.Status.ACTIVE)

    rows = outcomes.course_outcomes()

    assert [(r.massage_type, r.indication, r.courses, r.average_drop) for r in rows] == [
        (day.massage_type.name_en, "back pain", 2, 3.5),
        ("Lumbar", "morning or evening stiffness", 1, -1.0),
    ]
    chart = outcomes.outcome_chart(rows)
    assert [bar.rose for bar in chart.bars] == [False, True]


def test_outcomes_page_is_the_managers(manager_client, reception_client, masseur_client):
    url = reverse("sessions:outcomes")
    assert manager_client.get(url).status_code == 200
    assert reception_client.get(url).status_code == 403
    assert masseur_client.get(url).status_code == 403


def test_outcomes_page_draws_a_bar_per_group_in_ukrainian_with_dot_coordinates(manager_client, settings):
    settings.LANGUAGE_CODE = "uk"
    day = make_day(second_finding=None)
    _completed_course(day, indication=Course.Indication.BACK_PAIN, pains=[(7, 5), (5, 2)])

    page = manager_client.get(reverse("sessions:outcomes")).content.decode()

    svg = page.split('data-testid="outcomes-chart"')[1].split("</svg>")[0]
    assert svg.count('data-testid="outcomes-bar"') == 1
    assert re.findall(NUMBER_WITH_COMMA, svg) == []
    assert 'data-testid="outcome-drop">5,0<' in page


@pytest.mark.parametrize("courses", [2, 20])
def test_outcomes_page_queries_do_not_grow_with_courses(manager_client, courses, django_assert_max_num_queries):
    day = make_day(second_finding=None)
    for number in range(courses):
        _completed_course(day, indication=Course.Indication.BACK_PAIN, pains=[(8, 6), (5, 2 + number % 3)])

    # Session, user, permissions (two), the outcomes: the same at any size.
    with django_assert_max_num_queries(6):
        response = manager_client.get(reverse("sessions:outcomes"))
    assert response.context["outcomes"][0].courses == courses


def test_outcomes_page_without_completed_courses_says_so(manager_client):
    page = manager_client.get(reverse("sessions:outcomes")).content.decode()
    assert 'data-testid="outcomes-empty"' in page


def test_history_pain_chart_adds_no_query(django_assert_max_num_queries):
    day = make_day(second_finding=None)
    for days_ago in range(1, 6):
        _session(day, days_ago=days_ago, before=6, after=3)
    web = logged_in(day.user)
    url = reverse("sessions:client-history", args=[day.client.pk])
    with django_assert_max_num_queries(30) as captured:
        web.get(url, {"course": day.course.pk})
    few = len(captured)
    for days_ago in range(6, 16):
        _session(day, days_ago=days_ago, before=6, after=3)
    with django_assert_max_num_queries(few):
        web.get(url, {"course": day.course.pk})
