"""Online booking and the waiting list are judged by the real screening rules: the parent conftest's
fake verdict is replaced here. No broker: what would be queued is dropped (the scans find it)."""

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from parlor.models import MassageType
from screening import services as screening_services
from screening.models import Contraindication, Screening
from sessions.flags import tasks as tasks_flags
from sessions.online import visitor
from sessions.reminders import tasks as tasks_reminders
from sessions.waitlist import tasks as tasks_waitlist
from tests.factories import ClientFactory, MassageTypeFactory, MasseurFactory, RoomFactory, WorkingHoursFactory

UTC = datetime.UTC
# Monday 2027-02-01, 10:00 Kyiv (08:00Z). The sessions: Tuesday 2 February from 09:00 Kyiv (07:00Z).
NOW = datetime.datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
TUESDAY = datetime.date(2027, 2, 2)
NINE = datetime.datetime(2027, 2, 2, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def verdict():
    """The real rules (overrides tests/sessions/conftest.py's fake)."""
    return None


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(tasks_reminders, "queue_sends", lambda ids: None)
    monkeypatch.setattr(tasks_waitlist, "_queue", lambda task: None)
    monkeypatch.setattr(tasks_flags.raise_client_flags, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def now():
    import time_machine

    with time_machine.travel(NOW, tick=True):
        yield NOW


@dataclass
class Parlor:
    massage_type: MassageType
    masseur: object
    room: object


def make_parlor(*, masseurs: int = 1, rooms: int = 1) -> Parlor:
    """A 40+15-minute type (a course of 5, daily) with masseurs working every day 09:00-13:00 Kyiv."""
    massage_type = MassageTypeFactory(
        name_uk="Масаж спини", name_en="Back massage", duration_minutes=40, buffer_minutes=15, course_sessions=5
    )
    first = None
    for number in range(masseurs):
        masseur = MasseurFactory(display_name=f"Олена {number}" if number else "Олена", qualifications=[massage_type])
        for weekday in range(7):
            WorkingHoursFactory(masseur=masseur, weekday=weekday, starts=datetime.time(9), ends=datetime.time(13))
        first = first or masseur
    room = None
    for number in range(rooms):
        made = RoomFactory(name=f"Room {chr(65 + number)}")
        room = room or made
    return Parlor(massage_type=massage_type, masseur=first, room=room)


@pytest.fixture
def parlor(db, now) -> Parlor:
    return make_parlor()


def screen(client, *codes, taken_at=None, source=Screening.Source.STAFF):
    """A screening of the client finding `codes` (none: a clean one)."""
    catalogue = {c.code: c for c in Contraindication.objects.filter(code__in=codes)}
    return screening_services.screening_record(
        client=client,
        answers={"questions": {code: {"answer": True} for code in codes}},
        findings=[screening_services.FindingInput(contraindication=catalogue[code]) for code in codes],
        taken_by=None,
        source=source,
        submission_key=uuid.uuid4(),
        taken_at=taken_at or timezone.now(),
    )


def condition_names(*codes) -> list[str]:
    """How the catalogue names these conditions, in both languages: no public page or email may show them."""
    names = []
    for c in Contraindication.objects.filter(code__in=codes):
        names += [c.name_uk, c.name_en]
    return names


def signed_in(client, http: HttpClient | None = None) -> HttpClient:
    """A browser signed in online as `client` (as the link or code would)."""
    http = http or HttpClient()
    session = http.session
    session[visitor._KEY] = {"email": client.email, "client": client.pk, "at": int(timezone.now().timestamp())}
    session.save()
    return http


@pytest.fixture
def known(db):
    return ClientFactory(full_name="Оксана Петрівна Коваленко", email="oksana@example.com", language="uk")
