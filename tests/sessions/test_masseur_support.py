"""Shared set-up for the masseur's side tests (no tests here): a masseur's day with a client whose
screening records a rose allergy, and a second screening after the booking that adds a finding."""

import datetime
import uuid
from dataclasses import dataclass

from django.test import Client as WebClient
from django.utils import timezone

from parlor import roles
from screening import services as screening_services
from screening.models import Contraindication
from sessions.models import Appointment, Course
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory, UserFactory
from tests.sessions.factories import AppointmentFactory, CourseFactory

KYIV = datetime.timezone(datetime.timedelta(hours=2))
# A Monday in winter (Kyiv is UTC+2): "now" is 10:00 local.
TODAY = datetime.date(2027, 3, 1)
NOW = datetime.datetime(2027, 3, 1, 10, 0, tzinfo=KYIV)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(TODAY + datetime.timedelta(days=day_offset), datetime.time(hour, minute), KYIV)


def screen(client, *codes, taken_at, details=None):
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    details = details or {}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[
            screening_services.FindingInput(contraindication=catalogue[code], details=details.get(code, {}))
            for code in codes
        ],
        taken_by=None,
        submission_key=uuid.uuid4(),
        taken_at=taken_at,
    )


def logged_in(user) -> WebClient:
    web = WebClient()
    web.force_login(user)
    return web


@dataclass
class Day:
    masseur: object
    client: object
    massage_type: object
    room: object
    course: Course
    appointment: Appointment
    first_screening: object
    second_screening: object | None

    @property
    def user(self):
        return self.masseur.user


def make_day(*, username: str = "olena", second_finding: str | None = "kidney-disease", planned: int = 10) -> Day:
    """A masseur with an appointment today at 12:00 (session 1 of a course), booked five days ago on a
    screening with a rose allergy; a second screening two days ago adds `second_finding`."""
    massage_type = MassageTypeFactory(code=f"classic-{username}", duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(
        user=UserFactory(username=username, role=roles.MASSEUR), display_name="Олена", qualifications=[massage_type]
    )
    room = RoomFactory()
    client = ClientFactory(full_name=f"Ірина Клієнтка {username}")
    first = screen(client, "product-allergy", taken_at=at(-10, 9), details={"product-allergy": {"allergens": ["rose"]}})
    course = CourseFactory(client=client, massage_type=massage_type, planned_sessions=planned)
    appointment = AppointmentFactory(
        client=client, massage_type=massage_type, masseur=masseur, room=room, course=course, starts_at=at(0, 12)
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=at(-5, 9))
    appointment.refresh_from_db()
    second = None
    if second_finding:
        second = screen(
            client,
            "product-allergy",
            second_finding,
            taken_at=at(-2, 9),
            details={"product-allergy": {"allergens": ["rose"]}},
        )
    return Day(masseur, client, massage_type, room, course, appointment, first, second)


def more_today(day: Day, count: int) -> None:
    """`count` more clients with the day's masseur today, hourly from 13:00."""
    for hour in range(count):
        AppointmentFactory(
            client=ClientFactory(),
            massage_type=day.massage_type,
            masseur=day.masseur,
            room=day.room,
            starts_at=at(0, 13) + datetime.timedelta(hours=hour),
        )


def past_appointment(day: Day, *, days_ago: int, status=Appointment.Status.BOOKED) -> Appointment:
    appointment = AppointmentFactory(
        client=day.client,
        massage_type=day.massage_type,
        masseur=day.masseur,
        room=day.room,
        course=day.course,
        starts_at=at(-days_ago, 12),
        status=status,
    )
    Appointment.objects.filter(pk=appointment.pk).update(booked_at=at(-days_ago - 5, 9))
    appointment.refresh_from_db()
    return appointment


def other_client_course(massage_type) -> Course:
    return CourseFactory(client=ClientFactory(), massage_type=massage_type)


def now() -> datetime.datetime:
    return timezone.now()
