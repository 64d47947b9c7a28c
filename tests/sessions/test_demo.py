"""The sessions demo data, on top of the parlor, clients and screening demo data."""

import datetime

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import sessions.demo as sessions_demo
from clients import demo as clients_demo
from parlor import demo as parlor_demo
from parlor.management.commands.seed_demo import seeders
from screening import demo as screening_demo
from screening import selectors as screening_selectors
from sessions.demo import appointments as demo
from sessions.models import Appointment, Course

pytestmark = pytest.mark.django_db


def test_demo_books_two_months_and_a_dozen_courses_once():
    parlor_demo.seed()
    clients_demo.seed()
    screening_demo.seed()
    with CaptureQueriesContext(connection) as seeding:
        demo.seed()
    now = timezone.now()
    today = timezone.localdate()

    statuses = dict(Appointment.objects.values_list("status").annotate(n=Count("pk")))
    assert set(statuses) >= {"completed", "no_show", "cancelled", "booked", "confirmed", "on_hold"}
    assert statuses["on_hold"] == 2
    past = Appointment.objects.filter(starts_at__lt=now)
    future = Appointment.objects.filter(starts_at__gte=now)
    assert not past.filter(status__in=["booked", "confirmed", "on_hold"]).exists()
    assert not future.filter(status__in=["completed", "no_show", "checked_in"]).exists()
    assert past.count() > 200
    assert future.count() > 200
    first = timezone.localtime(Appointment.objects.order_by("starts_at").first().starts_at).date()
    last = timezone.localtime(Appointment.objects.order_by("-starts_at").first().starts_at).date()
    assert today - datetime.timedelta(days=31) <= first <= today - datetime.timedelta(days=25)
    assert today + datetime.timedelta(days=25) <= last <= today + datetime.timedelta(days=31)

    courses = Course.objects.annotate(
        live=Count("appointments", filter=~Q(appointments__status__in=Appointment.NOT_LIVE)),
        done=Count("appointments", filter=Q(appointments__status="completed")),
        ahead=Count("appointments", filter=Q(appointments__starts_at__gte=now)),
    )
    assert courses.count() == 12
    in_progress = [c for c in courses if c.done and c.ahead]
    assert len(in_progress) >= 10
    assert sum(1 for c in courses if c.live < c.planned_sessions) >= 3

    # Every live appointment's client could have massage on its day.
    for appointment in Appointment.objects.exclude(status__in=Appointment.NOT_LIVE).select_related("client")[:60]:
        day = timezone.localtime(appointment.starts_at).date()
        verdict = screening_selectors.verdict_for(client=appointment.client, massage_type=None, day=day)
        assert verdict.is_bookable, appointment

    before = (Appointment.objects.count(), Course.objects.count())
    demo.seed()
    assert (Appointment.objects.count(), Course.objects.count()) == before
    # Written in bulk: a few statements per client (verdicts) and per single session (its reminder),
    # not a booking service call per row (about 24 statements each).
    assert len(seeding.captured_queries) < Appointment.objects.count() * 6


def test_demo_without_the_other_demo_data_does_nothing():
    demo.seed()
    assert not Appointment.objects.exists()
    assert not Course.objects.exists()


def test_demo_seeder_is_listed_after_the_ones_it_builds_on():
    found = seeders()
    assert found.index("sessions.demo.seed") > found.index("screening.demo.seed")
    assert sessions_demo.PARTS.index(sessions_demo.logs.seed) > sessions_demo.PARTS.index(demo.seed)
