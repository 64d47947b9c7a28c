"""The flag scan as a set (issue 15): what it raises and holds is what flags_check raises and holds one
appointment at a time, in a number of queries that does not grow with the appointments."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from screening.models import Clearance, Contraindication
from sessions.booking import gate
from sessions.flags import scan as flag_scan
from sessions.flags.facts import ScanFacts, with_previous_session
from sessions.flags.services import baseline_for
from sessions.models import Appointment, Flag, Hold, Override
from tests.sessions.test_masseur_support import NOW, TODAY, at, make_day, past_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    cache.delete(flag_scan.LAST_SCAN_KEY)
    with time_machine.travel(NOW, tick=False):
        yield
    cache.delete(flag_scan.LAST_SCAN_KEY)


def _expiring_clearance(day):
    Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.PERMISSION,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY + datetime.timedelta(days=3),
        covers_contraindication=Contraindication.objects.get(code="product-allergy"),
    )


def mixed_days():
    """Clients with every kind of change: a block (held), a relative finding, an expiring clearance, a
    previous completed session, an override of the block, and one with nothing new."""
    blocked = make_day(username="blocked", second_finding="oncology")
    relative = make_day(username="relative")
    expiring = make_day(username="expiring", second_finding=None)
    _expiring_clearance(expiring)
    returning = make_day(username="returning")
    past_appointment(returning, days_ago=1, status=Appointment.Status.COMPLETED)
    overridden = make_day(username="overridden", second_finding="oncology")
    Override.objects.create(appointment=overridden.appointment, covers=["oncology"], reason="Лист лікаря", by=None)
    quiet = make_day(username="quiet", second_finding=None)
    return [blocked, relative, expiring, returning, overridden, quiet]


def outcome():
    return (
        sorted(Flag.objects.values_list("appointment_id", "change_key", "kind", "severity", "what_changed")),
        sorted(Appointment.objects.values_list("pk", "status")),
        sorted(Hold.objects.values_list("appointment_id", "advice", "concerns", "source")),
    )


class Undo(Exception):
    pass


def test_flag_scan_raises_and_holds_what_flags_check_does_one_by_one():
    mixed_days()
    try:
        with transaction.atomic():
            result = flag_scan.flag_scan(now=NOW, since=None)
            by_set = outcome()
            raise Undo
    except Undo:
        pass
    flags = held = 0
    for appointment in flag_scan.due_appointments(now=NOW, since=None):
        checked = flag_scan.flags_check(appointment=appointment, now=NOW)
        flags, held = flags + len(checked.flags), held + checked.held
    assert outcome() == by_set
    assert (result.checked, result.flags, result.held) == (6, flags, held)
    assert held == 1


def test_scan_facts_judge_as_the_gate_and_the_baseline_do():
    mixed_days()
    appointments = list(
        with_previous_session(Appointment.objects.all()).select_related("client", "massage_type", "course")
    )
    facts = ScanFacts.load(appointments)
    for appointment in appointments:
        baseline = facts.baseline(appointment)
        assert baseline == baseline_for(appointment=appointment)
        assert facts.verdict(appointment, latest=baseline.latest) == gate.appointment_gate(appointment)


def _with_changes(count: int, prefix: str):
    """`count` clients with a relative finding since the booking (two flags), an expiring clearance and an appointment
    today after 10:00, each in a course."""
    days = [make_day(username=f"{prefix}{i}") for i in range(count)]
    for i, day in enumerate(days):
        _expiring_clearance(day)
        Appointment.objects.filter(pk=day.appointment.pk).update(
            starts_at=at(0, 11) + datetime.timedelta(minutes=20 * i),
            ends_at=at(0, 11, 40) + datetime.timedelta(minutes=20 * i),
            blocks_until=at(0, 11, 55) + datetime.timedelta(minutes=20 * i),
        )
    return days


def test_flag_scan_queries_same_for_3_and_30_appointments_with_flags_to_raise():
    _with_changes(3, "few")
    with CaptureQueriesContext(connection) as few:
        assert flag_scan.flag_scan(now=NOW, since=None).flags == 3 * 3
    Appointment.objects.all().delete()
    _with_changes(30, "many")
    with CaptureQueriesContext(connection) as many:
        assert flag_scan.flag_scan(now=NOW, since=None).flags == 30 * 3
    # What is due, screenings, findings, clearances, overrides, courses' starts, the flags' INSERT in a
    # savepoint.
    assert len(few) == len(many) == 9


def test_flag_scan_run_again_inserts_no_flag_twice():
    mixed_days()
    flag_scan.flag_scan(now=NOW, since=None)
    first = sorted(Flag.objects.values_list("pk", "change_key"))
    again = flag_scan.flag_scan(now=NOW, since=None)
    assert sorted(Flag.objects.values_list("pk", "change_key")) == first
    # The held one is no longer booked: checked for its flags, not held again.
    assert again.held == 0
