import datetime
import enum
from dataclasses import dataclass, field

import pytest
import time_machine

from parlor import roles
from tests.factories import (
    ClientFactory,
    MassageTypeFactory,
    MasseurFactory,
    RoomFactory,
    UserFactory,
    WorkingHoursFactory,
)

UTC = datetime.UTC
# A Monday in winter: Kyiv is UTC+2, so 09:00 local is 07:00Z.
MONDAY = datetime.date(2027, 3, 1)
NOW = datetime.datetime(2027, 2, 1, 10, 0, tzinfo=UTC)


class Status(enum.Enum):
    ALLOWED = "allowed"
    ADAPTED = "adapted"
    NEEDS_CLEARANCE = "needs_clearance"
    NEEDS_SCREENING = "needs_screening"
    BLOCKED = "blocked"


@dataclass
class FakeVerdict:
    status: Status = Status.ALLOWED
    reasons: list[str] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)

    @property
    def is_bookable(self) -> bool:
        return self.status in (Status.ALLOWED, Status.ADAPTED)


@pytest.fixture(autouse=True)
def verdict(monkeypatch):
    """Screening says ALLOWED unless a test sets verdict.status; the screening rules have their own tests."""
    fake = FakeVerdict()

    def _verdict(*, client, massage_type, day, course=None):
        fake.calls.append({"client": client, "massage_type": massage_type, "day": day})
        return fake

    def _verdicts(*, client, massage_type, days, course=None):
        # Day by day through whatever _verdict is now (a test may put the real one back).
        from sessions.booking import services

        return {
            day: services._verdict(client=client, massage_type=massage_type, day=day, course=course) for day in days
        }

    monkeypatch.setattr("sessions.booking.services._verdict", _verdict)
    monkeypatch.setattr("sessions.booking.services._verdicts", _verdicts)
    return fake


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=True):
        yield NOW


@dataclass
class World:
    massage_type: object
    masseur: object
    room: object
    client: object
    user: object


def make_world(*, username: str = "desk1") -> World:
    """One 40+15-minute type, one qualified masseur working Mondays 09:00-13:00 local, one room, one client."""
    massage_type = MassageTypeFactory(duration_minutes=40, buffer_minutes=15)
    masseur = MasseurFactory(display_name="Олена", qualifications=[massage_type])
    WorkingHoursFactory(masseur=masseur, weekday=0, starts=datetime.time(9), ends=datetime.time(13))
    return World(
        massage_type=massage_type,
        masseur=masseur,
        room=RoomFactory(name="Room A"),
        client=ClientFactory(),
        user=UserFactory(username=username, role=roles.RECEPTIONIST),
    )


@pytest.fixture
def world(db, frozen_now) -> World:
    return make_world()
