"""The benchmark's generator at a tiny scale: the counts it promises, the database's guarantees held
(COPY goes through every constraint and trigger), and a world the services accept as real.

No timing here: speed is `make bench`'s business, and the suite must give the same answer on a busy
machine as on an idle one."""

import datetime
import random
import zoneinfo

import psycopg
import pytest
import time_machine
from django.db import DatabaseError, transaction

from bench import checks, generate
from clients.models import Client
from parlor.models import MassageType, Masseur, Room, WorkingHours
from screening.models import Clearance, Finding, Screening
from sessions.booking import availability, services
from sessions.models import Appointment, Course, DayOfCheck, Flag, Reminder, SessionLog

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")
# A Wednesday morning in Kyiv: today's first sessions are done, the rest of the day is booked.
NOW = datetime.datetime(2027, 3, 10, 11, 30, tzinfo=KYIV)
SCALE = 0.005
DAYS_BACK, DAYS_AHEAD = 21, 7

MODELS = {
    "clients": Client,
    "screenings": Screening,
    "findings": Finding,
    "clearances": Clearance,
    "courses": Course,
    "appointments": Appointment,
    "logs": SessionLog,
    "checks": DayOfCheck,
    "reminders": Reminder,
    "flags": Flag,
}


@pytest.fixture
def world(db):
    with time_machine.travel(NOW, tick=False):
        report = generate.generate(scale=SCALE, days_back=DAYS_BACK, days_ahead=DAYS_AHEAD, now=NOW)
        yield report


def test_generate_tiny_world_has_the_promised_sizes(world):
    sizes = generate.sizes_for(SCALE, days_back=DAYS_BACK, days_ahead=DAYS_AHEAD)
    assert (sizes.masseurs, sizes.rooms, sizes.clients, sizes.regulars, sizes.logs) == (2, 2, 100, 1, 250)
    assert Masseur.objects.count() == 2
    assert Room.objects.count() == 2
    # Six working days a week, one shift each; the split shift is two rows a day.
    assert WorkingHours.objects.count() == 2 * 6
    assert Client.objects.count() == 100
    for name, model in MODELS.items():
        assert model.objects.count() == world.counts[name], name
        assert world.write[name]["rows"] == world.counts[name], name
    assert SessionLog.objects.filter(status=SessionLog.Status.SIGNED).count() == 250
    assert DayOfCheck.objects.count() == 250
    days = DAYS_BACK + DAYS_AHEAD + 1
    # Two masseurs, about six sessions a working day each.
    assert 8 * days < world.counts["appointments"] < 2 * 10 * days
    assert Course.objects.exists()
    assert Screening.objects.count() >= Appointment.objects.values("client").distinct().count()


def test_generate_tiny_world_breaks_no_constraint(world):
    assert checks.overlaps() == {"masseur_id": 0, "room_id": 0, "client_id": 0}
    assert checks.constraints_and_triggers() == {"not validated": [], "not enabled": []}
    # pghistory's triggers fired for every row written with COPY.
    assert checks.history_gaps() == {}
    # The sequences continue after the ids the generator chose.
    assert Room.objects.create(name="Кабінет для тесту").pk > max(
        generate.Room.objects.values_list("pk", flat=True)[:2]
    )


def test_generate_tiny_world_is_clinically_plausible(world):
    live = Appointment.objects.exclude(status__in=Appointment.NOT_LIVE).count()
    checked, problems = checks.verdict_problems()
    assert problems == []
    assert checked == live
    checked, problems = checks.log_problems()
    assert problems == []
    assert checked == 250
    # A new client's first session is the general massage (children's massage for a minor).
    firsts = {}
    for client_id, code in Appointment.objects.order_by("starts_at").values_list("client_id", "massage_type__code"):
        firsts.setdefault(client_id, code)
    regulars = set(world.regular_ids)
    assert {code for client_id, code in firsts.items() if client_id not in regulars} <= {"general", "children-back"}


def test_generate_tiny_world_leaves_tomorrows_reminders_to_the_bench(world):
    tomorrow = NOW.date() + datetime.timedelta(days=1)
    start = datetime.datetime.combine(tomorrow, datetime.time.min, tzinfo=KYIV)
    tomorrows = Appointment.objects.filter(starts_at__gte=start, starts_at__lt=start + datetime.timedelta(days=1))
    assert tomorrows.exclude(status__in=Appointment.NOT_LIVE).exists()
    assert not Reminder.objects.filter(appointment__in=tomorrows).exists()
    later = Appointment.objects.filter(starts_at__gte=start + datetime.timedelta(days=1)).exclude(
        status__in=[*Appointment.NOT_LIVE, Appointment.Status.ON_HOLD]
    )
    assert later.exists()
    assert Reminder.objects.filter(appointment__in=later, kind=Reminder.Kind.APPOINTMENT).count() == later.count()
    # Nothing is due before tomorrow: the dispatcher the bench runs sends only what the bench planned.
    assert not Reminder.objects.filter(state=Reminder.State.DUE, due_at__lt=start).exists()
    # Every course's last live session carries its invitation to the next course, as planning leaves it.
    assert Reminder.objects.filter(kind=Reminder.Kind.COURSE_ENDING).exists()


def test_generate_signed_logs_stay_immutable(world):
    log = SessionLog.objects.first()
    with pytest.raises(DatabaseError, match="signed and cannot be changed"), transaction.atomic():
        SessionLog.objects.filter(pk=log.pk).update(plan="changed")


def test_generate_tiny_world_takes_a_booking_through_the_services(world):
    classic = MassageType.objects.get(code="classic-back")
    day = NOW.date() + datetime.timedelta(days=2)
    client = Client.objects.exclude(appointments__starts_at__date=day).filter(birth_date__lt="2000-01-01").first()
    with time_machine.travel(NOW, tick=False):
        slot = next(
            slot
            for slot in availability.free_slots(
                massage_type=classic, start_date=day, end_date=day + datetime.timedelta(5)
            )
            if services.appointment_conflicts(
                client=client, massage_type=classic, masseur=slot.masseur, room=slot.room, starts_at=slot.starts_at
            )
            == {}
        )
        try:
            appointment = services.appointment_book(
                client=client,
                massage_type=classic,
                masseur=slot.masseur,
                room=slot.room,
                starts_at=slot.starts_at,
                booked_by=generate.get_user_model().objects.get(username="bench-reception"),
            )
        except Exception as exc:  # the message says which rule refused it
            pytest.fail(f"booking refused on the generated world: {exc}")
    assert appointment.pk > Appointment.objects.exclude(pk=appointment.pk).order_by("-pk").first().pk


def test_generate_same_seed_gives_the_same_plan(db):
    sizes = generate.sizes_for(SCALE, days_back=7, days_ahead=3)
    world = generate.create_resources(sizes, rng=random.Random(1), now=NOW)
    first = generate.build_plan(sizes, world, seed=3)
    second = generate.build_plan(sizes, world, seed=3)

    def shape(plan):
        return [(a["client_id"], a["masseur_id"], a["room_id"], a["starts_at"], a["status"]) for a in plan.appointments]

    assert shape(first) == shape(second)
    assert len(first.screenings) == len(second.screenings)
    assert shape(first) != shape(generate.build_plan(sizes, world, seed=4))


@pytest.mark.parametrize("scale", [0.1, 1, 3])
def test_sizes_follow_the_issue(scale):
    sizes = generate.sizes_for(scale)
    assert sizes.masseurs == round(30 * scale)
    assert sizes.clients == round(20_000 * scale)
    assert sizes.logs == round(50_000 * scale)
    assert sizes.days_back + sizes.days_ahead + 1 == 731


def test_generate_copy_refuses_a_row_that_breaks_a_constraint(world):
    # COPY is not a bypass: a row the exclusion constraint forbids stops the load.
    appointment = Appointment.objects.exclude(status__in=Appointment.NOT_LIVE).first()
    row = {f.attname: getattr(appointment, f.attname) for f in Appointment._meta.concrete_fields}
    row.update(id=10**9, request_key=None)
    with pytest.raises(psycopg.errors.ExclusionViolation, match="masseur_no_overlap"), transaction.atomic():
        generate.copy_rows(Appointment, [row])
    assert not Appointment.objects.filter(pk=10**9).exists()
