import datetime

import pytest
import time_machine
from django.db import IntegrityError

from screening.models import Clearance, Contraindication
from sessions.flags.services import baseline_for, flag_acknowledge, flags_raise_for, open_flags
from sessions.models import Appointment, Flag
from tests.sessions.test_masseur_support import NOW, TODAY, at, make_day, past_appointment, screen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_flags_raise_for_a_finding_added_after_booking_raises_added_and_worsened():
    day = make_day()

    flags = flags_raise_for(appointment=day.appointment)

    assert sorted((f.kind, f.severity, f.change_key) for f in flags) == [
        ("added", "warning", f"added:kidney-disease@{day.second_screening.pk}"),
        ("kind_worsened", "critical", f"worsened@{day.second_screening.pk}"),
    ]
    added = next(f for f in flags if f.kind == Flag.Kind.ADDED)
    assert added.what_changed == "New in the screening: Kidney disease."


def test_flags_raise_for_called_twice_raises_each_change_once():
    day = make_day()

    first = flags_raise_for(appointment=day.appointment)
    second = flags_raise_for(appointment=day.appointment)

    assert [f.pk for f in first] == [f.pk for f in second]
    assert Flag.objects.count() == 2


def test_flags_raise_for_nothing_changed_raises_nothing():
    day = make_day(second_finding=None)

    assert flags_raise_for(appointment=day.appointment) == []


def test_flags_raise_for_compares_with_the_screening_in_force_at_the_previous_session():
    day = make_day()
    # The previous session came after the second screening: the change was seen then.
    past_appointment(day, days_ago=1, status=Appointment.Status.COMPLETED)

    baseline = baseline_for(appointment=day.appointment)

    assert baseline.since == "previous session"
    assert baseline.then.pk == day.second_screening.pk
    assert flags_raise_for(appointment=day.appointment) == []


def test_flags_raise_for_a_removed_finding_raises_info():
    day = make_day(second_finding=None)
    screen(day.client, taken_at=at(-1, 9))

    flags = flags_raise_for(appointment=day.appointment)

    assert [(f.kind, f.severity) for f in flags] == [("removed", "info")]
    assert flags[0].what_changed == "No longer in the screening: Allergy to an oil, cream or aroma: rose."


def test_flags_raise_for_a_stale_screening_raises_warning():
    day = make_day(second_finding=None)
    with time_machine.travel(NOW + datetime.timedelta(days=100), tick=False):
        day.appointment.starts_at = at(100, 12)
        flags = flags_raise_for(appointment=day.appointment)

    assert [(f.kind, f.change_key) for f in flags] == [("screening_stale", f"stale@{day.first_screening.pk}")]


def test_flags_raise_for_an_expired_clearance_raises_critical():
    day = make_day(second_finding=None)
    clearance = Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.REFERRAL,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY - datetime.timedelta(days=1),
        covers_massage_type=day.massage_type,
    )

    flags = flags_raise_for(appointment=day.appointment)

    assert [(f.kind, f.severity, f.change_key) for f in flags] == [
        ("clearance_expired", "critical", f"clearance-expired:{clearance.pk}")
    ]


def test_flags_raise_for_a_clearance_ending_within_a_week_raises_info():
    day = make_day(second_finding=None)
    Clearance.objects.create(
        client=day.client,
        kind=Clearance.Kind.PERMISSION,
        doctor_name="Д-р Савченко",
        issued_on=TODAY - datetime.timedelta(days=30),
        valid_until=TODAY + datetime.timedelta(days=3),
        covers_contraindication=Contraindication.objects.get(code="product-allergy"),
    )

    assert [f.kind for f in flags_raise_for(appointment=day.appointment)] == ["clearance_expiring"]


def test_flag_unique_per_change_in_the_database():
    day = make_day()
    Flag.objects.create(appointment=day.appointment, kind="added", what_changed="x", change_key="k")

    with pytest.raises(IntegrityError, match="treatments_flag_once_per_change"):
        Flag.objects.create(appointment=day.appointment, kind="added", what_changed="y", change_key="k")


def test_flag_acknowledge_records_who_and_when_once():
    day = make_day()
    flag = flags_raise_for(appointment=day.appointment)[0]

    flag_acknowledge(flag=flag, by=day.user)
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        again = flag_acknowledge(flag=flag, by=None)

    assert again.acknowledged_by == day.user
    assert again.acknowledged_at == NOW
    assert len(open_flags(appointment=day.appointment)) == 1
