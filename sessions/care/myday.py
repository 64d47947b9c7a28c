"""My day: the masseur's appointments of one day with their verdicts, and who may work on one."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q

from parlor.models import Masseur
from screening import rules
from screening.selectors import (
    clearances_for_many,
    client_facts,
    screenings_in_force_for_many,
    stale_after_days,
    type_facts,
)
from sessions.booking import gate, holds
from sessions.localtime import kyiv
from sessions.models import Appointment, Override


@dataclass(frozen=True)
class DayRow:
    appointment: Appointment
    verdict: rules.Verdict
    session_number: int | None  # this session's place in its course (4 of 10)
    planned: int | None
    open_flags: int
    hold: object | None = None  # the open Hold of an appointment on hold: why, who, when


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = kyiv()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def _verdicts(appointments: list[Appointment], day: datetime.date) -> dict[int, rules.Verdict]:
    """The gate's verdict per appointment (each with its own massage type, as a session of its course, with
    what its overrides cover lifted): five queries however many."""
    client_ids = {a.client_id for a in appointments}
    if not client_ids:
        return {}
    in_force = screenings_in_force_for_many(client_ids, day)
    clearances = clearances_for_many(client_ids, day)
    starts = gate.course_starts(a.course_id for a in appointments if a.course_id)
    covered: dict[int, set[str]] = {}
    for appointment_id, covers in Override.objects.filter(appointment__in=appointments).values_list(
        "appointment_id", "covers"
    ):
        covered.setdefault(appointment_id, set()).update(covers)
    days = stale_after_days()
    return {
        a.pk: rules.evaluate(
            facts=client_facts(a.client),
            massage_type=type_facts(a.massage_type),
            day=day,
            screening=in_force.get(a.client_id),
            clearances=clearances.get(a.client_id, []),
            stale_after_days=days,
            course=gate.course_facts(a.course, starts_on=starts[a.course_id]) if a.course_id in starts else None,
        ).overridden(covered.get(a.pk, ()))
        for a in appointments
    }


def my_day(*, masseur: Masseur, day: datetime.date) -> list[DayRow]:
    """The masseur's live appointments starting on a local day, in order, with verdicts, course progress,
    open flags and why those on hold are. Eight queries whatever the number of appointments (one more when
    any is on hold)."""
    start, end = _day_bounds(day)
    appointments = list(
        Appointment.objects.filter(masseur=masseur, starts_at__gte=start, starts_at__lt=end)
        .exclude(status__in=Appointment.NOT_LIVE)
        .select_related("client", "massage_type", "room", "course")
        .annotate(open_flags=Count("flags", filter=Q(flags__acknowledged_at__isnull=True)))
        .order_by("starts_at")
    )
    # Each course's live sessions in order: "session 4 of 10" is a position among them.
    course_ids = {a.course_id for a in appointments if a.course_id}
    positions: dict[int, list[int]] = {}
    for course_id, pk in (
        Appointment.objects.filter(course_id__in=course_ids)
        .exclude(status__in=Appointment.NOT_LIVE)
        .order_by("starts_at", "pk")
        .values_list("course_id", "pk")
    ):
        positions.setdefault(course_id, []).append(pk)
    verdicts = _verdicts(appointments, day)
    held = holds.open_holds([a.pk for a in appointments if a.status == Appointment.Status.ON_HOLD])
    rows = []
    for a in appointments:
        order = positions.get(a.course_id, [])
        rows.append(
            DayRow(
                appointment=a,
                verdict=verdicts[a.pk],
                session_number=order.index(a.pk) + 1 if a.pk in order else None,
                planned=a.course.planned_sessions if a.course_id else None,
                open_flags=a.open_flags,
                hold=held.get(a.pk),
            )
        )
    return rows


def masseur_of(user) -> Masseur | None:
    """The user's masseur profile, or None."""
    if not user.is_authenticated:
        return None
    return Masseur.objects.filter(user=user).first()


def may_work_on(user, appointment: Appointment) -> bool:
    """The appointment's own masseur, or someone who may review any (the manager)."""
    if user.has_perm("treatments.review_any"):
        return True
    return appointment.masseur.user_id == user.pk and user.has_perm("treatments.view_sessionlog")
