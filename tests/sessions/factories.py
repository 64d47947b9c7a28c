"""Factories for courses and appointments, on top of tests/factories.py."""

import datetime

import factory

from sessions.models import Appointment, Course
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory, UserFactory


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    client = factory.SubFactory(ClientFactory)
    massage_type = factory.SubFactory(MassageTypeFactory)
    indication = Course.Indication.BACK_PAIN
    planned_sessions = 10
    cadence = Course.Cadence.DAILY


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A booked appointment written straight to the table (no service checks)."""

    class Meta:
        model = Appointment

    client = factory.SubFactory(ClientFactory)
    massage_type = factory.SubFactory(MassageTypeFactory)
    masseur = factory.SubFactory(MasseurFactory)
    room = factory.SubFactory(RoomFactory)
    starts_at = factory.LazyFunction(lambda: datetime.datetime(2027, 3, 1, 8, 0, tzinfo=datetime.UTC))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=o.massage_type.duration_minutes))
    blocks_until = factory.LazyAttribute(
        lambda o: o.ends_at + datetime.timedelta(minutes=o.massage_type.buffer_minutes)
    )
    booked_by = factory.SubFactory(UserFactory)
