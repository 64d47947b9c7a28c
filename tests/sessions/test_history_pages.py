"""The client history in pages: the newest sessions in full, the earlier ones on request (htmx or a
plain link), the whole history for printing; the pain chart over everything whatever the page."""

import re

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import AccessEntry
from sessions.care.history import PAGE_SESSIONS, chart_points_svg, client_history
from sessions.models import Appointment
from tests.sessions.factories import AppointmentFactory, CourseFactory
from tests.sessions.test_history import _signed_sessions
from tests.sessions.test_masseur_support import NOW, at, logged_in, make_day, screen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _sessions(history) -> list[Appointment]:
    return [e.obj for e in history.entries if e.kind == "session"]


def _keys(history) -> list[tuple[str, int]]:
    return [(e.kind, e.obj.pk) for e in history.entries]


def _url(day) -> str:
    return reverse("sessions:client-history", args=[day.client.pk])


def test_history_shows_the_newest_sessions_then_the_earlier_ones_each_once():
    day = make_day()
    screen(day.client, "product-allergy", taken_at=at(-30, 9), details={"product-allergy": {"allergens": ["rose"]}})
    _signed_sessions(day, 25)

    newest = client_history(client=day.client)
    earlier = client_history(client=day.client, before=newest.earlier)
    whole = client_history(client=day.client, limit=None)

    assert len(_sessions(newest)) == PAGE_SESSIONS
    assert _sessions(newest)[-1] == day.appointment
    assert newest.earlier == _sessions(newest)[0].pk
    assert [a.starts_at for a in _sessions(earlier)] == [at(-days, 8) for days in range(25, 19, -1)]
    assert earlier.earlier is None and earlier.before == newest.earlier
    # The screening older than every session opens the earliest page, with no diff to show.
    assert earlier.entries[0].kind == "screening" and earlier.entries[0].extra["first"] is True
    assert _keys(earlier) + _keys(newest) == _keys(whole)
    assert whole.earlier is None and len(_sessions(whole)) == 26


def test_history_pages_sessions_at_the_same_instant_once_each():
    day = make_day(second_finding=None)
    twin = AppointmentFactory(
        client=day.client,
        massage_type=day.massage_type,
        masseur=day.masseur,
        room=day.room,
        course=day.course,
        starts_at=day.appointment.starts_at,
        status=Appointment.Status.CANCELLED,
    )
    _signed_sessions(day, 1)

    first = client_history(client=day.client, limit=1)
    second = client_history(client=day.client, before=first.earlier, limit=1)
    third = client_history(client=day.client, before=second.earlier, limit=1)

    assert [_sessions(p) for p in (first, second, third)] == [[twin], [day.appointment], _sessions(third)]
    assert third.earlier is None and _sessions(third)[0].starts_at == at(-1, 8)


def test_history_pain_chart_covers_every_session_on_any_page():
    day = make_day(second_finding=None)
    _signed_sessions(day, 25)

    newest = client_history(client=day.client)
    earlier = client_history(client=day.client, before=newest.earlier)

    assert len(newest.chart.points) == len(earlier.chart.points) == 25
    assert newest.chart.summary == earlier.chart.summary


def test_history_of_a_course_pages_its_sessions_only_and_numbers_them_in_the_course():
    day = make_day(second_finding=None)
    other = CourseFactory(client=day.client, massage_type=day.massage_type)
    _signed_sessions(day, PAGE_SESSIONS + 2, course=other, start_days_ago=3)
    _signed_sessions(day, 1, start_days_ago=1)

    newest = client_history(client=day.client, course_id=other.pk)
    earlier = client_history(client=day.client, course_id=other.pk, before=newest.earlier)

    assert {a.course_id for a in _sessions(newest) + _sessions(earlier)} == {other.pk}
    assert len(_sessions(newest)) + len(_sessions(earlier)) == PAGE_SESSIONS + 2
    assert [p.label for p in newest.chart.points][:3] == ["1", "2", "3"]


def test_history_before_another_clients_appointment_starts_from_the_newest():
    day = make_day(second_finding=None)
    _signed_sessions(day, 2)
    stranger = make_day(username="petro", second_finding=None)

    history = client_history(client=day.client, before=stranger.appointment.pk)

    assert history.before is None and len(_sessions(history)) == 3


def test_history_loads_logs_and_day_of_checks_by_appointment_id():
    day = make_day(second_finding=None)
    _signed_sessions(day, 3)

    with CaptureQueriesContext(connection) as captured:
        client_history(client=day.client)

    checks = [q["sql"] for q in captured.captured_queries if '"treatments_dayofcheck"' in q["sql"]]
    logs = [q["sql"] for q in captured.captured_queries if 'FROM "treatments_sessionlog"' in q["sql"]]
    # Joined to the client's appointments, PostgreSQL hashed every check and log of the parlor.
    assert len(checks) == 1 and '"treatments_dayofcheck"."appointment_id" IN (' in checks[0]
    assert len(logs) == 1 and '"treatments_sessionlog"."appointment_id" IN (' in logs[0]


def test_history_view_earlier_link_keeps_the_course_and_htmx_gets_the_entries_only():
    day = make_day(second_finding=None)
    _signed_sessions(day, PAGE_SESSIONS + 3)
    web = logged_in(day.user)

    page = web.get(_url(day), {"course": day.course.pk})
    query = page.context["earlier_query"]
    opened = AccessEntry.objects.filter(client=day.client).count()
    fragment = web.get(f"{_url(day)}?{query}", headers={"HX-Request": "true"})

    assert query == f"course={day.course.pk}&before={page.context['history'].earlier}"
    assert f'hx-get="?{query.replace("&", "&amp;")}"' in page.content.decode()
    assert fragment.templates[0].name == "sessions/_history_entries.html"
    assert "<html" not in fragment.content.decode()
    assert fragment.content.decode().count('data-testid="history-entry" data-kind="session"') == 4
    # The fragment shows health data too: it is in the access trail like the page.
    assert AccessEntry.objects.filter(client=day.client).count() == opened + 1


def test_history_view_earlier_page_without_javascript_is_a_whole_page_with_a_way_back():
    day = make_day(second_finding=None)
    _signed_sessions(day, PAGE_SESSIONS + 3)
    web = logged_in(day.user)
    before = web.get(_url(day)).context["history"].earlier

    response = web.get(_url(day), {"before": before})

    html = response.content.decode()
    assert response.templates[0].name == "sessions/history_client.html"
    assert 'data-testid="history-latest"' in html and 'data-testid="history-pain"' in html
    assert len(_sessions(response.context["history"])) == 4


def test_history_view_prints_the_whole_history_explicitly():
    day = make_day(second_finding=None)
    _signed_sessions(day, PAGE_SESSIONS + 3)
    web = logged_in(day.user)

    paged = web.get(_url(day)).content.decode()
    whole = web.get(_url(day), {"all": "1", "before": "5"})

    assert "data-print>" not in paged and 'data-testid="history-print-note"' in paged
    assert 'href="?all=1" data-testid="history-whole"' in paged
    assert "data-print>" in whole.content.decode() and 'data-testid="history-earlier"' not in whole.content.decode()
    assert len(_sessions(whole.context["history"])) == PAGE_SESSIONS + 4


@pytest.mark.parametrize("count", [3, 200])
@pytest.mark.parametrize("page", ["newest", "earlier", "whole"])
def test_history_view_query_count_is_fixed_on_every_page(count, page, django_assert_max_num_queries):
    day = make_day()
    _signed_sessions(day, count)
    web = logged_in(day.user)
    params = {"newest": {}, "earlier": {"before": day.appointment.pk}, "whole": {"all": "1"}}[page]
    # As the newest page (tests/sessions/test_history.py), and an earlier one reads where it starts.
    most = {"newest": 14, "earlier": 15, "whole": 14}[page]

    with django_assert_max_num_queries(most):
        response = web.get(_url(day), params)

    assert response.status_code == 200


def _svg(html: str) -> str:
    return re.sub(r">\s+<", "><", html.split("<svg", 1)[1].split("</svg>")[0]).strip()


def test_history_chart_draws_every_point_as_the_shared_chart_does():
    day = make_day(second_finding=None)
    _signed_sessions(day, 15)
    chart = client_history(client=day.client).chart

    shared = render_to_string("sessions/_masseur_pain_chart.html", {"chart": chart})
    own = render_to_string("sessions/_masseur_pain_chart.html", {"chart": chart, "points_svg": chart_points_svg(chart)})

    assert _svg(own) == _svg(shared)
    assert _svg(own).count('data-testid="pain-point"') == 30
    assert own.split("</svg>")[1] == shared.split("</svg>")[1]
